#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "quant/qdq_names.h"
#include "quant/qparams_tensors.h"
#include "quant/quantize.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

std::string node_label(const ir::Node& n, size_t index) {
  return n.name.empty() ? fmt::format("#{}", index) : n.name;
}

bool is_compute_op(const ir::Node& n) {
  return n.domain.empty() && (n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul");
}

const Tensor* f32_constant(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.initializer(name);
  return t && t->dtype() == DType::f32 ? t : nullptr;
}

std::vector<std::string> exclusion_reasons(const ir::Graph& g, const Recipe& r) {
  std::vector<std::string> why(g.nodes.size());
  for (const std::string& e : r.exclude) {
    bool found = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const ir::Node& n = g.nodes[i];
      if (n.name == e || n.op_type == e) {
        found = true;
        if (why[i].empty())
          why[i] = n.name == e ? fmt::format("excluded by name ('{}')", e) : fmt::format("excluded by op type ('{}')", e);
      }
    }
    if (!found) fail_input("--exclude '{}' names no node and no op type of the model", e);
  }
  for (const auto& [name, o] : r.overrides) {
    bool found = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].name != name) continue;
      found = true;
      if (o.skip && why[i].empty()) why[i] = "excluded by a recipe override (skip)";
    }
    if (!found) fail_input("recipe override '{}' names no node of the model", name);
  }
  if (r.exclude_first_last) {
    std::vector<size_t> compute;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (is_compute_op(g.nodes[i])) compute.push_back(i);
    if (!compute.empty()) {
      if (why[compute.front()].empty()) why[compute.front()] = "excluded: first Conv/Gemm/MatMul (--exclude-first-last)";
      if (why[compute.back()].empty()) why[compute.back()] = "excluded: last Conv/Gemm/MatMul (--exclude-first-last)";
    }
  }
  return why;
}

GraphEditor::GraphEditor(ir::Graph& g) : g_(g) {
  for (const auto& v : g.inputs) used_.insert(v.name);
  for (const auto& v : g.outputs) used_.insert(v.name);
  for (const auto& v : g.value_info) used_.insert(v.name);
  for (const auto& [n, t] : g.initializers) used_.insert(n);
  for (const auto& n : g.nodes) {
    if (!n.name.empty()) used_.insert(n.name);
    for (const auto& o : n.outputs) used_.insert(o);
    for (const auto& i : n.inputs) used_.insert(i);
  }
}

std::string GraphEditor::fresh(const std::string& base) {
  std::string n = base;
  for (int i = 1; used_.count(n); ++i) n = fmt::format("{}_{}", base, i);
  used_.insert(n);
  return n;
}

std::string GraphEditor::add_initializer(const std::string& base, Tensor t) {
  std::string n = fresh(base);
  g_.add_initializer(n, std::move(t));
  return n;
}

ir::Node& GraphEditor::emit(ir::Node n) {
  out_.push_back(std::move(n));
  return out_.back();
}

std::string GraphEditor::dequantize_constant(const std::string& base, Tensor q, const QParams& p, const Shape& shape,
                                             const std::string& output, bool omit_zero_zp) {
  QParamTensors t = qparams_to_tensors(p, shape);
  ir::Node dq;
  dq.op_type = "DequantizeLinear";
  dq.name = fresh(base + kDequantizeNodeSuffix);
  dq.inputs = {add_initializer(base + kQuantizedSuffix, std::move(q)), add_initializer(base + kScaleSuffix, std::move(t.scale))};
  // The zero point is optional (0 by the spec): a weight's all-zero zero points are not stored.
  bool all_zero = true;
  for (int32_t z : p.zero_point) all_zero &= z == 0;
  if (!(omit_zero_zp && all_zero)) dq.inputs.push_back(add_initializer(base + kZeroPointSuffix, std::move(t.zero_point)));
  dq.outputs = {output.empty() ? fresh(base + kDequantizedSuffix) : output};
  if (p.axis != QParams::kPerTensor) {
    ir::Attribute a;
    a.name = "axis";
    a.kind = ir::AttrKind::i;
    a.i = p.axis;
    dq.set_attr(a);
  }
  if (p.group_size > 0) {
    ir::Attribute a;
    a.name = "block_size";
    a.kind = ir::AttrKind::i;
    a.i = p.group_size;
    dq.set_attr(a);
  }
  const std::string out = dq.outputs[0];
  emit(std::move(dq));
  return out;
}

void GraphEditor::finish() {
  g_.nodes = std::move(out_);
  out_.clear();
  g_.topo_sort();
  ir::remove_unused_initializers(g_);
}

int weight_channel_axis(const ir::Node& n, const Tensor& w) {
  if (n.op_type == "Conv") return 0;
  if (n.op_type == "Gemm") return n.attr_i("transB", 0) ? 0 : 1;
  return w.rank() - 1;
}

int weight_reduction_axis(const ir::Node& n, const Tensor& w) {
  if (n.op_type == "Conv") return 1;
  if (n.op_type == "Gemm") return n.attr_i("transB", 0) ? 1 : 0;
  return w.rank() - 2;
}

QParams choose_weight_qparams(const ir::Node& n, const Tensor& w, const WeightSpec& spec, bool reduce_range,
                              const std::string& name, std::string* note) {
  const QScheme scheme{spec.dtype, spec.symmetric, reduce_range};
  switch (spec.granularity) {
    case QGranularity::per_tensor: return choose_qparams_per_tensor(w, scheme, name);
    case QGranularity::per_channel: return choose_qparams_per_channel(w, weight_channel_axis(n, w), scheme, name);
    case QGranularity::per_group:
      if (n.op_type == "Conv") {
        if (note) *note = "per-group applies to MatMul/Gemm; Conv weights per channel";
        return choose_qparams_per_channel(w, 0, scheme, name);
      }
      return choose_qparams_per_group(w, weight_reduction_axis(n, w), spec.group_size, scheme, name);
  }
  QF_CHECK(false, "unknown granularity");
  return {};
}

std::string describe_weights(const QParams& p) {
  std::string s = fmt::format("{} {}", dtype_name(p.format), granularity_name(p.granularity()));
  if (p.granularity() == QGranularity::per_group) s += fmt::format(" {}", p.group_size);
  return s;
}

int64_t initializer_bytes(const ir::Graph& g) {
  int64_t n = 0;
  for (const auto& [name, t] : g.initializers) n += static_cast<int64_t>(t.nbytes());
  return n;
}

}  // namespace qforge::quant::detail
