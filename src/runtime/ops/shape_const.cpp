// Ops that make tensors from attributes or shapes (Shape, Constant, ConstantOfShape, Range) and
// that replicate data (Expand, Tile).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/copy_ref.h"
#include "runtime/ops/shape_common.h"
#include "runtime/ops/shape_ops.h"

namespace qforge::runtime {

namespace {

// ---- Shape (Shape-15): start/end slice the shape; negative values count from the back, clamped.
std::pair<int64_t, int64_t> shape_range(const ir::Node& node, int64_t rank) {
  auto clamp_index = [&](int64_t v) {
    if (v < 0) v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clamp_index(node.attr_i("start", 0));
  int64_t end = node.has_attr("end") ? clamp_index(node.attr_i("end", rank)) : rank;
  return {start, std::max(start, end)};
}

std::vector<TypeShape> infer_shape(const InferCtx& c) {
  require_input(c, 0, "data");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {unknown_dims(DType::s64, 1)};
  auto [start, end] = shape_range(c.node, x.rank());
  return {TypeShape::of(DType::s64, {end - start})};
}

void compute_shape(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  auto [start, end] = shape_range(k.node, x.rank());
  int64_t* y = k.outputs[0].data<int64_t>();
  for (int64_t i = start; i < end; ++i) y[i - start] = x.dim(static_cast<int>(i));
}

// ---- Constant: exactly one of value, value_float, value_floats, value_int, value_ints.
Tensor constant_value(const ir::Node& node) {
  static const char* const kUnsupported[] = {"sparse_value", "value_string", "value_strings"};
  for (const char* a : kUnsupported)
    if (node.has_attr(a)) fail_node(node, "attribute {} is not supported", a);
  std::vector<Tensor> found;
  if (const auto* a = node.attr("value")) found.push_back(a->t);
  if (const auto* a = node.attr("value_float")) found.push_back(Tensor::from_vector(DType::f32, {}, std::vector<float>{a->f}));
  if (const auto* a = node.attr("value_floats"))
    found.push_back(Tensor::from_vector(DType::f32, {static_cast<int64_t>(a->floats.size())}, a->floats));
  if (const auto* a = node.attr("value_int")) found.push_back(Tensor::from_vector(DType::s64, {}, std::vector<int64_t>{a->i}));
  if (const auto* a = node.attr("value_ints"))
    found.push_back(Tensor::from_vector(DType::s64, {static_cast<int64_t>(a->ints.size())}, a->ints));
  if (found.size() != 1) fail_node(node, "exactly one value attribute must be given, found {}", found.size());
  if (found[0].empty()) fail_node(node, "the value attribute holds no tensor data");
  return found[0];
}

std::vector<TypeShape> infer_constant(const InferCtx& c) {
  Tensor t = constant_value(c.node);
  return {TypeShape::of(t.dtype(), t.shape())};
}

void compute_constant(KernelCtx& k) {
  Tensor t = constant_value(k.node);
  if (t.nbytes()) std::memcpy(k.outputs[0].raw(), t.raw(), t.nbytes());
}

// ---- ConstantOfShape: input is the shape (1-D int64); attr value (one element) gives dtype and
// value, default f32 0.
Tensor constant_of_shape_value(const ir::Node& node) {
  const auto* a = node.attr("value");
  if (!a) return Tensor::from_vector(DType::f32, {1}, std::vector<float>{0.f});
  if (a->t.empty() || a->t.numel() != 1) fail_node(node, "the value attribute must hold exactly one element");
  element_bytes(node, a->t.dtype());
  return a->t;
}

std::vector<TypeShape> infer_constant_of_shape(const InferCtx& c) {
  require_input(c, 0, "input");
  DType t = constant_of_shape_value(c.node).dtype();
  if (auto dims = known_ints(c, 0, "input")) {
    shape_numel_checked(*dims, c.node.describe() + ": output shape");
    return {TypeShape::of(t, *dims)};
  }
  const TypeShape& s = c.in(0);
  if (s.has_shape && s.rank() == 1 && s.dims[0].is_known()) return {unknown_dims(t, static_cast<int>(s.dims[0].value))};
  return {TypeShape::unknown_rank(t)};
}

void compute_constant_of_shape(KernelCtx& k) {
  Tensor v = constant_of_shape_value(k.node);
  Tensor& y = k.outputs[0];
  const size_t elem = element_bytes(k.node, v.dtype());
  auto* dst = static_cast<std::byte*>(y.raw());
  for (int64_t i = 0; i < y.numel(); ++i) std::memcpy(dst + i * static_cast<int64_t>(elem), v.raw(), elem);
}

// ---- Range: start, limit, delta scalars; n = max(ceil((limit - start) / delta), 0);
// output[i] accumulates delta from start (value += delta), like the spec's function body.
template <typename T>
int64_t range_count(const ir::Node& node, T start, T limit, T delta) {
  if (delta == T(0)) fail_node(node, "delta must not be 0");
  if constexpr (std::is_floating_point_v<T>) {
    double n = std::ceil(static_cast<double>(limit - start) / static_cast<double>(delta));
    if (!(n >= 0)) return 0;  // negative or NaN
    if (n > 1e12) fail_node(node, "the range has too many elements ({})", n);
    return static_cast<int64_t>(n);
  } else {
    int64_t s = start, l = limit, d = delta;
    if (d > 0) return l > s ? (l - s + d - 1) / d : 0;
    return s > l ? (s - l + (-d) - 1) / (-d) : 0;
  }
}

template <typename T>
int64_t range_count_of(const ir::Node& node, const Tensor& s, const Tensor& l, const Tensor& d) {
  return range_count<T>(node, s.data<T>()[0], l.data<T>()[0], d.data<T>()[0]);
}

int64_t range_count_any(const ir::Node& node, const Tensor& s, const Tensor& l, const Tensor& d) {
  if (s.numel() != 1 || l.numel() != 1 || d.numel() != 1)
    fail_node(node, "start, limit and delta must be scalars");
  if (s.dtype() != l.dtype() || s.dtype() != d.dtype())
    fail_node(node, "start, limit and delta must have the same element type");
  switch (s.dtype()) {
    case DType::f32: return range_count_of<float>(node, s, l, d);
    case DType::f64: return range_count_of<double>(node, s, l, d);
    case DType::s16: return range_count_of<int16_t>(node, s, l, d);
    case DType::s32: return range_count_of<int32_t>(node, s, l, d);
    case DType::s64: return range_count_of<int64_t>(node, s, l, d);
    default: fail_node(node, "element type {} is not supported", dtype_name(s.dtype()));
  }
}

std::vector<TypeShape> infer_range(const InferCtx& c) {
  for (size_t i = 0; i < 3; ++i) require_input(c, i, i == 0 ? "start" : i == 1 ? "limit" : "delta");
  DType t = c.in(0).dtype;
  require_dtype(c.node, t, {DType::f32, DType::f64, DType::s16, DType::s32, DType::s64}, "start");
  if (c.value(0) && c.value(1) && c.value(2))
    return {TypeShape::of(t, {range_count_any(c.node, *c.value(0), *c.value(1), *c.value(2))})};
  return {unknown_dims(t, 1)};
}

template <typename T>
void range_fill(const KernelCtx& k) {
  T value = k.inputs[0].data<T>()[0];
  const T delta = k.inputs[2].data<T>()[0];
  T* y = k.outputs[0].data<T>();
  for (int64_t i = 0; i < k.outputs[0].numel(); ++i) {
    y[i] = value;
    value = static_cast<T>(value + delta);
  }
}

void compute_range(KernelCtx& k) {
  switch (k.inputs[0].dtype()) {
    case DType::f32: range_fill<float>(k); break;
    case DType::f64: range_fill<double>(k); break;
    case DType::s16: range_fill<int16_t>(k); break;
    case DType::s32: range_fill<int32_t>(k); break;
    case DType::s64: range_fill<int64_t>(k); break;
    default: fail_node(k.node, "element type {} is not supported", dtype_name(k.inputs[0].dtype()));
  }
}

// ---- Expand: output = multidirectional broadcast of input shape and the shape input's value.
std::vector<TypeShape> infer_expand(const InferCtx& c) {
  require_input(c, 0, "input");
  require_input(c, 1, "shape");
  const TypeShape& x = c.in(0);
  if (auto s = known_ints(c, 1, "shape")) {
    for (int64_t d : *s)
      if (d < 0) fail_node(c.node, "shape has a negative dimension {}", d);
    TypeShape target = TypeShape::of(x.dtype, *s);
    TypeShape out = broadcast(c.node, {&x, &target}, x.dtype);
    return {out.has_shape ? typed_like_input(c, out.dims) : out};
  }
  const TypeShape& s = c.in(1);
  if (x.has_shape && s.has_shape && s.rank() == 1 && s.dims[0].is_known())
    return {unknown_dims(x.dtype, std::max<int>(x.rank(), static_cast<int>(s.dims[0].value)))};
  return {TypeShape::unknown_rank(x.dtype)};
}

void compute_expand(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  Tensor& y = k.outputs[0];
  Shape src(static_cast<size_t>(y.rank() - x.rank()), 1);
  src.insert(src.end(), x.shape().begin(), x.shape().end());
  broadcast_bytes__ref(x.raw(), src, y.raw(), y.shape(), element_bytes(k.node, x.dtype()));
}

// ---- Tile: repeats (int64, one per axis): out dim = dim * repeats.
std::vector<TypeShape> infer_tile(const InferCtx& c) {
  require_input(c, 0, "input");
  require_input(c, 1, "repeats");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  auto reps = known_ints(c, 1, "repeats");
  if (!reps) return {unknown_dims(x.dtype, x.rank())};
  if (static_cast<int>(reps->size()) != x.rank())
    fail_node(c.node, "repeats has {} values but the input has rank {}", reps->size(), x.rank());
  std::vector<ir::Dim> out = x.dims;
  for (int i = 0; i < x.rank(); ++i) {
    int64_t r = (*reps)[i];
    if (r < 0) fail_node(c.node, "repeats must be >= 0, got {}", r);
    if (out[i].is_known()) out[i] = ir::Dim::known(out[i].value * r);
    else if (r != 1) out[i] = r == 0 ? ir::Dim::known(0) : ir::Dim{};
  }
  return {typed_like_input(c, out)};
}

void compute_tile(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  tile_bytes__ref(x.raw(), x.shape(), k.outputs[0].raw(), k.outputs[0].shape(), element_bytes(k.node, x.dtype()));
}

}  // namespace

void register_ops_shape_const(std::vector<OpDef>& ops) {
  ops.push_back({"Shape", "", infer_shape, compute_shape});
  ops.push_back({"Constant", "", infer_constant, compute_constant});
  ops.push_back({"ConstantOfShape", "", infer_constant_of_shape, compute_constant_of_shape});
  ops.push_back({"Range", "", infer_range, compute_range});
  ops.push_back({"Expand", "", infer_expand, compute_expand});
  ops.push_back({"Tile", "", infer_tile, compute_tile});
}

}  // namespace qforge::runtime
