// BatchNormalization (inference form: inputs X, scale, B, input_mean, input_var; epsilon = 1e-5;
// channel axis 1; only output Y) and LayerNormalization (axis = -1, epsilon = 1e-5, stash_type = 1,
// optional B; optional outputs Mean and InvStdDev of shape X.shape[:axis] + [1] * (rank - axis)).
#include "runtime/kernels/reference/copy_ref.h"
#include "runtime/kernels/reference/norm_ref.h"
#include "runtime/ops/shape_common.h"

namespace qforge::runtime {

namespace {

bool output_wanted(const ir::Node& node, size_t i) { return i < node.outputs.size() && !node.outputs[i].empty(); }

// ---- BatchNormalization
std::vector<TypeShape> infer_batchnorm(const InferCtx& c) {
  static const char* const kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < 5; ++i) {
    require_input(c, i, kNames[i]);
    require_dtype(c.node, c.in(i).dtype, {DType::f32}, kNames[i]);
  }
  if (c.node.attr_i("training_mode", 0) != 0)
    fail_node(c.node, "training_mode=1 is not supported (qforge runs BatchNormalization in inference mode)");
  for (size_t i = 1; i < c.node.outputs.size(); ++i)
    if (!c.node.outputs[i].empty())
      fail_node(c.node, "output {} (running statistics) exists only in training mode, which is not supported", i);
  const TypeShape& x = c.in(0);
  std::vector<TypeShape> out{x};
  // Omitted trailing outputs ("") still get a (empty) buffer from the runtime.
  for (size_t i = 1; i < c.node.outputs.size(); ++i) out.push_back(TypeShape::of(DType::f32, {0}));
  if (!x.has_shape) return out;
  if (x.rank() < 2) fail_node(c.node, "X must have rank >= 2 (N, C, ...), got rank {}", x.rank());
  const ir::Dim& ch = x.dims[1];
  for (size_t i = 1; i < 5; ++i) {
    const TypeShape& p = c.in(i);
    if (!p.has_shape) continue;
    if (p.rank() != 1) fail_node(c.node, "{} must be 1-D, got rank {}", kNames[i], p.rank());
    if (p.dims[0].is_known() && ch.is_known() && p.dims[0].value != ch.value)
      fail_node(c.node, "{} has {} values but X has {} channels", kNames[i], p.dims[0].value, ch.value);
  }
  return out;
}

void compute_batchnorm(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  const int64_t n = x.dim(0), ch = x.dim(1);
  int64_t inner = 1;
  for (int d = 2; d < x.rank(); ++d) inner *= x.dim(d);
  batchnorm_f32__ref(x.data<float>(), n, ch, inner, k.inputs[1].data<float>(), k.inputs[2].data<float>(),
                     k.inputs[3].data<float>(), k.inputs[4].data<float>(), k.node.attr_f("epsilon", 1e-5f),
                     k.outputs[0].data<float>(), k.threads);
}

// ---- LayerNormalization
int layernorm_axis(const ir::Node& node, int rank) { return normalize_axis(node, node.attr_i("axis", -1), rank); }

// Scale / B must broadcast (numpy rules) to the normalised shape X.shape[axis:].
void check_layernorm_param(const ir::Node& node, const TypeShape& x, int axis, const TypeShape& p, const char* what) {
  if (!p.has_shape) return;
  const int nr = x.rank() - axis;
  for (int i = 0; i < p.rank(); ++i) {
    const ir::Dim& d = p.dims[p.rank() - 1 - i];
    if (d.is_known() && d.value == 1) continue;
    if (i >= nr) fail_node(node, "{} has rank {} but the normalised shape has rank {}", what, p.rank(), nr);
    const ir::Dim& xd = x.dims[x.rank() - 1 - i];
    if (d.is_known() && xd.is_known() && d.value != xd.value)
      fail_node(node, "{} dimension {} is {} but the normalised dimension is {}", what, p.rank() - 1 - i, d.value, xd.value);
  }
}

std::vector<TypeShape> infer_layernorm(const InferCtx& c) {
  require_input(c, 0, "X");
  require_input(c, 1, "Scale");
  require_dtype(c.node, c.in(0).dtype, {DType::f32}, "X");
  require_dtype(c.node, c.in(1).dtype, {DType::f32}, "Scale");
  if (c.has_input(2)) require_dtype(c.node, c.in(2).dtype, {DType::f32}, "B");
  if (c.node.attr_i("stash_type", 1) != 1)
    fail_node(c.node, "stash_type {} is not supported (only 1, float32)", c.node.attr_i("stash_type", 1));
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {x, TypeShape::unknown_rank(DType::f32), TypeShape::unknown_rank(DType::f32)};
  const int axis = layernorm_axis(c.node, x.rank());
  check_layernorm_param(c.node, x, axis, c.in(1), "Scale");
  if (c.has_input(2)) check_layernorm_param(c.node, x, axis, c.in(2), "B");
  std::vector<ir::Dim> stat(x.dims.begin(), x.dims.begin() + axis);
  stat.resize(x.dims.size(), ir::Dim::known(1));
  TypeShape s{DType::f32, true, stat};
  return {x, s, s};
}

// Expands Scale or B to a dense vector over the normalised shape.
std::vector<float> expand_param(const Tensor& p, const Shape& norm_shape) {
  Shape src(norm_shape.size() - std::min(norm_shape.size(), p.shape().size()), 1);
  for (size_t i = p.shape().size() - std::min(norm_shape.size(), p.shape().size()); i < p.shape().size(); ++i)
    src.push_back(p.shape()[i]);
  std::vector<float> out(static_cast<size_t>(shape_numel(norm_shape)));
  broadcast_bytes__ref(p.raw(), src, out.data(), norm_shape, sizeof(float));
  return out;
}

void compute_layernorm(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  const int axis = layernorm_axis(k.node, x.rank());
  Shape norm_shape(x.shape().begin() + axis, x.shape().end());
  const int64_t cols = shape_numel(norm_shape);
  const int64_t rows = cols ? x.numel() / cols : 0;
  std::vector<float> scale = expand_param(k.inputs[1], norm_shape);
  std::vector<float> bias;
  if (k.has_input(2)) bias = expand_param(k.inputs[2], norm_shape);
  float* mean = output_wanted(k.node, 1) ? k.outputs[1].data<float>() : nullptr;
  float* inv_std = output_wanted(k.node, 2) ? k.outputs[2].data<float>() : nullptr;
  layernorm_f32__ref(x.data<float>(), rows, cols, scale.data(), bias.empty() ? nullptr : bias.data(),
                     k.node.attr_f("epsilon", 1e-5f), k.outputs[0].data<float>(), mean, inv_std, k.threads);
}

}  // namespace

void register_ops_normalization(std::vector<OpDef>& ops) {
  ops.push_back({"BatchNormalization", "", infer_batchnorm, compute_batchnorm});
  ops.push_back({"LayerNormalization", "", infer_layernorm, compute_layernorm});
}

}  // namespace qforge::runtime
