// The built `qforge` binary as a user runs it: exit codes (0 ok, 1 internal, 2 bad input or usage),
// stdout JSON, and one-line stderr messages naming the file, input or option at fault.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "data/dataset.h"
#include "data/npy.h"
#include "ir/onnx_io.h"
#include "../eval/tiny_model.h"
#include "cli_fixture.h"

namespace qforge {
namespace {

using namespace cli_test;
namespace fs = std::filesystem;

TEST_F(Cli, HelpExitsZeroForEveryCommand) {
  for (const char* cmd : {"inspect", "run", "eval", "demo"}) {
    CliResult r = run({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << cmd;
    EXPECT_TRUE(r.err.empty()) << cmd << ": " << r.err;
  }
  CliResult top = run({"--help"});
  EXPECT_EQ(top.code, 0);
  for (const char* cmd : {"inspect", "run", "eval", "demo"}) EXPECT_NE(top.out.find(cmd), std::string::npos);
}

TEST_F(Cli, EvalHelpListsPreprocessingOptions) {
  CliResult r = run({"eval", "--help"});
  for (const char* opt : {"--data", "--batch", "--threads", "--json", "--mean", "--std", "--resize",
                          "--center-crop", "--layout", "--bgr", "--grayscale"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

TEST_F(Cli, VersionPrintsName) {
  CliResult r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("qforge ", 0), 0u) << r.out;
}

TEST_F(Cli, NoArgumentsAndUnknownCommandAreUsageErrors) {
  EXPECT_EQ(run({}).code, 2);
  CliResult r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "frobnicate"));
}

TEST_F(Cli, UnknownOptionIsUsageErrorOnOneLine) {
  // Otherwise complete command lines, so the unknown option is the only problem.
  const std::string m = path("m.onnx");
  const std::vector<std::vector<std::string>> lines = {
      {"inspect", m}, {"run", m, "--input", path("x.npy")}, {"eval", m, "--data", "fashion-mnist:test"}, {"demo"}};
  for (auto args : lines) {
    args.push_back("--no-such-option");
    CliResult r = run(args);
    EXPECT_EQ(r.code, 2) << args[0];
    EXPECT_TRUE(one_error_line(r, "--no-such-option")) << args[0];
    EXPECT_TRUE(r.out.empty()) << args[0];
  }
}

TEST_F(Cli, MissingRequiredArgumentIsUsageError) {
  CliResult r = run({"eval", tiny_model()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "--data"));
  EXPECT_EQ(run({"run", tiny_model()}).code, 2);
  EXPECT_EQ(run({"inspect"}).code, 2);
}

TEST_F(Cli, BadOptionValuesAreUsageErrors) {
  std::string m = tiny_model();
  EXPECT_EQ(run({"eval", m, "--data", "npy:x.npy", "--batch", "0"}).code, 2);
  EXPECT_EQ(run({"eval", m, "--data", "npy:x.npy", "--batch", "many"}).code, 2);
  EXPECT_EQ(run({"eval", m, "--data", "npy:x.npy", "--layout", "nwhc"}).code, 2);
  CliResult r = run({"eval", m, "--data", "npy:x.npy", "--mean", "0.5,abc"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "--mean"));
  EXPECT_EQ(run({"inspect", m, "--opset", "17"}).code, 2);  // --opset needs --save
}

TEST_F(Cli, MissingModelFileNamesThePath) {
  std::string missing = path("no_such_model.onnx");
  for (const char* cmd : {"inspect", "eval", "run"}) {
    std::vector<std::string> args = {cmd, missing};
    if (std::string(cmd) == "eval") args.insert(args.end(), {"--data", "fashion-mnist:test"});
    if (std::string(cmd) == "run") args.insert(args.end(), {"--input", path("x.npy")});
    CliResult r = run(args);
    EXPECT_EQ(r.code, 2) << cmd << ": " << r.err;
    EXPECT_TRUE(one_error_line(r, missing)) << cmd;
  }
}

TEST_F(Cli, TruncatedOrRandomModelBytesAreInputErrors) {
  std::string good = read_file(tiny_model());
  ASSERT_GT(good.size(), 20u);
  std::string truncated = path("truncated.onnx");
  write_file_atomic(truncated, good.substr(0, good.size() / 2));
  CliResult r = run({"inspect", truncated});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(one_error_line(r, "truncated.onnx"));

  std::string noise = path("noise.onnx");
  std::string bytes;
  uint32_t s = 12345;
  for (int i = 0; i < 4096; ++i) {
    s = s * 1664525u + 1013904223u;
    bytes.push_back(static_cast<char>(s >> 24));
  }
  write_file_atomic(noise, bytes);
  r = run({"inspect", noise});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(one_error_line(r, "noise.onnx"));
}

TEST_F(Cli, InspectJsonDescribesTheModel) {
  CliResult r = run({"inspect", tiny_model(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["parameters"], 4);
  EXPECT_EQ(j["nodes"], 2);
  EXPECT_EQ(j["total_bytes"], 16);
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["dtype"], "f32");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse(R"(["N", 1, 2, 2])"));
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json::parse(R"(["N", 4])"));
  EXPECT_EQ(j["ops"].size(), 2u);

  CliResult text = run({"inspect", tiny_model()});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("[N,1,2,2]"), std::string::npos) << text.out;
}

TEST_F(Cli, InspectSaveReexportsAModelThatLoadsAgain) {
  std::string m = tiny_model();
  std::string out = path("saved.onnx");
  CliResult r = run({"inspect", m, "--save", out, "--opset", "13"});
  ASSERT_EQ(r.code, 0) << r.err;
  ir::Model back = ir::load_onnx(out);
  EXPECT_EQ(back.opset(""), 13);
  EXPECT_EQ(back.graph.nodes.size(), 2u);
  EXPECT_NE(back.graph.initializer("bias"), nullptr);
  // Saving over the input is refused.
  CliResult same = run({"inspect", m, "--save", m});
  EXPECT_EQ(same.code, 2);
  EXPECT_EQ(same.err_lines(), 1) << same.err;
}

TEST_F(Cli, RunWritesOutputsAndPrintsSummaries) {
  std::string m = tiny_model();
  std::string x = path("x.npy"), y = path("y.npy");
  data::write_npy(x, Tensor::from_vector<float>(DType::f32, {2, 1, 2, 2}, {1, 2, 3, 4, -1, 0, 0.5f, 8}));
  CliResult r = run({"run", m, "--input", x, "--output", y});
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor out = data::read_npy(y);
  ASSERT_EQ(out.shape(), (Shape{2, 4}));
  EXPECT_EQ(out.to_f32_vector(), (std::vector<float>{1, 2, 3, 4, -1, 0, 0.5f, 8}));
  EXPECT_NE(r.out.find("scores"), std::string::npos) << r.out;

  CliResult j = run({"run", m, "--input", "x=" + x, "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  auto js = nlohmann::json::parse(j.out);
  ASSERT_EQ(js["outputs"].size(), 1u);
  EXPECT_EQ(js["outputs"][0]["name"], "scores");
  EXPECT_EQ(js["outputs"][0]["shape"], nlohmann::json::parse("[2, 4]"));
  EXPECT_DOUBLE_EQ(js["outputs"][0]["min"].get<double>(), -1.0);
  EXPECT_DOUBLE_EQ(js["outputs"][0]["max"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(js["outputs"][0]["mean"].get<double>(), 17.5 / 8.0);
}

TEST_F(Cli, RunWithWrongShapeOrDtypeNamesTheInput) {
  std::string m = tiny_model();
  std::string x = path("x.npy");
  data::write_npy(x, Tensor(DType::f32, {2, 3}));
  CliResult r = run({"run", m, "--input", x});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(one_error_line(r, "'x'"));

  data::write_npy(x, Tensor(DType::u8, {1, 1, 2, 2}));
  r = run({"run", m, "--input", x});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(one_error_line(r, "'x'"));
}

TEST_F(Cli, RunInputAndOutputCountsAreChecked) {
  std::string m = tiny_model();
  std::string x = path("x.npy");
  data::write_npy(x, Tensor(DType::f32, {1, 1, 2, 2}));
  EXPECT_EQ(run({"run", m, "--input", x, "--input", x}).code, 2);
  EXPECT_EQ(run({"run", m, "--input", x, "--output", path("a.npy"), "--output", path("b.npy")}).code, 2);
  CliResult over = run({"run", m, "--input", x, "--output", x});  // would overwrite its input
  EXPECT_EQ(over.code, 2);
  EXPECT_TRUE(one_error_line(over, "x.npy"));
  CliResult missing = run({"run", m, "--input", path("nope.npy")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(one_error_line(missing, "nope.npy"));
}

// Four samples of the pixel classifier, labels chosen so exactly 3 of 4 are right:
//  [0 1 0 0] l1 ok | [5 0 0 0] l0 ok | [0 0 0 2] l3 ok | [1 0 0 0] l2 -> predicted 0
void write_pixel_dataset(const std::string& x, const std::string& labels) {
  data::write_npy(x, Tensor::from_vector<float>(DType::f32, {4, 1, 2, 2},
                                                {0, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0}));
  data::write_npy(labels, Tensor::from_vector<int64_t>(DType::s64, {4}, {1, 0, 3, 2}));
}

TEST_F(Cli, EvalJsonOnNpyDataset) {
  std::string x = path("x.npy"), l = path("labels.npy");
  write_pixel_dataset(x, l);
  CliResult r = run({"eval", tiny_model(), "--data", "npy:" + x + "," + l, "--batch", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // exactly one JSON object on stdout
  EXPECT_EQ(j["samples"], 4);
  EXPECT_DOUBLE_EQ(j["top1"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["top5"].get<double>(), 1.0);
  ASSERT_EQ(j["per_class"].size(), 4u);
  EXPECT_EQ(j["per_class"][2]["count"], 1);
  EXPECT_EQ(j["per_class"][2]["correct"], 0);
  EXPECT_EQ(j["confusion"][2], nlohmann::json::parse("[1, 0, 0, 0]"));
  EXPECT_TRUE(j.contains("seconds"));
  EXPECT_FALSE(r.err.empty());  // the human summary goes to stderr
}

TEST_F(Cli, EvalUnknownDatasetSpecIsInputError) {
  CliResult r = run({"eval", tiny_model(), "--data", "nosuch:x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "nosuch"));
}

TEST_F(Cli, EvalModelThatDoesNotFitTheDataNamesBothShapes) {
  ir::Model m = testing_models::flatten_bias_classifier();
  m.graph.inputs[0].dims = {ir::Dim::symbol("N"), ir::Dim::known(1), ir::Dim::known(3), ir::Dim::known(3)};
  std::string model = path("wide.onnx");
  ir::save_onnx(m, model);
  std::string x = path("x.npy"), l = path("labels.npy");
  write_pixel_dataset(x, l);
  CliResult r = run({"eval", model, "--data", "npy:" + x + "," + l});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "[N,1,3,3]"));
  EXPECT_NE(r.err.find("[N,1,2,2]"), std::string::npos) << r.err;
}

std::string bundled_model() { return std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx"; }
bool have_fashion_mnist() { return fs::exists(fs::path(data::fashion_mnist_dir()) / "t10k-images-idx3-ubyte.gz"); }

TEST_F(Cli, EvalBundledModelOnFashionMnistJson) {
  // The test command installs dataset-fashion-mnist (scripts/deps.sh); its absence is a failure.
  ASSERT_TRUE(fs::exists(bundled_model()) && have_fashion_mnist()) << "needs the bundled model and dataset-fashion-mnist";
  CliResult r = run({"eval", bundled_model(), "--data", "fashion-mnist:test:500", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 500);
  double top1 = j["top1"].get<double>();
  EXPECT_GE(top1, 0.0);
  EXPECT_LE(top1, 1.0);
  EXPECT_GE(j["top5"].get<double>(), top1);
  ASSERT_EQ(j["per_class"].size(), 10u);
  EXPECT_EQ(j["confusion"].size(), 10u);
}

TEST_F(Cli, DemoRunsEndToEnd) {
  // The test command installs dataset-fashion-mnist (scripts/deps.sh); its absence is a failure.
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist";
  // A smaller run than the quick start's (512 calibration samples, 10,000 test images) to keep CI short.
  CliResult r = run({"demo", "--json", "--calib-size", "128", "--test-size", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["test"]["samples"], 1000);
  ASSERT_EQ(j["models"].size(), 3u);
  for (const auto& m : j["models"]) {
    const std::string name = m["model"];
    // Issue 4 asks INT8 to be at least 3.9x smaller than FP32. Int8 weights are 4x smaller; what stays
    // is per-channel: a float32 scale, an int8 zero point and an int32 bias per output channel, plus the
    // QDQ nodes. The CNN's weights reach 3.9x; the MobileNet's depthwise layers (9 weights per channel)
    // cannot (docs/quantization.md reports the ratios): every model must at least pass 3x.
    const double weight_ratio = m["fp32_weight_bytes"].get<double>() / m["int8_weight_bytes"].get<double>();
    if (name == "fmnist_cnn") EXPECT_GE(weight_ratio, 3.9);
    EXPECT_GE(weight_ratio, 3.0) << name;
    EXPECT_GE(m["fp32_bytes"].get<double>() / m["int8_bytes"].get<double>(), 3.0) << name;
    // The bundled models score above 90% (models/README.md); INT8 stays close on 1000 images.
    EXPECT_GT(m["fp32_top1"].get<double>(), 0.90) << name;
    EXPECT_NEAR(m["int8_top1"].get<double>(), m["fp32_top1"].get<double>(), 0.02) << name;
    EXPECT_GT(m["nodes_quantized"].get<int64_t>(), 0) << name;
  }
  EXPECT_NE(r.err.find("what's next"), std::string::npos);
}

TEST_F(Cli, DemoReportsAMissingModelsFolder) {
  CliResult r = run({"demo"}, "QFORGE_MODELS_DIR=" + shell_quote(path("empty")));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r, "fmnist_cnn.onnx"));
}

}  // namespace
}  // namespace qforge
