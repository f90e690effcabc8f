// Static shape inference: one pass over the (topologically sorted) nodes with each op's InferFn.
// Values are propagated where they are cheap to know — initializers, Constant nodes, Shape/Size of a
// fully known shape, and any node whose inputs are all known and whose outputs are small — so shape
// computations (Shape → Gather → Concat → Reshape) resolve to concrete dims.
#include "ir/shape_inference.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/onnx_tensor.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"

namespace qforge::ir {
namespace {

using runtime::TypeShape;

constexpr int64_t kMaxFoldElements = 4096;

struct Known {
  std::unordered_map<std::string, TypeShape> types;
  std::unordered_map<std::string, Tensor> values;

  const TypeShape* type(const std::string& v) const {
    auto it = types.find(v);
    return it == types.end() ? nullptr : &it->second;
  }
  const Tensor* value(const std::string& v) const {
    auto it = values.find(v);
    return it == values.end() ? nullptr : &it->second;
  }
};

// Shape (with opset-15 start/end) and Size need only the input's shape.
std::optional<Tensor> shape_op_value(const Node& n, const TypeShape& in) {
  if (!in.fully_known()) return std::nullopt;
  Shape s = in.concrete();
  auto r = static_cast<int64_t>(s.size());
  if (n.op_type == "Size") return Tensor::from_vector<int64_t>(DType::s64, {}, {shape_numel(s)});
  auto clamp = [r](int64_t v) { return std::clamp(v < 0 ? v + r : v, int64_t{0}, r); };
  int64_t start = clamp(n.attr_i("start", 0)), end = clamp(n.attr_i("end", r));
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[i]);
  return Tensor::from_vector<int64_t>(DType::s64, {static_cast<int64_t>(dims.size())}, dims);
}

bool small_and_known(const std::vector<TypeShape>& outs, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (i >= outs.size() || !outs[i].fully_known()) return false;
    Shape s = outs[i].concrete();
    int64_t elems = 1;
    for (int64_t d : s)
      if (__builtin_mul_overflow(elems, d, &elems)) return false;
    if (elems > kMaxFoldElements) return false;
  }
  return true;
}

void infer_node(const Model& model, const Node& n, Known& k) {
  if (n.op_type == "Constant" && n.domain.empty()) {
    Tensor v = constant_node_value(n);
    if (!n.outputs.empty() && !n.outputs[0].empty()) {
      k.types[n.outputs[0]] = TypeShape::of(v.dtype(), v.shape());
      k.values[n.outputs[0]] = v;
    }
    return;
  }
  const runtime::OpDef* op = runtime::find_op(n.domain, n.op_type);
  if (!op || !op->infer)
    fail_input("{}: operator {} (domain '{}', opset {}) is not supported", n.describe(), n.op_type,
               n.domain.empty() ? "ai.onnx" : n.domain, model.opset(n.domain));
  runtime::InferCtx ctx{n, {}, {}};
  bool all_values = true;
  for (const auto& in : n.inputs) {
    if (in.empty()) {
      ctx.inputs.emplace_back();
      ctx.values.push_back(nullptr);
      continue;
    }
    const TypeShape* t = k.type(in);
    if (!t) fail_input("{}: input '{}' has no known type", n.describe(), printable(in));
    ctx.inputs.push_back(*t);
    ctx.values.push_back(k.value(in));
    all_values &= ctx.values.back() != nullptr;
  }
  std::vector<TypeShape> outs = op->infer(ctx);
  if (outs.size() < n.outputs.size())  // the node declares more outputs than the operator has
    fail_input("{}: has {} outputs; {} produces {}", n.describe(), n.outputs.size(), n.op_type, outs.size());
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) k.types[n.outputs[i]] = outs[i];

  if (n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size") && !ctx.inputs.empty()) {
    if (auto v = shape_op_value(n, ctx.inputs[0]); v && !n.outputs.empty()) k.values[n.outputs[0]] = *v;
    return;
  }
  if (!all_values || n.inputs.empty() || !op->compute || !small_and_known(outs, n.outputs.size())) return;
  std::vector<Tensor> inputs;
  std::vector<const Tensor*> ptrs;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    inputs.push_back(ctx.values[i] ? *ctx.values[i] : Tensor{});
    ptrs.push_back(ctx.values[i]);
  }
  std::shared_ptr<void> state = op->prepare ? op->prepare(n, ptrs) : nullptr;
  std::vector<Tensor> results = runtime::execute_node(n, *op, inputs, state.get(), 1);
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) k.values[n.outputs[i]] = std::move(results[i]);
}

ValueInfo to_value_info(const std::string& name, const TypeShape& t) {
  ValueInfo v;
  v.name = name;
  v.dtype = t.dtype;
  v.has_shape = t.has_shape;
  v.dims = t.dims;
  return v;
}

// Completes a declared graph output with what inference found, keeping every declared fact.
void complete_output(ValueInfo& v, const TypeShape& t) {
  if (v.dtype == DType::undefined) v.dtype = t.dtype;
  if (!t.has_shape) return;
  if (!v.has_shape) {
    v.has_shape = true;
    v.dims = t.dims;
    return;
  }
  if (v.dims.size() != t.dims.size()) return;
  for (size_t i = 0; i < v.dims.size(); ++i)
    if (!v.dims[i].is_known() && v.dims[i].param.empty()) v.dims[i] = t.dims[i];
}

}  // namespace

void infer_shapes(Model& model) {
  Graph& g = model.graph;
  Known k;
  for (const auto& v : g.inputs) k.types[v.name] = TypeShape{v.dtype, v.has_shape, v.dims};
  for (const auto& [name, t] : g.initializers) {
    k.types[name] = TypeShape::of(t.dtype(), t.shape());
    k.values[name] = t;
  }
  for (const auto& n : g.nodes) {
    try {
      infer_node(model, n, k);
    } catch (const InputError& e) {
      throw InputError(one_line(e.what()));  // names come from the file
    }
  }

  std::unordered_set<std::string> outputs, produced;
  for (const auto& o : g.outputs) outputs.insert(o.name);
  std::vector<ValueInfo> inferred;
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) {
      if (o.empty() || outputs.count(o) || !produced.insert(o).second) continue;
      if (const TypeShape* t = k.type(o)) inferred.push_back(to_value_info(o, *t));
    }
  std::vector<ValueInfo> value_info;
  for (auto& v : g.value_info)
    if (!produced.count(v.name) && !outputs.count(v.name)) value_info.push_back(std::move(v));
  for (auto& v : inferred) value_info.push_back(std::move(v));
  g.value_info = std::move(value_info);
  for (auto& o : g.outputs)
    if (const TypeShape* t = k.type(o.name)) complete_output(o, *t);
}

}  // namespace qforge::ir
