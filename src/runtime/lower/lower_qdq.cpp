// The QDQ lowering driver (lower_qdq.h): parameter validation, one attempt per anchor node in graph
// order, the rebuilt node list, removal of dead DQ / Q nodes, the fallback list.
#include "runtime/lower/lower_qdq.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/error.h"
#include "ir/passes/fusion.h"
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/lower/qdq_match.h"

namespace qforge::runtime {

namespace {

bool is_q(const ir::Node& n) { return n.op_type == "QuantizeLinear" && (n.domain.empty() || n.domain == "ai.onnx"); }
bool is_dq(const ir::Node& n) { return n.op_type == "DequantizeLinear" && (n.domain.empty() || n.domain == "ai.onnx"); }

void validate_scale(const ir::Node& n, const Tensor& s) {
  if (s.dtype() != DType::f32) return;  // other scale dtypes are the op's to reject
  for (int64_t i = 0; i < s.numel(); ++i) {
    const float v = s.data<float>()[i];
    if (!std::isfinite(v) || v <= 0)
      fail_input("{}: scale[{}] = {} is not a positive finite number", n.describe(), i, v);
  }
}

// zero point: same shape as the scale; for DQ of a constant, the constant's dtype.
void validate_zero_point(const ir::Graph& g, const ir::Node& n, const Tensor& s, const Tensor& z) {
  if (z.shape() != s.shape() && !(z.numel() == 1 && s.numel() == 1))
    fail_input("{}: zero point shape {} differs from the scale shape {}", n.describe(), shape_str(z.shape()),
               shape_str(s.shape()));
  const Tensor* x = g.initializer(n.input(0));
  if (is_dq(n) && x && x->dtype() != z.dtype())
    fail_input("{}: zero point dtype {} does not match the data dtype {}", n.describe(), dtype_name(z.dtype()),
               dtype_name(x->dtype()));
  if (is_q(n) && !quant_dtype_supported(z.dtype()))
    fail_input("{}: zero point dtype {} is not a quantized type", n.describe(), dtype_name(z.dtype()));
}

// Per-axis parameters of a DQ of a constant: one per slice along axis.
void validate_axis(const ir::Graph& g, const ir::Node& n, const Tensor& s) {
  const Tensor* x = g.initializer(n.input(0));
  if (!x || s.numel() == 1 || n.attr_i("block_size", 0) != 0) return;
  int64_t axis = n.attr_i("axis", 1);
  if (axis < 0) axis += x->rank();
  if (axis < 0 || axis >= x->rank())
    fail_input("{}: axis {} is out of range for data of rank {}", n.describe(), n.attr_i("axis", 1), x->rank());
  if (s.rank() != 1 || s.numel() != x->dim(static_cast<int>(axis)))
    fail_input("{}: per-axis scale has {} values but '{}' has {} along axis {}", n.describe(), s.numel(), n.input(0),
               x->dim(static_cast<int>(axis)), axis);
}

// Which lowering an op type gets.
using LowerFn = bool (*)(lower::Ctx&, int, std::string&);
LowerFn lowering_of(const ir::Node& n) {
  if (!(n.domain.empty() || n.domain == "ai.onnx")) return nullptr;
  const std::string& op = n.op_type;
  if (op == "Conv") return lower::lower_conv;
  if (op == "Gemm" || op == "MatMul") return lower::lower_gemm;
  if (op == "Add" || op == "Mul") return lower::lower_binary;
  if (op == "AveragePool" || op == "GlobalAveragePool") return lower::lower_avgpool;
  if (op == "Concat") return lower::lower_concat;
  if (lower::is_passthrough(op)) return lower::lower_passthrough;
  if (lower::is_unary_elementwise(op)) return lower::lower_unary;
  return nullptr;
}

// Removes DQ / Q nodes whose outputs nobody reads (repeatedly: a Q feeding only a dead DQ dies too).
void remove_dead_qdq(ir::Graph& g) {
  for (bool changed = true; changed;) {
    changed = false;
    std::unordered_set<std::string> read;
    for (const auto& n : g.nodes)
      for (const auto& in : n.inputs) read.insert(in);
    for (const auto& o : g.outputs) read.insert(o.name);
    std::vector<ir::Node> kept;
    for (auto& n : g.nodes) {
      if ((is_q(n) || is_dq(n)) && !read.count(n.outputs[0])) {
        changed = true;
        continue;
      }
      kept.push_back(std::move(n));
    }
    g.nodes = std::move(kept);
  }
}

std::vector<LoweringFallback> list_fallbacks(const ir::Graph& g, const std::map<std::string, std::string>& reasons) {
  std::unordered_set<std::string> dq_out, q_in;
  for (const auto& n : g.nodes) {
    if (is_dq(n)) dq_out.insert(n.outputs[0]);
    if (is_q(n)) q_in.insert(n.input(0));
  }
  std::vector<LoweringFallback> out;
  for (const auto& n : g.nodes) {
    if (is_q(n) || is_dq(n) || n.domain == "qforge") continue;
    const bool reads = std::any_of(n.inputs.begin(), n.inputs.end(), [&](const std::string& v) { return dq_out.count(v) > 0; });
    const bool feeds = std::any_of(n.outputs.begin(), n.outputs.end(), [&](const std::string& v) { return q_in.count(v) > 0; });
    if (!reads && !feeds) continue;
    auto it = reasons.find(n.name);
    std::string why = it != reasons.end() ? it->second
                      : lowering_of(n) ? "not in a lowerable pattern"
                                       : fmt::format("no integer kernel for {}", n.op_type);
    out.push_back({n.name, n.op_type, why});
  }
  return out;
}

}  // namespace

bool has_qdq(const ir::Graph& graph) {
  return std::any_of(graph.nodes.begin(), graph.nodes.end(), [](const ir::Node& n) { return is_q(n) || is_dq(n); });
}

void validate_qdq(const ir::Graph& graph) {
  for (const auto& n : graph.nodes) {
    if (!is_q(n) && !is_dq(n)) continue;
    const Tensor* s = graph.initializer(n.input(1));
    if (!s) continue;
    validate_scale(n, *s);
    if (const Tensor* z = graph.initializer(n.input(2))) validate_zero_point(graph, n, *s, *z);
    if (is_dq(n)) validate_axis(graph, n, *s);
  }
}

LoweringResult lower_qdq(ir::Graph& graph, const LowerOptions& opts) {
  LoweringResult r;
  if (!has_qdq(graph)) return r;
  validate_qdq(graph);
  lower::Ctx c(graph);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (c.removed[i]) continue;
    LowerFn fn = lowering_of(graph.nodes[i]);
    if (!fn) continue;
    std::string why;
    if (!fn(c, static_cast<int>(i), why)) c.reasons[graph.nodes[i].name] = why;
  }
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (auto& n : c.added_before[i]) nodes.push_back(std::move(n));
    if (!c.removed[i]) nodes.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(nodes);
  remove_dead_qdq(graph);
  graph.topo_sort();
  ir::remove_unused_initializers(graph);
  r.lowered = c.lowered;
  r.fallbacks = list_fallbacks(graph, c.reasons);
  if (opts.channels_last) r.nhwc_values = lower_layout(graph);
  return r;
}

std::vector<LoweringFallback> qdq_fallbacks(const ir::Model& model) {
  ir::Graph g = model.graph;
  return lower_qdq(g, {.channels_last = false}).fallbacks;  // the layout changes no fallback
}

}  // namespace qforge::runtime
