// `qforge train` as a user runs it: a deterministic short run of each architecture, fine-tuning an
// imported model, and every bad input of issue 3 ending with exit code 2 and one line.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "data/npy.h"

namespace qforge {
namespace {

using namespace cli_test;

// Labelled npy dataset: `n` samples of `sample` shape (values in [0, 1)) and the given labels.
void write_npy_dataset(const std::string& x_path, const std::string& y_path, const Shape& sample,
                       const std::vector<int64_t>& labels) {
  Shape s = sample;
  s.insert(s.begin(), static_cast<int64_t>(labels.size()));
  Tensor x(DType::f32, s);
  float v = 0.f;
  for (float& e : x.span<float>()) e = v = std::fmod(v + 0.37f, 1.f);
  Tensor y(DType::s64, {static_cast<int64_t>(labels.size())});
  std::copy(labels.begin(), labels.end(), y.data<int64_t>());
  data::write_npy(x_path, x);
  data::write_npy(y_path, y);
}

// input [N,1,4,4] → Flatten → Gemm → Tanh: Tanh has no backward rule.
ir::Model tanh_classifier() {
  ir::Model m;
  m.opsets = {{"", 17}};
  m.graph.inputs = {testing_models::value("x", {ir::Dim::symbol("N"), ir::Dim::known(1), ir::Dim::known(4),
                                                ir::Dim::known(4)})};
  m.graph.outputs = {testing_models::value("y", {ir::Dim::symbol("N"), ir::Dim::known(10)})};
  auto add = [&](std::string name, std::string op, std::vector<std::string> in, std::string out) {
    ir::Node n;
    n.name = std::move(name), n.op_type = std::move(op), n.inputs = std::move(in), n.outputs = {std::move(out)};
    m.graph.nodes.push_back(std::move(n));
  };
  add("flat", "Flatten", {"x"}, "f");
  add("fc", "Gemm", {"f", "w", "b"}, "g");
  add("squash", "Tanh", {"g"}, "y");
  m.graph.add_initializer("w", Tensor(DType::f32, {16, 10}));
  m.graph.add_initializer("b", Tensor(DType::f32, {10}));
  return m;
}

std::string mlp() { return std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx"; }

TEST_F(Cli, TrainIsDeterministicForASeedAndWritesAStandardModel) {
  for (const char* arch : {"cnn", "mobilenet", "resnet"}) {
    const std::vector<std::string> args = {"train", "--arch", arch, "--data", "fashion-mnist:train:96", "--epochs",
                                           "1", "--batch", "32", "--seed", "5", "--threads", "2", "--crop-pad", "2",
                                           "--hflip", "--json"};
    auto with_out = [&](const std::string& out) {
      auto a = args;
      a.insert(a.end(), {"-o", out});
      return a;
    };
    CliResult a = run(with_out(path("a.onnx")));
    ASSERT_EQ(a.code, 0) << arch << ": " << a.err;
    CliResult b = run(with_out(path("b.onnx")));
    ASSERT_EQ(b.code, 0) << arch << ": " << b.err;
    EXPECT_EQ(read_file(path("a.onnx")), read_file(path("b.onnx"))) << arch << ": same seed, different model";
    const auto j = nlohmann::json::parse(a.out);
    ASSERT_EQ(j["epochs"].size(), 1u);
    EXPECT_GT(j["epochs"][0]["loss"].get<double>(), 0.0);

    const ir::Model m = ir::load_onnx(path("a.onnx"));
    ASSERT_EQ(m.graph.inputs.size(), 1u);
    EXPECT_EQ(m.graph.inputs[0].dims[1].value, 1);
    EXPECT_EQ(m.graph.inputs[0].dims[2].value, 28);
    EXPECT_EQ(m.graph.outputs[0].dims[1].value, 10);
    int bn = 0;
    for (const auto& n : m.graph.nodes) bn += n.op_type == "BatchNormalization";
    EXPECT_GT(bn, 0) << arch << ": BatchNormalization nodes must stay in the export";
  }
}

TEST_F(Cli, TrainFineTunesAnImportedModel) {
  CliResult r = run({"train", "--model", mlp(), "--data", "fashion-mnist:train:512", "--val", "fashion-mnist:test:500",
                     "--epochs", "1", "--lr", "0.0001", "--schedule", "constant", "--threads", "2", "-o",
                     path("tuned.onnx"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // The bundled MLP scores 0.8961 on the whole test set; one tiny step of fine-tuning keeps it near.
  EXPECT_GT(j["epochs"][0]["val_top1"].get<double>(), 0.80);
}

TEST_F(Cli, TrainRejectsBadOptions) {
  const std::vector<std::string> base = {"train", "--data", "fashion-mnist:train:64", "-o", path("o.onnx")};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return run(a);
  };
  struct Case {
    std::vector<std::string> extra;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--arch", "vgg"}, "unknown architecture 'vgg'"},
      {{"--arch", "cnn", "--lr", "0"}, "--lr"},
      {{"--arch", "cnn", "--lr", "-0.1"}, "--lr"},
      {{"--arch", "cnn", "--epochs", "0"}, "--epochs"},
      {{"--arch", "cnn", "--epochs", "-2"}, "--epochs"},
      {{"--arch", "cnn", "--batch", "0"}, "--batch"},
      {{"--arch", "cnn", "--optimizer", "lbfgs"}, "--optimizer"},
      {{"--arch", "cnn", "--schedule", "step"}, "--schedule"},
      {{}, "--arch"},
      {{"--arch", "cnn", "--model", mlp()}, "--model"},
  };
  for (const Case& c : cases) {
    CliResult r = with(c.extra);
    EXPECT_EQ(r.code, 2) << c.says << ": " << r.err;
    EXPECT_TRUE(one_error_line(r, c.says));
  }
  EXPECT_FALSE(fs::exists(path("o.onnx")));
}

TEST_F(Cli, TrainRejectsDataThatDoesNotFitTheModel) {
  // 32×32 images into the 28×28 MLP.
  write_npy_dataset(path("big.npy"), path("big_y.npy"), {1, 32, 32}, {0, 1, 2, 3});
  CliResult r = run({"train", "--model", mlp(), "--data", "npy:" + path("big.npy") + "," + path("big_y.npy"), "-o",
                     path("o.onnx")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "do not fit"));
  // Labels up to 11 for a 10-class model.
  write_npy_dataset(path("x.npy"), path("y.npy"), {1, 28, 28}, {0, 11, 3, 4});
  r = run({"train", "--model", mlp(), "--data", "npy:" + path("x.npy") + "," + path("y.npy"), "-o", path("o.onnx")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "labels go up to 11"));
  EXPECT_FALSE(fs::exists(path("o.onnx")));
}

TEST_F(Cli, TrainNamesTheOpWithoutABackwardRule) {
  ir::save_onnx(tanh_classifier(), path("tanh.onnx"));
  write_npy_dataset(path("x.npy"), path("y.npy"), {1, 4, 4}, {0, 1, 2, 3});
  CliResult r = run({"train", "--model", path("tanh.onnx"), "--data", "npy:" + path("x.npy") + "," + path("y.npy"),
                     "-o", path("o.onnx")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "no backward rule for op Tanh"));
  EXPECT_FALSE(fs::exists(path("o.onnx")));
}

TEST_F(Cli, TrainStopsOnANonFiniteLossKeepingTheLastGoodWeights) {
  CliResult r = run({"train", "--model", mlp(), "--data", "fashion-mnist:train:256", "--epochs", "2", "--batch", "32",
                     "--optimizer", "sgd", "--schedule", "constant", "--lr", "1e30", "--threads", "1", "-o",
                     path("o.onnx")});
  EXPECT_EQ(r.code, 2) << r.err;
  // The run's header line comes first; the error is the last line.
  const std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  EXPECT_EQ(last.rfind("qforge train: error: the loss became NaN", 0), 0u) << r.err;
  // The weights written are the start (no epoch completed): the input model's weights.
  const ir::Model in = ir::load_onnx(mlp()), out = ir::load_onnx(path("o.onnx"));
  for (const auto& [name, t] : in.graph.initializers) {
    const Tensor* o = out.graph.initializer(name);
    ASSERT_NE(o, nullptr) << name;
    EXPECT_EQ(std::string_view(static_cast<const char*>(t.raw()), t.nbytes()),
              std::string_view(static_cast<const char*>(o->raw()), o->nbytes()))
        << name;
  }
}

TEST_F(Cli, TrainRefusesToOverwriteItsInput) {
  fs::copy_file(mlp(), path("m.onnx"));
  const std::string before = read_file(path("m.onnx"));
  CliResult r = run({"train", "--model", path("m.onnx"), "--data", "fashion-mnist:train:64", "-o", path("m.onnx")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "overwrite"));
  EXPECT_EQ(read_file(path("m.onnx")), before);
}

}  // namespace
}  // namespace qforge
