// qforge quantize MODEL -o OUT [--calib SPEC] [--calib-size N] [--preset P] [--method M] [--percentile P]
//   [--per-tensor] [--exclude a,b] [--exclude-first-last] [--recipe FILE] [--save-calib F] [--load-calib F]
//   [--cle] [--smoothquant ALPHA] [--bias-correction] [--opset N] [--threads T] [--json]
// Writes OUT atomically, OUT's recipe next to it (OUT minus ".onnx" + ".recipe.json") and reports sizes,
// the nodes quantized / left in float and why, the calibration range per tensor and the time taken.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_util.h"
#include "commands.h"
#include "core/file_io.h"
#include "dataset_options.h"
#include "ir/model_files.h"
#include "ir/onnx_io.h"
#include "quant/observer.h"
#include "quant/quantize_pipeline.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

struct QuantizeCmdOptions {
  std::string model, output;
  DatasetOptions calib;
  int64_t calib_size = 512;
  std::string preset = "int8";
  std::string method;
  double percentile = 99.999;
  bool per_tensor = false;
  std::vector<std::string> exclude;
  bool exclude_first_last = false;
  std::string recipe, save_calib, load_calib;
  bool cle = false;
  double smoothquant = 0;
  bool bias_correction = false;
  int64_t opset = 0;
  int threads = 0;
  bool json = false;
};

constexpr int64_t kCalibBatch = 32;

std::string recipe_path_for(const std::string& out) {
  std::string base = out;
  if (base.size() > 5 && base.ends_with(".onnx")) base.resize(base.size() - 5);
  return base + ".recipe.json";
}

std::string human_bytes(int64_t b) {
  if (b >= (int64_t{1} << 20)) return fmt::format("{:.2f} MiB", b / 1048576.0);
  if (b >= 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} B", b);
}

quant::Recipe recipe_from_flags(const CLI::App& app, const QuantizeCmdOptions& o) {
  if (!o.recipe.empty()) {
    for (const char* f : {"--preset", "--method", "--percentile", "--per-tensor", "--exclude", "--exclude-first-last",
                          "--cle", "--smoothquant", "--bias-correction", "--opset", "--calib-size"})
      if (app.count(f)) fail_input("--recipe replays a recipe exactly; it cannot be combined with {}", f);
    return quant::load_recipe(o.recipe);
  }
  quant::Recipe r = quant::recipe_from_preset(o.preset);
  if (!o.method.empty()) {
    if (o.method != "auto" && !quant::find_observer_method(o.method)) {
      std::vector<std::string> names{"auto"};
      for (const auto& m : quant::observer_methods()) names.emplace_back(m.name);
      fail_input("--method '{}' is not one of {}", o.method, fmt::join(names, ", "));
    }
    r.activations.method = o.method;
  }
  if (app.count("--percentile")) r.activations.percentile = o.percentile;
  if (o.per_tensor) {
    if (r.mode == quant::QuantMode::fp16 || r.mode == quant::QuantMode::bf16 || r.weights.dtype == DType::nf4)
      fail_input("--per-tensor does not apply to preset '{}'", r.preset);
    r.weights.granularity = quant::QGranularity::per_tensor;
    r.weights.group_size = 0;
  }
  for (const std::string& e : o.exclude)
    if (!e.empty()) r.exclude.push_back(e);
  r.exclude_first_last = o.exclude_first_last;
  r.cle = o.cle;
  r.smoothquant_alpha = o.smoothquant;
  r.bias_correction = o.bias_correction;
  r.opset = o.opset;
  r.calib_size = o.calib_size;
  quant::check_recipe(r, "(command line)");
  return r;
}

// Batches of up to kCalibBatch samples over the first n samples of the dataset; each call a fresh pass.
quant::BatchSourceFactory batch_factory(data::Dataset& ds, int64_t n) {
  return [&ds, n]() -> quant::BatchSource {
    auto pos = std::make_shared<int64_t>(0);
    return [&ds, n, pos]() -> std::vector<Tensor> {
      if (*pos >= n) return {};
      data::Batch b = ds.read(*pos, std::min(kCalibBatch, n - *pos));
      *pos += kCalibBatch;
      return {b.x};
    };
  };
}

std::string render_text(const QuantizeCmdOptions& o, const quant::Recipe& r, const quant::PipelineResult& p,
                        int64_t in_bytes, int64_t out_bytes, double seconds, const std::string& calib_line) {
  const quant::QuantReport& rep = p.result.report;
  std::string s;
  s += fmt::format("{:<13}{} ({})\n", "model", o.model, human_bytes(in_bytes));
  s += fmt::format("{:<13}{} ({}), {:.2f}x smaller\n", "output", o.output, human_bytes(out_bytes),
                   out_bytes ? static_cast<double>(in_bytes) / out_bytes : 0.0);
  s += fmt::format("{:<13}{} ({}), opset {}, recipe {}\n", "preset", r.preset, rep.mode, rep.opset,
                   recipe_path_for(o.output));
  if (!calib_line.empty()) s += fmt::format("{:<13}{}\n", "calibration", calib_line);
  if (rep.batch_norms_folded) s += fmt::format("{:<13}{} BatchNormalization folded into Conv\n", "", rep.batch_norms_folded);
  s += fmt::format("{:<13}{} quantized, {} fused into their producer, {} left in float\n", "nodes",
                   rep.count(quant::NodeStatus::quantized), rep.count(quant::NodeStatus::fused),
                   rep.count(quant::NodeStatus::float_));
  for (const auto& n : rep.nodes) {
    if (n.status == quant::NodeStatus::quantized)
      s += fmt::format("  quantized  {} ({}){}{}\n", n.node, n.op_type, n.weights.empty() ? "" : ": " + n.weights,
                       n.reason.empty() ? "" : " [" + n.reason + "]");
    else if (n.status == quant::NodeStatus::float_)
      s += fmt::format("  float      {} ({}): {}\n", n.node, n.op_type, n.reason);
  }
  for (const auto& b : rep.bias_adjustments)
    s += fmt::format("  bias       {} of {}: int32 overflow avoided, {} weight scales of '{}' enlarged (up to {:.3g}x){}\n",
                     b.bias, b.node, b.channels, b.weight, b.max_ratio,
                     b.saturated ? fmt::format(", {} values saturated", b.saturated) : "");
  if (!rep.activations.empty()) {
    s += fmt::format("activations  {:<32} {:<11} {:>12} {:>12} {:>12} {:>4}\n", "tensor", "method", "min", "max",
                     "scale", "zp");
    for (const auto& t : rep.activations)
      s += fmt::format("  {:<43} {:<11} {:>12.6g} {:>12.6g} {:>12.6g} {:>4}\n", t.tensor,
                       t.method == "shared" ? "=" + t.shared_with : t.method, t.min, t.max, t.scale, t.zero_point);
  }
  if (p.cle) s += fmt::format("{:<13}{} pairs equalized in {} rounds\n", "cle", p.cle->pairs.size(), p.cle->rounds);
  if (p.smoothquant)
    s += fmt::format("{:<13}alpha {}, {} groups smoothed\n", "smoothquant", p.smoothquant->alpha, p.smoothquant->groups.size());
  if (p.bias_correction)
    s += fmt::format("{:<13}{} nodes corrected\n", "bias corr.", p.bias_correction->nodes.size());
  s += fmt::format("{:<13}{:.2f} s\n", "time", seconds);
  return s;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  QuantizeCmdOptions o;
  CLI::App app{"Post-training quantization of an FP32 ONNX model to QDQ ONNX (runs in qforge and ONNX Runtime). "
               "Static presets calibrate activation ranges on --calib data; the recipe of every choice is written "
               "next to the output and replays with --recipe.",
               "qforge quantize"};
  app.add_option("model", o.model, "the FP32 ONNX model")->required();
  app.add_option("-o,--output", o.output, "the quantized model to write")->required();
  add_dataset_options(app, o.calib, "--calib");
  app.get_option("--calib")->required(false);  // not needed with --load-calib or a non-static preset
  app.add_option("--calib-size", o.calib_size, "calibration samples (the first N of --calib)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  std::string presets_help = "preset:";
  for (const auto& p : quant::recipe_presets()) presets_help += fmt::format("\n  {:<13} {}", p.name, p.description);
  app.add_option("--preset", o.preset, presets_help)->capture_default_str();
  app.add_option("--method", o.method,
                 "activation calibration: auto (minmax for graph inputs/outputs, percentile elsewhere), minmax, "
                 "moving-average, percentile, entropy, mse");
  app.add_option("--percentile", o.percentile, "percentile method: the kept percentage")
      ->check(CLI::Range(1e-9, 100.0))
      ->capture_default_str();
  app.add_flag("--per-tensor", o.per_tensor, "one weight scale per tensor instead of per channel / group");
  app.add_option("--exclude", o.exclude, "node names or op types to leave in float (comma-separated)")->delimiter(',');
  app.add_flag("--exclude-first-last", o.exclude_first_last, "leave the first and last Conv/Gemm/MatMul in float");
  app.add_option("--recipe", o.recipe, "replay a recipe file (OUT.recipe.json of an earlier run)");
  app.add_option("--save-calib", o.save_calib, "write the calibration table (JSON)");
  app.add_option("--load-calib", o.load_calib, "use a saved calibration table instead of calibrating");
  app.add_flag("--cle", o.cle, "cross-layer equalization before calibration");
  app.add_option("--smoothquant", o.smoothquant, "SmoothQuant migration strength alpha (0 = off)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--bias-correction", o.bias_correction, "empirical bias correction after quantization");
  app.add_option("--opset", o.opset, "default-domain opset to write (0 = the lowest the export needs)")
      ->check(CLI::Range(int64_t{0}, int64_t{21}));
  add_threads_option(app, o.threads);
  app.add_flag("--json", o.json, "print one JSON object on stdout (the human summary goes to stderr)");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  const auto t0 = std::chrono::steady_clock::now();
  namespace fs = std::filesystem;
  if (o.output == o.model || same_file(o.output, o.model) ||
      (fs::exists(o.model) && fs::weakly_canonical(o.output) == fs::weakly_canonical(o.model)))
    fail_input("output '{}' is the input model; write the quantized model to another path", o.output);
  const quant::Recipe recipe = recipe_from_flags(app, o);
  const ir::Model model = ir::load_onnx(o.model);
  // Outputs never replace the model or an external-data file it references (by file identity).
  const std::vector<std::string> inputs = ir::model_files(o.model);
  for (const std::string& out : {o.output, recipe_path_for(o.output), o.save_calib})
    for (const std::string& in : inputs)
      if (!out.empty() && same_file(out, in)) fail_input("output '{}' is the input file '{}'; write it to another path", out, in);

  std::optional<quant::CalibTable> loaded;
  if (!o.load_calib.empty()) loaded = quant::load_calib_table(o.load_calib);
  std::unique_ptr<data::Dataset> ds;
  quant::BatchSourceFactory factory;
  std::string calib_line;
  if (!o.calib.spec.empty()) {
    ds = open_dataset(o.calib);
    if (ds->size() == 0) fail_input("calibration set '{}' is empty", o.calib.spec);
    const int64_t n = std::min<int64_t>(recipe.calib_size, ds->size());
    if (n == 1)
      std::fprintf(stderr, "qforge quantize: warning: one calibration sample: activation ranges will not "
                           "represent other inputs\n");
    factory = batch_factory(*ds, n);
    calib_line = fmt::format("{} samples from {}", n, o.calib.spec);
  } else if (!loaded && recipe.mode == quant::QuantMode::static_) {
    fail_input("preset '{}' calibrates activations: give --calib SPEC (or --load-calib FILE)", recipe.preset);
  }
  if (loaded) calib_line = fmt::format("table {} ({} samples)", o.load_calib, loaded->samples);

  quant::PipelineResult p =
      quant::quantize_pipeline(model, recipe, factory ? &factory : nullptr, loaded ? &*loaded : nullptr, o.threads);
  if (p.table && !loaded && !calib_line.empty())
    calib_line += fmt::format(", {} batches{}", p.table->batches,
                              recipe.activations.method == "auto" ? ", method auto (minmax for graph I/O, percentile "
                                                                    "elsewhere)"
                                                                  : ", method " + recipe.activations.method);
  const std::string bytes = ir::serialize_onnx(p.result.model);
  ir::write_model_file(o.output, bytes, inputs);
  write_file_atomic(recipe_path_for(o.output), quant::recipe_dump(recipe, true), inputs);
  if (!o.save_calib.empty() && p.table) quant::save_calib_table(*p.table, o.save_calib);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const int64_t in_bytes = static_cast<int64_t>(fs::file_size(o.model));
  const int64_t out_bytes = static_cast<int64_t>(bytes.size());
  const std::string text = render_text(o, recipe, p, in_bytes, out_bytes, seconds, calib_line);
  if (!o.json) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::fputs(text.c_str(), stderr);
  report::Json j;
  j["model"] = o.model;
  j["output"] = o.output;
  j["recipe_file"] = recipe_path_for(o.output);
  j["input_bytes"] = in_bytes;
  j["output_bytes"] = out_bytes;
  j["ratio"] = out_bytes ? static_cast<double>(in_bytes) / out_bytes : 0.0;
  j["preset"] = recipe.preset;
  if (p.table) {
    report::Json c;
    c["source"] = loaded ? o.load_calib : o.calib.spec;
    c["samples"] = p.table->samples;
    c["batches"] = p.table->batches;
    j["calibration"] = std::move(c);
  }
  j.update(quant::quant_report_to_json(p.result.report));
  j["recipe"] = quant::recipe_to_json(recipe);
  if (p.cle) j["cle_pairs"] = p.cle->pairs.size();
  if (p.smoothquant) j["smoothquant_groups"] = p.smoothquant->groups.size();
  if (p.bias_correction) j["bias_corrected_nodes"] = p.bias_correction->nodes.size();
  j["seconds"] = seconds;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace qforge::cli
