// `qforge quantize` as a user runs it: the output and its recipe, --json keys, byte-identical reruns
// and --recipe replays, and issue 4's bad inputs (exit 2, one stderr line, nothing broken written).
// The model is the tiny MLP of tests/quant/quantizer_test_models.h; calibration data are .npy files.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "data/npy.h"
#include "ir/onnx_io.h"
#include "../quant/quantizer_test_models.h"
#include "cli_fixture.h"

namespace qforge {
namespace {

using namespace cli_test;
namespace fs = std::filesystem;
using Result = CliResult;

class CliQuantize : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    model_ = path("mlp.onnx");
    ir::save_onnx(quant::testmodels::tiny_mlp(), model_);
    calib_ = path("calib.npy");
    data::write_npy(calib_, quant::testmodels::uniform({40, 16}, -1, 1, 5));
  }

  Result run(std::vector<std::string> args) const {
    args.insert(args.begin(), "quantize");
    return Cli::run(args);
  }

  void expect_input_error(const std::vector<std::string>& args, const std::string& must_contain) const {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
  }

  std::string model_, calib_;
};

TEST_F(CliQuantize, Int8JsonReportsSizesNodesAndRanges) {
  const std::string out = path("mlp.q.onnx");
  const Result r = run({model_, "-o", out, "--calib", "npy:" + calib_, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input_bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(model_)));
  EXPECT_EQ(j["output_bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(out)));
  EXPECT_NEAR(j["ratio"].get<double>(), j["input_bytes"].get<double>() / j["output_bytes"].get<double>(), 1e-9);
  EXPECT_EQ(j["nodes_quantized"].get<int>(), 4);  // mm1, add1, relu, fc2
  EXPECT_EQ(j["calibration"]["samples"].get<int>(), 40);
  EXPECT_GT(j["seconds"].get<double>(), 0);
  EXPECT_FALSE(j["activations"].empty());
  for (const auto& t : j["activations"]) EXPECT_TRUE(t.contains("method") && t.contains("min") && t.contains("scale"));
  EXPECT_TRUE(fs::exists(path("mlp.q.recipe.json")));
  const ir::Model q = ir::load_onnx(out);
  ASSERT_FALSE(q.metadata_props.empty());
  EXPECT_EQ(q.metadata_props.back().first, "qforge.recipe");
}

TEST_F(CliQuantize, SameInputsSameBytesAndRecipeReplays) {
  ASSERT_EQ(run({model_, "-o", path("a.onnx"), "--calib", "npy:" + calib_, "--exclude", "add1"}).code, 0);
  ASSERT_EQ(run({model_, "-o", path("b.onnx"), "--calib", "npy:" + calib_, "--exclude", "add1",
                 "--save-calib", path("t.json")})
                .code,
            0);
  EXPECT_EQ(read_file(path("a.onnx")), read_file(path("b.onnx")));
  const Result r = run({model_, "-o", path("c.onnx"), "--calib", "npy:" + calib_, "--recipe", path("a.recipe.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(path("a.onnx")), read_file(path("c.onnx")));
  ASSERT_EQ(run({model_, "-o", path("d.onnx"), "--load-calib", path("t.json"), "--exclude", "add1"}).code, 0);
  EXPECT_EQ(read_file(path("a.onnx")), read_file(path("d.onnx")));
  expect_input_error({model_, "-o", path("e.onnx"), "--recipe", path("a.recipe.json"), "--preset", "w4a8"},
                     "--recipe");
}

TEST_F(CliQuantize, EveryPresetWritesAModel) {
  for (const char* p : {"int8", "int8-dynamic", "w4a8", "w4a16", "nf4", "fp16", "bf16"}) {
    const Result r = run({model_, "-o", path(std::string(p) + ".onnx"), "--calib", "npy:" + calib_, "--preset", p});
    EXPECT_EQ(r.code, 0) << p << ": " << r.err;
    EXPECT_NO_THROW(ir::load_onnx(path(std::string(p) + ".onnx"))) << p;
  }
}

TEST_F(CliQuantize, BadInputsExitTwoWithOneLine) {
  const std::string out = path("out.onnx");
  expect_input_error({model_, "-o", model_, "--calib", "npy:" + calib_}, "input model");
  expect_input_error({model_, "-o", out, "--calib", "npy:" + calib_, "--preset", "int3"}, "unknown preset 'int3'");
  expect_input_error({model_, "-o", out, "--calib", "npy:" + calib_, "--exclude", "nosuch"}, "'nosuch'");
  expect_input_error({model_, "-o", out}, "--calib");
  expect_input_error({model_, "-o", out, "--calib", "npy:" + calib_, "--method", "median"}, "median");
  // Calibration data of the wrong shape, wrong dtype, empty, with NaN.
  data::write_npy(path("shape.npy"), Tensor(DType::f32, {4, 3, 5}));
  expect_input_error({model_, "-o", out, "--calib", "npy:" + path("shape.npy")}, "");
  data::write_npy(path("i64.npy"), Tensor(DType::s64, {4, 16}));
  expect_input_error({model_, "-o", out, "--calib", "npy:" + path("i64.npy")}, "");
  data::write_npy(path("empty.npy"), Tensor(DType::f32, {0, 16}));
  expect_input_error({model_, "-o", out, "--calib", "npy:" + path("empty.npy")}, "empty");
  Tensor nan = quant::testmodels::uniform({4, 16}, -1, 1, 3);
  nan.data<float>()[17] = std::numeric_limits<float>::quiet_NaN();
  data::write_npy(path("nan.npy"), nan);
  expect_input_error({model_, "-o", out, "--calib", "npy:" + path("nan.npy")}, "nan");
  // A model with nothing to quantize: a clear message and no file written.
  ir::Model relu = quant::testmodels::tiny_mlp();
  relu.graph.nodes = {quant::testmodels::make_node("relu", "Relu", {"x"}, {"y"})};
  relu.graph.outputs[0].dims[1] = ir::Dim::known(16);
  relu.graph.initializers.clear();
  relu.graph.initializer_order.clear();
  ir::save_onnx(relu, path("relu.onnx"));
  expect_input_error({path("relu.onnx"), "-o", out, "--calib", "npy:" + calib_}, "nothing to quantize");
  EXPECT_FALSE(fs::exists(out));
  // A recipe file with an unknown key.
  const std::string bad = path("bad.recipe.json");
  write_file_atomic(bad, R"({"format": "qforge-recipe", "version": 1, "weights": {"dtyp": "s8"}})");
  expect_input_error({model_, "-o", out, "--calib", "npy:" + calib_, "--recipe", bad}, "weights.dtyp");
}

TEST_F(CliQuantize, OneCalibrationSampleWarnsAndWorks) {
  data::write_npy(path("one.npy"), quant::testmodels::uniform({1, 16}, -1, 1, 4));
  const Result r = run({model_, "-o", path("o.onnx"), "--calib", "npy:" + path("one.npy")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: one calibration sample"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qforge
