// QuantizeLinear / DequantizeLinear (ONNX opset 13-21 forms; math in kernels/reference/quantize_ref.h).
// Granularity comes from the scale's shape: a scalar (or one-element 1-D) scale is per-tensor; with
// block_size 0 a 1-D scale of length dims[axis] is per-axis; with block_size B > 0 the scale has x's
// rank and dims, except ceil(dims[axis] / B) along axis (blocked). zero_point has the scale's shape.
// QuantizeLinear's output dtype: attribute output_dtype, else zero_point's dtype, else u8.
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

bool is_f32(DType d) { return d == DType::f32; }

// Validates scale / zero_point shapes against x and returns the layout (all dims known).
QuantLayout quant_layout(const ir::Node& node, const Shape& x, const Shape& scale, const Shape* zp) {
  // A single scale may come as [] or [1] with a zero point of the other form: ONNX Runtime's
  // quantize_static writes scale [1] with a scalar zero point for unfolded BatchNormalization
  // parameters, and ONNX Runtime runs it.
  const bool one_each = zp && scale.size() <= 1 && zp->size() <= 1 && shape_numel(scale) == 1 && shape_numel(*zp) == 1;
  if (zp && *zp != scale && !one_each)
    fail_node(node, "zero_point shape {} differs from scale shape {}", shape_str(*zp), shape_str(scale));
  const int64_t block = attr_int(node, "block_size", 0);
  if (block < 0) fail_node(node, "attribute 'block_size' must not be negative, got {}", block);
  QuantLayout l;
  if (scale.size() <= 1 && shape_numel(scale) == 1) {
    l.granularity = QuantGranularity::per_tensor;
    l.inner = shape_numel(x);
    return l;
  }
  const int rank = static_cast<int>(x.size());
  const int axis = normalize_axis(node, attr_int(node, "axis", 1), rank);
  for (int d = 0; d < rank; ++d) (d < axis ? l.outer : d > axis ? l.inner : l.axis_len) *= x[d];
  if (block == 0) {
    if (scale.size() != 1 || scale[0] != x[axis])
      fail_node(node, "per-axis scale must be 1-D of length {} (dimension {} of x {}), got shape {}", x[axis], axis,
                shape_str(x), shape_str(scale));
    l.granularity = QuantGranularity::per_axis;
    return l;
  }
  bool ok = static_cast<int>(scale.size()) == rank;
  for (int d = 0; ok && d < rank; ++d) ok = scale[d] == (d == axis ? (x[d] + block - 1) / block : x[d]);
  if (!ok)
    fail_node(node, "blocked scale shape {} does not fit x {} with axis {} and block_size {}", shape_str(scale),
              shape_str(x), axis, block);
  l.granularity = QuantGranularity::blocked;
  l.block = block;
  return l;
}

// Checks the layout when x's and the scale's shapes are known (statically or at run time).
void check_quant_shapes(const InferCtx& c) {
  const TypeShape& x = c.in(0);
  const TypeShape& s = c.in(1);
  if (!x.fully_known() || !s.fully_known()) return;
  Shape zp;
  const bool has_zp = c.has_input(2) && c.in(2).fully_known();
  if (has_zp) zp = c.in(2).concrete();
  quant_layout(c.node, x.concrete(), s.concrete(), has_zp ? &zp : nullptr);
}

DType quantize_output_dtype(const InferCtx& c) {
  const int64_t code = attr_int(c.node, "output_dtype", 0);
  DType out = DType::undefined;
  if (code != 0) {
    const auto t = code > 0 && code <= INT32_MAX ? dtype_from_onnx(static_cast<int32_t>(code)) : std::nullopt;
    if (!t) fail_node(c.node, "attribute 'output_dtype' = {} is not a known data type", code);
    out = *t;
  }
  if (c.has_input(2) && c.in(2).dtype != DType::undefined) {
    const DType zt = c.in(2).dtype;
    if (out != DType::undefined && out != zt)
      fail_node(c.node, "output_dtype {} differs from the zero_point dtype {}", dtype_name(out), dtype_name(zt));
    out = zt;
  }
  if (out == DType::undefined) out = DType::u8;
  if (!quant_dtype_supported(out))
    fail_node(c.node, "quantizing to {} is not supported (u8 s8 u16 s16 u4 s4)", dtype_name(out));
  return out;
}

std::vector<TypeShape> infer_quantize(const InferCtx& c) {
  if (c.num_inputs() < 2 || c.num_inputs() > 3) fail_node(c.node, "expects 2 or 3 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "x", is_f32);
  require_dtype(c, 1, "y_scale", is_f32);
  const DType out = quantize_output_dtype(c);
  check_quant_shapes(c);
  return shape_of_input(c, 0, out);
}

void compute_quantize(KernelCtx& k) {
  const Tensor* zp = k.has_input(2) ? &k.inputs[2] : nullptr;
  const QuantLayout l = quant_layout(k.node, k.inputs[0].shape(), k.inputs[1].shape(), zp ? &zp->shape() : nullptr);
  quantize_ref(k.inputs[0], k.inputs[1], zp, k.outputs[0], l, k.threads);
}

std::vector<TypeShape> infer_dequantize(const InferCtx& c) {
  if (c.num_inputs() < 2 || c.num_inputs() > 3) fail_node(c.node, "expects 2 or 3 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "x", dequant_dtype_supported);
  require_dtype(c, 1, "x_scale", is_f32);
  if (c.has_input(2)) require_same_dtype(c, 0, 2);
  const int64_t code = attr_int(c.node, "output_dtype", 0);
  if (code != 0 && code != static_cast<int64_t>(DType::f32))
    fail_node(c.node, "output_dtype {} is not supported (f32 only)", code);
  check_quant_shapes(c);
  return shape_of_input(c, 0, DType::f32);
}

void compute_dequantize(KernelCtx& k) {
  const Tensor* zp = k.has_input(2) ? &k.inputs[2] : nullptr;
  const QuantLayout l = quant_layout(k.node, k.inputs[0].shape(), k.inputs[1].shape(), zp ? &zp->shape() : nullptr);
  dequantize_ref(k.inputs[0], k.inputs[1], zp, k.outputs[0], l, k.threads);
}

}  // namespace

void register_ops_quant(std::vector<OpDef>& ops) {
  ops.push_back({"QuantizeLinear", "", infer_quantize, compute_quantize});
  ops.push_back({"DequantizeLinear", "", infer_dequantize, compute_dequantize});
}

}  // namespace qforge::runtime
