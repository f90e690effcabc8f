// qforge analyze FP32 QUANT --data SPEC [--samples N] [--top N] [--batch B] [--threads T]
//                [--no-sensitivity] [--json] [preprocessing options]
// Renders eval::analyze (src/eval/analyze.h): numbers are computed there, laid out here.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "dataset_options.h"
#include "eval/analyze.h"
#include "ir/onnx_io.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

struct AnalyzeCmdOptions {
  std::string fp32, quant;
  DatasetOptions data;
  int64_t samples = 1000;
  int top = 10;
  int batch = 32;
  int threads = 0;
  bool no_sensitivity = false;
  bool json = false;
};

std::string db(double v) {
  if (std::isinf(v)) return v > 0 ? "exact" : "-inf";
  return fmt::format("{:.2f}", v);
}

std::string pct(double fraction) { return fmt::format("{:.2f} %", 100.0 * fraction); }

report::Json db_json(double v) { return std::isfinite(v) ? report::Json(v) : report::Json(nullptr); }

report::Json stats_json(const eval::ErrorStats& s) {
  report::Json j;
  j["sqnr_db"] = db_json(s.sqnr_db());  // null when exact (no error) or when the reference is all zeros
  j["exact"] = s.exact();
  j["cosine"] = s.cosine();
  j["max_abs_error"] = s.max_abs_err;
  return j;
}

std::string render_worst(const eval::AnalyzeResult& r, size_t top) {
  const std::vector<size_t> worst = eval::worst_layers(r, top);
  std::string out = fmt::format("\nworst {} of {} values by SQNR (FP32 value vs what the quantized model's "
                                "consumers read)\n",
                                worst.size(), r.layers.size());
  if (worst.empty()) return out + "  (every value is exact)\n";
  auto producer = [&](const eval::LayerError& l) {
    return l.node.empty() ? std::string("(input)") : fmt::format("{} ({})", l.node, l.op_type);
  };
  size_t vw = 5, pw = 8;
  for (size_t i : worst) {
    vw = std::max(vw, r.layers[i].value.size());
    pw = std::max(pw, producer(r.layers[i]).size());
  }
  out += fmt::format("  {:<{}} {:<{}} {:>9} {:>9} {:>12} {:>12}\n", "value", vw, "producer", pw, "SQNR dB", "cosine",
                     "max abs err", "own Q/DQ dB");
  for (size_t i : worst) {
    const eval::LayerError& l = r.layers[i];
    out += fmt::format("  {:<{}} {:<{}} {:>9} {:>9.5f} {:>12.4g} {:>12}\n", l.value, vw, producer(l), pw,
                       db(l.error.sqnr_db()), l.error.cosine(), l.error.max_abs_err,
                       l.own.count > 0 ? db(l.own.sqnr_db()) : "-");
  }
  return out;
}

std::string render_sensitivity(const eval::AnalyzeResult& r, size_t top) {
  std::vector<const eval::NodeSensitivity*> rows;
  for (const auto& s : r.sensitivity) rows.push_back(&s);
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    if (a->skipped.empty() != b->skipped.empty()) return a->skipped.empty();
    return a->output.sqnr_db() < b->output.sqnr_db();
  });
  size_t nw = 4, ow = 2;
  for (const auto* s : rows) {
    nw = std::max(nw, s->node.size());
    ow = std::max(ow, s->op_type.size());
  }
  std::string out = fmt::format("\nsensitivity: each node quantized alone, most harmful first ({} nodes)\n", rows.size());
  out += fmt::format("  {:<{}} {:<{}} {:>15} {:>9} {:>9}\n", "node", nw, "op", ow, "output SQNR dB", "top-1", "Δ top-1");
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    const eval::NodeSensitivity& s = *rows[i];
    if (!s.skipped.empty()) {
      out += fmt::format("  {:<{}} {:<{}} skipped: {}\n", s.node, nw, s.op_type, ow, s.skipped);
      continue;
    }
    std::string top1 = "-", delta = "-";
    if (s.metrics && r.fp32) {
      top1 = pct(s.metrics->top1());
      delta = fmt::format("{:+.2f}", 100.0 * (s.metrics->top1() - r.fp32->top1()));
    }
    out += fmt::format("  {:<{}} {:<{}} {:>15} {:>9} {:>9}\n", s.node, nw, s.op_type, ow, db(s.output.sqnr_db()),
                       top1, delta);
  }
  return out;
}

std::string render(const AnalyzeCmdOptions& o, const eval::AnalyzeResult& r) {
  std::string out;
  auto row = [&](const char* key, const std::string& value) { out += fmt::format("{:<12}{}\n", key, value); };
  row("fp32", o.fp32);
  row("quantized", o.quant);
  row("dataset", fmt::format("{} ({} samples, batch {})", r.dataset, group_digits(r.samples), r.batch));
  row("nodes", fmt::format("{} node(s) read dequantized values; {} activation(s) quantized; {} fallback(s)",
                               r.quantized_nodes, r.quantized_values, r.fallbacks.size()));
  row("output", fmt::format("SQNR {} dB, cosine {:.6f}, max abs error {:.4g}", db(r.output.sqnr_db()),
                            r.output.cosine(), r.output.max_abs_err));
  if (r.classification) {
    const double d = 100.0 * (r.quant->top1() - r.fp32->top1());
    row("top-1", fmt::format("FP32 {}, quantized {} ({:+.2f} points); same prediction on {}", pct(r.fp32->top1()),
                             pct(r.quant->top1()), d, pct(static_cast<double>(r.agree) / r.samples)));
  }
  out += render_worst(r, static_cast<size_t>(o.top));
  if (!r.sensitivity.empty()) out += render_sensitivity(r, static_cast<size_t>(o.top));
  if (r.classification) {
    const std::vector<eval::ClassDrift> drift = eval::class_drift(r);
    out += fmt::format("\nclasses that drifted most\n  {:>5} {:<16} {:>7} {:>9} {:>10} {:>8}\n", "class", "name", "count",
                       "FP32", "quantized", "drift");
    for (size_t i = 0; i < drift.size() && i < static_cast<size_t>(o.top); ++i) {
      const auto& c = drift[i];
      out += fmt::format("  {:>5} {:<16} {:>7} {:>9} {:>10} {:>+8.2f}\n", c.cls, c.name, c.count, pct(c.fp32_accuracy),
                         pct(c.quant_accuracy), 100.0 * c.drift());
    }
  }
  out += fmt::format("\nfallback to float ({})\n", r.fallbacks.size());
  for (const auto& f : r.fallbacks) out += fmt::format("  {} ({}): {}\n", f.node, f.op_type, f.reason);
  if (!r.integer.error.empty()) {
    out += fmt::format("\ninteger runtime: refuses the model: {}\n", r.integer.error);
  } else {
    out += fmt::format("\ninteger runtime: {} node(s) on integer kernels, {} in float\n", r.integer.integer_nodes,
                       r.integer.fallbacks.size());
    for (const auto& f : r.integer.fallbacks) out += fmt::format("  {} ({}): {}\n", f.node, f.op_type, f.reason);
  }
  return out;
}

report::Json to_json(const AnalyzeCmdOptions& o, const eval::AnalyzeResult& r) {
  report::Json j;
  j["fp32"] = o.fp32;
  j["quantized"] = o.quant;
  j["dataset"] = r.dataset;
  j["samples"] = r.samples;
  j["batch"] = r.batch;
  j["quantized_nodes"] = r.quantized_nodes;
  j["quantized_values"] = r.quantized_values;
  j["output"] = stats_json(r.output);
  if (r.classification) {
    j["accuracy"] = {{"fp32_top1", r.fp32->top1()},
                     {"quantized_top1", r.quant->top1()},
                     {"agreement", static_cast<double>(r.agree) / static_cast<double>(r.samples)}};
  } else {
    j["accuracy"] = nullptr;
  }
  report::Json layers = report::Json::array();
  for (const auto& l : r.layers) {
    report::Json e = {{"value", l.value},
                      {"node", l.node},
                      {"op_type", l.op_type},
                      {"fp32_op_type", l.fp32_op_type},
                      {"quantized", l.quantized}};
    e.update(stats_json(l.error));
    e["own_sqnr_db"] = l.own.count > 0 ? db_json(l.own.sqnr_db()) : report::Json(nullptr);
    layers.push_back(e);
  }
  j["layers"] = layers;
  report::Json worst = report::Json::array();
  for (size_t i : eval::worst_layers(r, static_cast<size_t>(o.top))) worst.push_back(r.layers[i].value);
  j["worst_layers"] = worst;
  report::Json sens = report::Json::array();
  for (const auto& s : r.sensitivity) {
    report::Json e = {{"node", s.node}, {"op_type", s.op_type}, {"quantized_inputs", s.quantized_inputs}};
    if (!s.skipped.empty()) {
      e["skipped"] = s.skipped;
    } else {
      e["output"] = stats_json(s.output);
      e["top1"] = s.metrics ? report::Json(s.metrics->top1()) : report::Json(nullptr);
    }
    sens.push_back(e);
  }
  j["sensitivity"] = sens;
  report::Json classes = report::Json::array();
  for (const auto& c : eval::class_drift(r))
    classes.push_back({{"class", c.cls}, {"name", c.name}, {"count", c.count}, {"fp32_accuracy", c.fp32_accuracy},
                       {"quantized_accuracy", c.quant_accuracy}, {"drift", c.drift()}});
  j["class_drift"] = classes;  // most accuracy lost first
  report::Json fb = report::Json::array();
  for (const auto& f : r.fallbacks) fb.push_back({{"node", f.node}, {"op_type", f.op_type}, {"reason", f.reason}});
  j["fallbacks"] = fb;
  report::Json rfb = report::Json::array();
  for (const auto& f : r.integer.fallbacks) rfb.push_back({{"node", f.node}, {"op_type", f.op_type}, {"reason", f.reason}});
  j["integer_runtime"] = {{"integer_nodes", r.integer.integer_nodes}, {"fallbacks", rfb},
                          {"error", r.integer.error.empty() ? report::Json(nullptr) : report::Json(r.integer.error)}};
  return j;
}

}  // namespace

int cmd_analyze(int argc, char** argv) {
  AnalyzeCmdOptions o;
  CLI::App app{"Where a quantized (QDQ) model loses accuracy against its FP32 original: per-layer SQNR, cosine "
               "and max error of every value both models compute, the worst layers, per-node sensitivity (only "
               "that node quantized), per-class accuracy drift and the nodes that fell back to float.",
               "qforge analyze"};
  app.add_option("fp32", o.fp32, "the FP32 ONNX model")->required();
  app.add_option("quant", o.quant, "the quantized QDQ ONNX model made from it")->required();
  add_dataset_options(app, o.data);
  app.add_option("--samples", o.samples, "analyse the first N samples of the data (0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--top", o.top, "rows in the worst-layer, sensitivity and class-drift lists")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "samples per run")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  add_threads_option(app, o.threads);
  app.add_flag("--no-sensitivity", o.no_sensitivity, "skip the per-node sensitivity runs (one pass per node)");
  app.add_flag("--json", o.json, "print one JSON object on stdout (the human summary goes to stderr)");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  const ir::Model fp32 = ir::load_onnx(o.fp32);
  const ir::Model quant = ir::load_onnx(o.quant);
  if (!eval::is_qdq(quant.graph))
    fail_input("'{}' is not a QDQ model: it has no QuantizeLinear / DequantizeLinear node", o.quant);
  if (eval::is_qdq(fp32.graph))
    fail_input("'{}' is already quantized (it has QuantizeLinear / DequantizeLinear nodes); give the FP32 model first",
               o.fp32);
  std::unique_ptr<data::Dataset> ds = open_dataset(o.data);
  Progress progress("analyze");
  eval::AnalyzeOptions ao;
  ao.samples = o.samples;
  ao.batch = o.batch;
  ao.threads = o.threads;
  ao.sensitivity = !o.no_sensitivity;
  ao.progress = [&](const std::string&, int64_t done, int64_t total) { progress.update(done, total); };
  const eval::AnalyzeResult r = eval::analyze(fp32, quant, *ds, ao);
  progress.finish();

  const std::string text = render(o, r);
  if (!o.json) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::fputs(text.c_str(), stderr);
  std::printf("%s\n", to_json(o, r).dump().c_str());
  return 0;
}

}  // namespace qforge::cli
