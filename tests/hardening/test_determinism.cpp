// Determinism (issue 7, Build 6): the same inputs and options give a byte-identical model and an
// identical `--json` report (timings, thread counts and output paths aside) across runs and across
// thread counts 1 and 2 — for `qforge quantize` (calibration, QDQ rewrite, export), `qforge eval`,
// `qforge run` and `qforge inspect --save`, and for the library's export.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/cli_fixture.h"
#include "../quant/quantizer_test_models.h"
#include "core/file_io.h"
#include "core/tensor.h"
#include "data/npy.h"
#include "ir/onnx_io.h"
#include "small_models.h"

namespace qforge {
namespace {

std::string mlp_path() { return std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx"; }

// The --json object of a run, without the keys that may differ (timings, threads, paths given).
nlohmann::json report(const cli_test::CliResult& r, std::initializer_list<const char*> drop) {
  EXPECT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  for (const char* k : drop) j.erase(k);
  return j;
}

TEST(HardeningDeterminism, ExportGivesTheSameBytes) {
  ir::Model a = ir::load_onnx(mlp_path());
  ir::Model b = ir::load_onnx(mlp_path());
  std::string sa = ir::serialize_onnx(a);
  EXPECT_EQ(sa, ir::serialize_onnx(b));
  EXPECT_EQ(sa, ir::serialize_onnx(a));
  // Export → import → export is a fixed point.
  EXPECT_EQ(ir::serialize_onnx(ir::parse_onnx(sa, "again.onnx", "")), sa);
  for (const auto& m : hardening::small_models()) {
    SCOPED_TRACE(m.name);
    std::string once = ir::serialize_onnx(ir::parse_onnx(m.proto.SerializeAsString(), m.name, ""));
    EXPECT_EQ(ir::serialize_onnx(ir::parse_onnx(once, m.name, "")), once);
  }
}

using HardeningDeterminismCli = cli_test::Cli;

TEST_F(HardeningDeterminismCli, QuantizeSameBytesAndReportAcrossRunsAndThreads) {
  // The tiny CNN (Conv, BN folded, depthwise, Add, Gemm) calibrated on 24 samples with the entropy
  // method (histograms merged across threads) and with the default (percentile inside, minmax at
  // the graph's ends).
  const std::string model = path("cnn.onnx");
  ir::save_onnx(quant::testmodels::tiny_cnn(), model);
  data::write_npy(path("calib.npy"), quant::testmodels::uniform({24, 1, 8, 8}, -1, 1, 9));
  for (const char* method : {"auto", "entropy"}) {
    SCOPED_TRACE(method);
    std::string bytes[3];
    nlohmann::json json[3];
    const char* threads[3] = {"1", "1", "2"};
    for (int k = 0; k < 3; ++k) {
      const std::string out = path(fmt::format("q{}.onnx", k));
      json[k] = report(run({"quantize", model, "-o", out, "--calib", "npy:" + path("calib.npy"), "--method", method,
                            "--threads", threads[k], "--json"}),
                       {"seconds", "output", "recipe_file", "threads"});
      bytes[k] = read_file(out);
    }
    EXPECT_EQ(bytes[0], bytes[1]) << "two runs, 1 thread";
    EXPECT_EQ(bytes[0], bytes[2]) << "1 thread vs 2";
    EXPECT_EQ(json[0], json[1]);
    EXPECT_EQ(json[0], json[2]);
  }
}

TEST_F(HardeningDeterminismCli, EvalAndRunSameAcrossThreads) {
  Tensor x(DType::f32, {8, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 256) / 255.f;
  data::write_npy(path("x.npy"), x);
  std::string outs[2];
  nlohmann::json run_json[2], eval_json[2];
  for (int k = 0; k < 2; ++k) {
    const std::string t = std::to_string(k + 1), o = path("y" + t + ".npy");
    run_json[k] = report(run({"run", mlp_path(), "--input", path("x.npy"), "--output", o, "--threads", t, "--json"}),
                         {"seconds", "threads"});
    for (auto& oj : run_json[k]["outputs"]) oj.erase("file");
    outs[k] = read_file(o);
    eval_json[k] = report(run({"eval", mlp_path(), "--data", "fashion-mnist:test:200", "--batch", "32", "--threads", t,
                               "--json"}),
                          {"seconds", "threads", "samples_per_second"});
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(run_json[0], run_json[1]);
  EXPECT_EQ(eval_json[0], eval_json[1]);
}

TEST_F(HardeningDeterminismCli, InspectSaveAndJsonAreReproducible) {
  const nlohmann::json a = report(run({"inspect", mlp_path(), "--json", "--save", path("a.onnx")}), {"saved"});
  const nlohmann::json b = report(run({"inspect", mlp_path(), "--json", "--save", path("b.onnx")}), {"saved"});
  EXPECT_EQ(read_file(path("a.onnx")), read_file(path("b.onnx")));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace qforge
