// qforge demo [--json] [--threads T] [--calib-size N] [--test-size N]: the quick start's main job — the
// whole loop on the bundled Fashion-MNIST models: calibrate on 512 training images, quantize to INT8
// (per channel, and per tensor to show the difference), evaluate FP32 vs INT8 on the test set, and
// print one side-by-side table of size, accuracy and speed.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "data/dataset.h"
#include "dataset_options.h"
#include "eval/evaluate.h"
#include "ir/onnx_io.h"
#include "quant/quantize_pipeline.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

constexpr const char* kModels[] = {"fmnist_cnn", "fmnist_mobilenet", "fmnist_resnet"};
constexpr const char* kCalibData = "fashion-mnist:train";
constexpr const char* kTestData = "fashion-mnist:test";

struct DemoOptions {
  bool json = false;
  int threads = 0;
  int64_t calib_size = 512;
  int64_t test_size = 0;  // 0: the whole test set
};

struct Row {
  std::string name;
  int64_t fp32_bytes = 0, int8_bytes = 0;                // serialized model files
  int64_t fp32_weight_bytes = 0, int8_weight_bytes = 0;  // initializers only
  double fp32_top1 = 0, int8_top1 = 0, per_tensor_top1 = 0;
  double fp32_ips = 0, int8_ips = 0;  // images/s of the evaluation (batch 64)
  int64_t quantized = 0, left_float = 0;
};

quant::PipelineResult quantize(const ir::Model& m, bool per_tensor, const quant::BatchSourceFactory& calib,
                               int threads) {
  quant::Recipe r = quant::recipe_from_preset("int8");
  if (per_tensor) r.weights.granularity = quant::QGranularity::per_tensor;
  return quant::quantize_pipeline(m, r, &calib, nullptr, threads);
}

std::string mb(int64_t bytes) { return fmt::format("{:.2f} MB", static_cast<double>(bytes) / 1e6); }

std::string render_table(const std::vector<Row>& rows) {
  std::string s = fmt::format("{:<18}{:>10}{:>10}{:>7}{:>11}{:>11}{:>8}{:>13}{:>10}{:>10}{:>9}\n", "model",
                              "FP32", "INT8", "ratio", "FP32 top1", "INT8 top1", "drop", "per-tensor", "FP32 i/s",
                              "INT8 i/s", "speedup");
  for (const Row& r : rows)
    s += fmt::format("{:<18}{:>10}{:>10}{:>6.2f}x{:>10.2f}%{:>10.2f}%{:>8.2f}{:>12.2f}%{:>10.0f}{:>10.0f}{:>8.2f}x\n",
                     r.name, mb(r.fp32_bytes), mb(r.int8_bytes),
                     static_cast<double>(r.fp32_bytes) / static_cast<double>(r.int8_bytes), 100 * r.fp32_top1,
                     100 * r.int8_top1, 100 * (r.fp32_top1 - r.int8_top1), 100 * r.per_tensor_top1, r.fp32_ips,
                     r.int8_ips, r.int8_ips / r.fp32_ips);
  return s;
}

}  // namespace

int cmd_demo(int argc, char** argv) {
  DemoOptions o;
  CLI::App app{fmt::format("The whole loop on the bundled Fashion-MNIST models (models/fmnist_cnn, _mobilenet, "
                           "_resnet): calibrate on {} samples of {}, quantize to INT8 (preset int8, and per tensor "
                           "to show the difference), evaluate FP32 vs INT8 on {}, and print a side-by-side table "
                           "of file size, top-1 and speed. Nothing is written.",
                           o.calib_size, kCalibData, kTestData),
               "qforge demo"};
  app.add_flag("--json", o.json, "print one JSON object on stdout (the walkthrough goes to stderr)");
  add_threads_option(app, o.threads);
  app.add_option("--calib-size", o.calib_size, "calibration samples")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--test-size", o.test_size, "test samples (0 = all 10,000)")->check(CLI::Range(0, 10000));
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  const auto t0 = std::chrono::steady_clock::now();
  std::FILE* human = o.json ? stderr : stdout;
  const std::string test_spec = o.test_size > 0 ? fmt::format("{}:{}", kTestData, o.test_size) : kTestData;
  std::unique_ptr<data::Dataset> calib_ds = data::open_dataset(kCalibData);
  std::unique_ptr<data::Dataset> test_ds = data::open_dataset(test_spec);
  const quant::BatchSourceFactory calib = calib_batches(*calib_ds, o.calib_size);
  std::fprintf(human,
               "qforge demo: post-training INT8 quantization of the bundled models\n"
               "  calibration  %lld samples of %s\n  evaluation   %s (%lld images), batch 64, %s threads\n\n",
               static_cast<long long>(o.calib_size), kCalibData, test_spec.c_str(),
               static_cast<long long>(test_ds->size()), o.threads ? std::to_string(o.threads).c_str() : "all");
  std::fflush(human);

  eval::EvalOptions eo;
  eo.threads = o.threads;
  std::vector<Row> rows;
  for (const char* name : kModels) {
    const std::string path = find_bundled_model(std::string(name) + ".onnx");
    const ir::Model fp32 = ir::load_onnx(path);
    Progress progress(name);
    eo.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    Row row;
    row.name = name;
    row.fp32_bytes = static_cast<int64_t>(ir::serialize_onnx(fp32).size());
    const eval::EvalResult f = eval::evaluate(fp32, *test_ds, eo);
    const quant::PipelineResult pc = quantize(fp32, false, calib, o.threads);
    row.int8_bytes = static_cast<int64_t>(ir::serialize_onnx(pc.result.model).size());
    row.fp32_weight_bytes = pc.result.report.weight_bytes_before;
    row.int8_weight_bytes = pc.result.report.weight_bytes_after;
    row.quantized = pc.result.report.count(quant::NodeStatus::quantized);
    row.left_float = pc.result.report.count(quant::NodeStatus::float_);
    const eval::EvalResult q = eval::evaluate(pc.result.model, *test_ds, eo);
    const quant::PipelineResult pt = quantize(fp32, true, calib, o.threads);
    const eval::EvalResult qt = eval::evaluate(pt.result.model, *test_ds, eo);
    progress.finish();
    row.fp32_top1 = f.metrics.top1(), row.int8_top1 = q.metrics.top1(), row.per_tensor_top1 = qt.metrics.top1();
    row.fp32_ips = f.samples_per_second(), row.int8_ips = q.samples_per_second();
    rows.push_back(row);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(human, "%s\n", render_table(rows).c_str());
  std::fprintf(human,
               "INT8 = preset int8: per-channel symmetric int8 weights, asymmetric uint8 activations, BatchNorm\n"
               "folded; per-tensor = the same with one weight scale per tensor. i/s = images per second of the\n"
               "evaluation. Done in %.1f s.\n\n"
               "== what's next\n"
               "  qforge quantize MODEL -o OUT.onnx --calib fashion-mnist:train   quantize a model (QDQ ONNX)\n"
               "  qforge analyze MODEL OUT.onnx --data fashion-mnist:test          find the layers that broke\n"
               "  qforge bench MODEL OUT.onnx                                      FP32 vs INT8 latency\n"
               "  qforge train --arch cnn --data fashion-mnist:train -o cnn.onnx   train your own\n",
               seconds);
  if (o.json) {
    report::Json j;
    j["calibration"] = {{"data", kCalibData}, {"samples", o.calib_size}};
    j["test"] = {{"data", test_spec}, {"samples", test_ds->size()}};
    j["models"] = report::Json::array();
    for (const Row& r : rows)
      j["models"].push_back({{"model", r.name},
                             {"fp32_bytes", r.fp32_bytes},
                             {"int8_bytes", r.int8_bytes},
                             {"fp32_weight_bytes", r.fp32_weight_bytes},
                             {"int8_weight_bytes", r.int8_weight_bytes},
                             {"fp32_top1", r.fp32_top1},
                             {"int8_top1", r.int8_top1},
                             {"int8_per_tensor_top1", r.per_tensor_top1},
                             {"fp32_images_per_s", r.fp32_ips},
                             {"int8_images_per_s", r.int8_ips},
                             {"nodes_quantized", r.quantized},
                             {"nodes_float", r.left_float}});
    j["seconds"] = seconds;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace qforge::cli
