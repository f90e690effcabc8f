// `qforge analyze` as a user runs it (the built binary, like tests/cli/test_cli.cpp): exit codes, the
// JSON object on stdout, the human report, and one-line errors for the bad inputs of issue 4 item 8.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../eval/tiny_model.h"
#include "../quant/ptq_test_util.h"
#include "core/file_io.h"
#include "data/npy.h"
#include "ir/onnx_io.h"

namespace qforge {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out, err;
  int err_lines() const { return static_cast<int>(std::count(err.begin(), err.end(), '\n')); }
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / fmt::format("qforge_analyze_cli_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // FP32: x [N,1,2,2] → Flatten → flat → Add(bias) → scores [N,4]; QDQ: x through Q/DQ (u8, 1/255).
    ir::Model fp = testing_models::flatten_bias_classifier();
    ir::Model q = fp;
    ptq_test::quantize_activation(q.graph, "x", 1.0f / 255, 0);
    ir::save_onnx(fp, path("fp32.onnx"));
    ir::save_onnx(q, path("quant.onnx"));
    data::write_npy(path("x.npy"), ptq_test::uniform({6, 1, 2, 2}, 3, 0.0f, 1.0f));
    data::write_npy(path("labels.npy"), Tensor::from_vector<int64_t>(DType::s64, {6}, {0, 1, 2, 3, 0, 1}));
    data::write_npy(path("wrong.npy"), ptq_test::uniform({6, 5}, 4, 0.0f, 1.0f));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string data() const { return "npy:" + path("x.npy") + "," + path("labels.npy"); }

  Result run(const std::vector<std::string>& args) const {
    std::string cmd = quote(QFORGE_CLI) + " analyze";
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += fmt::format(" >{} 2>{} </dev/null", quote(path("stdout")), quote(path("stderr")));
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(path("stdout"));
    r.err = read_file(path("stderr"));
    return r;
  }

  fs::path dir_;
};

::testing::AssertionResult one_error_line(const Result& r, const std::string& must_contain) {
  if (r.code != 2) return ::testing::AssertionFailure() << "exit code " << r.code << ": " << r.err;
  if (r.err_lines() != 1) return ::testing::AssertionFailure() << "stderr is not one line: " << r.err;
  if (r.err.find(must_contain) == std::string::npos)
    return ::testing::AssertionFailure() << "stderr lacks '" << must_contain << "': " << r.err;
  return ::testing::AssertionSuccess();
}

TEST_F(AnalyzeCli, HelpListsOptions) {
  const Result r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"--data", "--samples", "--top", "--batch", "--threads", "--no-sensitivity", "--json", "--mean"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

TEST_F(AnalyzeCli, JsonReport) {
  const Result r = run({path("fp32.onnx"), path("quant.onnx"), "--data", data(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 6);
  EXPECT_EQ(j["quantized_values"], 1);
  std::vector<std::string> values;
  for (const auto& l : j["layers"]) values.push_back(l["value"]);
  EXPECT_EQ(values, (std::vector<std::string>{"x", "flat", "scores"}));
  EXPECT_TRUE(j["layers"][0]["quantized"].get<bool>());  // x goes through Q/DQ
  EXPECT_FALSE(j["layers"][1]["quantized"].get<bool>());
  EXPECT_FALSE(j["layers"][1]["exact"].get<bool>());
  EXPECT_TRUE(j["layers"][0]["own_sqnr_db"].is_number());
  EXPECT_TRUE(j["layers"][1]["own_sqnr_db"].is_null());
  EXPECT_EQ(j["layers"][1]["fp32_op_type"], "Flatten");
  EXPECT_TRUE(j["output"]["sqnr_db"].is_number());
  EXPECT_TRUE(j["accuracy"]["fp32_top1"].is_number());
  ASSERT_EQ(j["sensitivity"].size(), 1u);  // the Flatten reads the DequantizeLinear output
  EXPECT_EQ(j["sensitivity"][0]["node"], "flatten");
  ASSERT_EQ(j["fallbacks"].size(), 1u);
  EXPECT_EQ(j["fallbacks"][0]["node"], "add_bias");
  EXPECT_EQ(j["class_drift"].size(), 4u);
  EXPECT_NE(r.err.find("worst"), std::string::npos);  // the human report went to stderr
}

TEST_F(AnalyzeCli, HumanReport) {
  const Result r = run({path("fp32.onnx"), path("quant.onnx"), "--data", data(), "--top", "2", "--samples", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"4 samples", "worst 2 of 3 values", "sensitivity", "classes that drifted most",
                        "fallback to float (1)", "add_bias (Add): no input is quantized"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST_F(AnalyzeCli, BadInputIsExitTwoOnOneLine) {
  EXPECT_TRUE(one_error_line(run({path("fp32.onnx"), path("fp32.onnx"), "--data", data()}), "not a QDQ model"));
  EXPECT_TRUE(one_error_line(run({path("quant.onnx"), path("quant.onnx"), "--data", data()}), "already quantized"));
  EXPECT_TRUE(one_error_line(run({path("fp32.onnx"), path("quant.onnx"), "--data", "npy:" + path("wrong.npy")}),
                             "[N,5]"));
  ir::Model other = ir::load_onnx(path("quant.onnx"));
  other.graph.inputs[0].dims[1] = ir::Dim::known(3);
  ir::save_onnx(other, path("other.onnx"));
  EXPECT_TRUE(one_error_line(run({path("fp32.onnx"), path("other.onnx"), "--data", data()}), "inputs differ"));
  EXPECT_TRUE(one_error_line(run({path("fp32.onnx"), path("missing.onnx"), "--data", data()}), "missing.onnx"));
  EXPECT_EQ(run({path("fp32.onnx"), "--data", data()}).code, 2);  // QUANT missing
}

}  // namespace
}  // namespace qforge
