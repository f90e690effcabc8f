#include "render.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli_util.h"

namespace qforge::cli {

namespace {

std::string value_line(const ir::ValueInfo& v) {
  return fmt::format("{} {} {}", v.name, dtype_name(v.dtype), eval::dims_str(v));
}

std::string percent(double fraction) { return fmt::format("{:.2f} %", 100.0 * fraction); }

}  // namespace

std::string render_model_summary(const std::string& model_path, const eval::ModelSummary& s) {
  std::string out;
  auto row = [&](const char* key, const std::string& value) { out += fmt::format("{:<12}{}\n", key, value); };
  row("model", model_path);
  std::string producer = s.producer_name.empty() ? "(none)" : s.producer_name;
  if (!s.producer_version.empty()) producer += " " + s.producer_version;
  row("producer", fmt::format("{}   (ir_version {})", producer, s.ir_version));
  std::string opsets;
  for (const auto& o : s.opsets)
    opsets += fmt::format("{}{} {}", opsets.empty() ? "" : ", ", o.domain.empty() ? "ai.onnx" : o.domain, o.version);
  row("opsets", opsets.empty() ? "(none)" : opsets);
  for (size_t i = 0; i < s.inputs.size(); ++i) row(i ? "" : "inputs", value_line(s.inputs[i]));
  if (s.inputs.empty()) row("inputs", "(none)");
  for (size_t i = 0; i < s.outputs.size(); ++i) row(i ? "" : "outputs", value_line(s.outputs[i]));
  row("nodes", group_digits(s.nodes));
  std::string ops;
  for (const auto& o : s.ops) {
    ops += fmt::format("{}{}{} {}", ops.empty() ? "" : ", ", o.domain.empty() ? "" : o.domain + ".", o.op_type,
                       o.count);
    if (!o.supported) ops += " (unsupported)";
  }
  row("ops", ops.empty() ? "(none)" : ops);
  if (s.unsupported_nodes)
    row("unsupported", fmt::format("{} node(s) use ops the runtime cannot execute", s.unsupported_nodes));
  row("parameters", group_digits(s.parameters));
  for (size_t i = 0; i < s.bytes_by_dtype.size(); ++i) {
    const auto& b = s.bytes_by_dtype[i];
    row(i ? "" : "weights", fmt::format("{:<5} {:>14} bytes in {} tensor(s)", dtype_name(b.dtype),
                                        group_digits(b.bytes), b.tensors));
  }
  row(s.bytes_by_dtype.empty() ? "weights" : "", fmt::format("total {:>14} bytes", group_digits(s.total_bytes)));
  if (s.integer.quantized) {
    if (!s.integer.error.empty()) {
      row("integer", "the integer runtime refuses this model: " + s.integer.error);
    } else {
      row("integer", fmt::format("{} node(s) run on integer kernels, {} in float (fallback)", s.integer.integer_nodes,
                                 s.integer.fallbacks.size()));
      for (const auto& f : s.integer.fallbacks) row("  fallback", fmt::format("{} ({}): {}", f.node, f.op_type, f.reason));
    }
  }
  return out;
}

std::string render_eval(const eval::EvalResult& r, bool details) {
  const eval::ClassificationMetrics& m = r.metrics;
  std::string out;
  out += fmt::format("{:<12}{} ({} samples, {} classes)\n", "dataset", r.dataset, group_digits(m.samples()),
                     m.num_classes());
  out += fmt::format("{:<12}{}   ({} / {})\n", "top-1", percent(m.top1()), group_digits(m.top1_correct()),
                     group_digits(m.samples()));
  out += fmt::format("{:<12}{}   ({} / {})\n", fmt::format("top-{}", m.k()), percent(m.topk()),
                     group_digits(m.topk_correct()), group_digits(m.samples()));
  out += fmt::format("{:<12}{:.0f} images/s ({:.2f} s, batch {}, {} thread(s))\n", "speed", r.samples_per_second(),
                     r.seconds, r.batch, r.threads);
  if (!details) return out;

  size_t name_w = 5;
  for (const auto& n : r.class_names) name_w = std::max(name_w, n.size());
  out += fmt::format("\nper class\n  {:>5}  {:<{}}  {:>8}  {:>8}  {:>9}\n", "class", "name", name_w, "count",
                     "correct", "accuracy");
  for (int c = 0; c < m.num_classes(); ++c) {
    const auto& cs = m.per_class()[c];
    std::string name = c < static_cast<int>(r.class_names.size()) ? r.class_names[c] : "";
    out += fmt::format("  {:>5}  {:<{}}  {:>8}  {:>8}  {:>9}\n", c, name, name_w, cs.count, cs.correct,
                       cs.count ? percent(cs.accuracy()) : "-");
  }
  out += "\nconfusion matrix (rows: true class, columns: predicted class)\n       ";
  int64_t widest = 1;
  for (const auto& rowv : m.confusion())
    for (int64_t v : rowv) widest = std::max(widest, v);
  int w = std::max<int>(static_cast<int>(std::to_string(widest).size()), 3);
  for (int c = 0; c < m.num_classes(); ++c) out += fmt::format(" {:>{}}", c, w);
  out += '\n';
  for (int t = 0; t < m.num_classes(); ++t) {
    out += fmt::format("  {:>5}", t);
    for (int p = 0; p < m.num_classes(); ++p) out += fmt::format(" {:>{}}", m.confusion()[t][p], w);
    out += '\n';
  }
  return out;
}

std::string render_tensor(const std::string& name, const eval::TensorSummary& s) {
  std::string out = fmt::format("{} {} {}", name, dtype_name(s.dtype), shape_str(s.shape));
  if (s.has_stats) out += fmt::format("  min {:.6g}  max {:.6g}  mean {:.6g}", s.min, s.max, s.mean);
  if (s.nan_count) out += fmt::format("  nan {}", s.nan_count);
  return out;
}

}  // namespace qforge::cli
