// `qforge qat` as a user runs it: a short run on the bundled MLP (JSON report, a QDQ model that
// qforge eval scores as reported), and the bad inputs of issue 6 — each exit code 2 and one line.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "data/npy.h"

namespace qforge {
namespace {

using namespace cli_test;

std::string mlp_model() { return std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx"; }

// input [N,1,4,4] → Flatten → Gemm → Tanh: Tanh has no backward rule.
ir::Model tanh_model() {
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

void write_dataset(const std::string& x_path, const std::string& y_path, const Shape& sample, int64_t n) {
  Shape s = sample;
  s.insert(s.begin(), n);
  Tensor x(DType::f32, s);
  float v = 0.f;
  for (float& e : x.span<float>()) e = v = std::fmod(v + 0.37f, 1.f);
  Tensor y(DType::s64, {n});
  for (int64_t k = 0; k < n; ++k) y.data<int64_t>()[k] = k % 10;
  data::write_npy(x_path, x);
  data::write_npy(y_path, y);
}

TEST_F(Cli, QatWritesAQdqModelScoredAsReported) {
  CliResult r = run({"qat", mlp_model(), "-o", path("q.onnx"), "--data", "fashion-mnist:train:512", "--val",
                     "fashion-mnist:test:300", "--epochs", "1", "--batch", "64", "--calib-size", "128", "--lsq",
                     "--threads", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"fp32_top1", "ptq_top1", "top1", "best_epoch", "epochs"}) EXPECT_TRUE(j.contains(k)) << k;
  ASSERT_EQ(j["epochs"].size(), 1u);
  EXPECT_TRUE(j["epochs"][0].contains("val_top1"));
  EXPECT_GE(j["top1"].get<double>(), j["ptq_top1"].get<double>());  // the PTQ start is a candidate
  const ir::Model m = ir::load_onnx(path("q.onnx"));
  int q = 0, dq = 0;
  for (const auto& n : m.graph.nodes) {
    EXPECT_NE(n.op_type, "FakeQuant");
    q += n.op_type == "QuantizeLinear";
    dq += n.op_type == "DequantizeLinear";
  }
  EXPECT_GT(q, 0);
  EXPECT_GT(dq, q);  // weights and biases too
  CliResult e = run({"eval", path("q.onnx"), "--data", "fashion-mnist:test:300", "--threads", "2", "--json"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(e.out)["top1"].get<double>(), j["top1"].get<double>());
}

TEST_F(Cli, QatRejectsBadInputWithOneLine) {
  write_dataset(path("x.npy"), path("y.npy"), {1, 28, 28}, 8);
  const std::string data = "npy:" + path("x.npy") + "," + path("y.npy");
  struct Case {
    std::vector<std::string> extra;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--preset", "fp16"}, "--preset fp16"},
      {{"--preset", "int8-dynamic"}, "--preset int8-dynamic"},
      {{"--preset", "nope"}, "nope"},
      {{"--lr", "0"}, "--lr"},
      {{"--epochs", "0"}, "--epochs"},
      {{"--optimizer", "lbfgs"}, "--optimizer"},
      {{"--freeze-bn-after", "-1"}, "--freeze-bn-after"},
      {{"--freeze-bn-after", "one"}, "--freeze-bn-after"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"qat", mlp_model(), "-o", path("o.onnx"), "--data", data};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    CliResult r = run(args);
    EXPECT_EQ(r.code, 2) << c.says << ": " << r.err;
    EXPECT_TRUE(one_error_line(r, c.says));
  }
  // Data that does not fit the model: 4×4 samples into the 28×28 MLP.
  write_dataset(path("s.npy"), path("s_y.npy"), {1, 4, 4}, 8);
  CliResult r = run({"qat", mlp_model(), "-o", path("o.onnx"), "--data", "npy:" + path("s.npy") + "," + path("s_y.npy")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "do not fit"));
  // An op without a backward rule, named.
  ir::save_onnx(tanh_model(), path("tanh.onnx"));
  r = run({"qat", path("tanh.onnx"), "-o", path("o.onnx"), "--data", "npy:" + path("s.npy") + "," + path("s_y.npy")});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "no backward rule for op Tanh"));
  EXPECT_FALSE(fs::exists(path("o.onnx")));
}

TEST_F(Cli, QatStopsOnNanKeepingTheBestCheckpoint) {
  CliResult r = run({"qat", mlp_model(), "-o", path("o.onnx"), "--data", "fashion-mnist:train:256", "--val",
                     "fashion-mnist:test:100", "--calib-size", "64", "--epochs", "2", "--batch", "32", "--schedule",
                     "constant", "--lr", "1e30", "--threads", "1"});
  EXPECT_EQ(r.code, 2) << r.err;
  const std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
  // Fake-quantization bounds every activation, so a huge step rarely gives a NaN loss: the weights
  // diverge instead and the export stops running (int32 accumulators could overflow), or a
  // parameter overflows. Either way: one message, the best checkpoint kept.
  EXPECT_EQ(last.rfind("qforge qat: error: ", 0), 0u) << r.err;
  EXPECT_NE(last.find("kept the best checkpoint (epoch 0) — try a smaller --lr"), std::string::npos) << last;
  // The PTQ start was kept: a valid QDQ model.
  const ir::Model m = ir::load_onnx(path("o.onnx"));
  bool has_q = false;
  for (const auto& n : m.graph.nodes) has_q = has_q || n.op_type == "QuantizeLinear";
  EXPECT_TRUE(has_q);
}

}  // namespace
}  // namespace qforge
