// Reduce* (canonical form, ONNX 18: axes is optional input 1; attrs keepdims = 1,
// noop_with_empty_axes = 0) and ArgMax / ArgMin (axis = 0, keepdims = 1, select_last_index = 0).
#include <algorithm>
#include <cstring>

#include "runtime/kernels/reference/reduce_ref.h"
#include "runtime/ops/shape_common.h"

namespace qforge::runtime {

namespace {

struct ReduceOpInfo {
  std::string_view name;
  ReduceKind kind;
  bool integers;  // also s32 / s64
};

constexpr ReduceOpInfo kReduceOps[] = {
    {"ReduceSum", ReduceKind::sum, true},         {"ReduceMean", ReduceKind::mean, false},
    {"ReduceMax", ReduceKind::max, true},         {"ReduceMin", ReduceKind::min, true},
    {"ReduceProd", ReduceKind::prod, true},       {"ReduceL1", ReduceKind::l1, true},
    {"ReduceL2", ReduceKind::l2, false},          {"ReduceSumSquare", ReduceKind::sum_square, true},
    {"ReduceLogSum", ReduceKind::log_sum, false}, {"ReduceLogSumExp", ReduceKind::log_sum_exp, false},
};

const ReduceOpInfo& reduce_info(const ir::Node& node) {
  for (const auto& r : kReduceOps)
    if (r.name == node.op_type) return r;
  QF_CHECK(false, node.describe());
  return kReduceOps[0];
}

void check_reduce_dtype(const ir::Node& node, DType t) {
  if (reduce_info(node).integers) require_dtype(node, t, {DType::f32, DType::s32, DType::s64}, "data");
  else require_dtype(node, t, {DType::f32}, "data");
}

// Which axes are reduced. noop_with_empty_axes with no axes reduces none: every element is its own
// group, so the elementwise step still applies (ReduceLogSum gives log(x), ReduceSumSquare x^2,
// ReduceL1 / ReduceL2 |x|), as in the ONNX reference and ONNX Runtime.
std::vector<bool> reduce_mask(const ir::Node& node, int rank, const std::vector<int64_t>& axes) {
  std::vector<bool> mask(rank, false);
  if (axes.empty()) {
    if (node.attr_i("noop_with_empty_axes", 0) == 0) mask.assign(rank, true);
    return mask;
  }
  for (int a : normalize_axes(node, axes, rank)) mask[a] = true;
  return mask;
}

std::vector<TypeShape> infer_reduce(const InferCtx& c) {
  require_input(c, 0, "data");
  const TypeShape& x = c.in(0);
  check_reduce_dtype(c.node, x.dtype);
  const bool keepdims = c.node.attr_i("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes = std::vector<int64_t>{};
  if (c.has_input(1)) axes = known_ints(c, 1, "axes");
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  if (!axes) {
    if (keepdims) return {unknown_dims(x.dtype, x.rank())};
    const TypeShape& a = c.in(1);
    if (a.has_shape && a.rank() == 1 && a.dims[0].is_known()) {
      // An empty axes tensor means "all" (or no-op), so only a non-empty one fixes the rank.
      if (a.dims[0].value > 0) return {unknown_dims(x.dtype, x.rank() - static_cast<int>(a.dims[0].value))};
    }
    return {TypeShape::unknown_rank(x.dtype)};
  }
  std::vector<bool> mask = reduce_mask(c.node, x.rank(), *axes);
  std::vector<ir::Dim> out;
  for (int d = 0; d < x.rank(); ++d) {
    if (!mask[d]) out.push_back(x.dims[d]);
    else if (keepdims) out.push_back(ir::Dim::known(1));
  }
  return {TypeShape{x.dtype, true, out}};
}

void compute_reduce(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  Tensor& y = k.outputs[0];
  std::vector<bool> mask = reduce_mask(k.node, x.rank(), kernel_ints(k, 1, "axes"));
  const ReduceKind kind = reduce_info(k.node).kind;
  const bool reduces_none = std::find(mask.begin(), mask.end(), true) == mask.end();
  const bool identity_kind = kind == ReduceKind::sum || kind == ReduceKind::mean || kind == ReduceKind::max ||
                             kind == ReduceKind::min || kind == ReduceKind::prod || kind == ReduceKind::log_sum_exp;
  if (reduces_none && identity_kind) {  // one-element groups: y = x bit for bit
    if (x.nbytes()) std::memcpy(y.raw(), x.raw(), x.nbytes());
    return;
  }
  switch (x.dtype()) {
    case DType::f32: reduce_f32__ref(x.data<float>(), x.shape(), mask, y.data<float>(), kind); break;
    case DType::s32: reduce_s32__ref(x.data<int32_t>(), x.shape(), mask, y.data<int32_t>(), kind); break;
    case DType::s64: reduce_s64__ref(x.data<int64_t>(), x.shape(), mask, y.data<int64_t>(), kind); break;
    default: check_reduce_dtype(k.node, x.dtype());
  }
}

// ---- ArgMax / ArgMin
std::vector<TypeShape> infer_argmax(const InferCtx& c) {
  require_input(c, 0, "data");
  const TypeShape& x = c.in(0);
  require_dtype(c.node, x.dtype, {DType::f32, DType::s32, DType::s64, DType::u8, DType::s8}, "data");
  if (!x.has_shape) return {TypeShape::unknown_rank(DType::s64)};
  if (x.rank() == 0) fail_node(c.node, "data must have rank >= 1");
  int axis = normalize_axis(c.node, c.node.attr_i("axis", 0), x.rank());
  if (x.dims[axis].is_known() && x.dims[axis].value == 0)
    fail_node(c.node, "cannot take the arg{} of an empty axis {}", c.node.op_type == "ArgMin" ? "min" : "max", axis);
  std::vector<ir::Dim> out = x.dims;
  if (c.node.attr_i("keepdims", 1) != 0) out[axis] = ir::Dim::known(1);
  else out.erase(out.begin() + axis);
  return {TypeShape{DType::s64, true, out}};
}

void compute_argmax(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  int axis = normalize_axis(k.node, k.node.attr_i("axis", 0), x.rank());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t n = x.dim(axis);
  const bool is_min = k.node.op_type == "ArgMin";
  const bool last = k.node.attr_i("select_last_index", 0) != 0;
  int64_t* y = k.outputs[0].data<int64_t>();
  switch (x.dtype()) {
    case DType::f32: argmax_s64__ref(x.data<float>(), outer, n, inner, y, is_min, last); break;
    case DType::s32: argmax_s64__ref(x.data<int32_t>(), outer, n, inner, y, is_min, last); break;
    case DType::s64: argmax_s64__ref(x.data<int64_t>(), outer, n, inner, y, is_min, last); break;
    case DType::u8: argmax_s64__ref(x.data<uint8_t>(), outer, n, inner, y, is_min, last); break;
    case DType::s8: argmax_s64__ref(x.data<int8_t>(), outer, n, inner, y, is_min, last); break;
    default: fail_node(k.node, "element type {} is not supported", dtype_name(x.dtype()));
  }
}

}  // namespace

void register_ops_reduce(std::vector<OpDef>& ops) {
  for (const auto& r : kReduceOps) ops.push_back({r.name, "", infer_reduce, compute_reduce});
  ops.push_back({"ArgMax", "", infer_argmax, compute_argmax});
  ops.push_back({"ArgMin", "", infer_argmax, compute_argmax});
}

}  // namespace qforge::runtime
