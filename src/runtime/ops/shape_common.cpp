#include "runtime/ops/shape_common.h"

#include <algorithm>

namespace qforge::runtime {

std::optional<std::vector<int64_t>> known_ints(const InferCtx& c, size_t i, const char* what) {
  if (!c.has_input(i)) return std::nullopt;
  const Tensor* v = c.value(i);
  if (!v) return std::nullopt;
  if (!dtype_is_integer(v->dtype()))
    fail_node(c.node, "input {} ({}) must be an integer tensor, got {}", i, what, dtype_name(v->dtype()));
  return v->to_i64_vector();
}

std::vector<int64_t> kernel_ints(const KernelCtx& k, size_t i, const char* what) {
  if (!k.has_input(i)) return {};
  const Tensor& t = k.inputs[i];
  if (!dtype_is_integer(t.dtype()))
    fail_node(k.node, "input {} ({}) must be an integer tensor, got {}", i, what, dtype_name(t.dtype()));
  return t.to_i64_vector();
}

size_t element_bytes(const ir::Node& node, DType t) {
  int bits = dtype_bits(t);
  if (bits < 8 || bits % 8 != 0)
    fail_node(node, "element type {} is not supported by this op", dtype_name(t));
  return static_cast<size_t>(bits / 8);
}

ir::Dim dim_product(const std::vector<ir::Dim>& dims, size_t begin, size_t end) {
  int64_t known = 1;
  bool overflow = false;  // past int64: no tensor has that many elements; the product is left unknown
  const ir::Dim* symbolic = nullptr;
  int num_symbolic = 0;
  for (size_t i = begin; i < end; ++i) {
    if (dims[i].is_known()) {
      if (dims[i].value == 0) return ir::Dim::known(0);
      if (!overflow) overflow = __builtin_mul_overflow(known, dims[i].value, &known);
    } else {
      ++num_symbolic;
      symbolic = &dims[i];
    }
  }
  if (overflow) return ir::Dim{};
  if (num_symbolic == 0) return ir::Dim::known(known);
  if (num_symbolic == 1 && known == 1) return *symbolic;
  return ir::Dim{};
}

std::vector<int> normalize_axes(const ir::Node& node, const std::vector<int64_t>& axes, int rank) {
  std::vector<int> out;
  for (int64_t a : axes) {
    int n = normalize_axis(node, a, rank);
    if (std::find(out.begin(), out.end(), n) != out.end()) fail_node(node, "axis {} is repeated", a);
    out.push_back(n);
  }
  return out;
}

void require_dtype(const ir::Node& node, DType t, std::initializer_list<DType> allowed, const char* what) {
  if (t == DType::undefined) return;  // not known statically
  for (DType a : allowed)
    if (a == t) return;
  std::string names;
  for (DType a : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(a));
  fail_node(node, "{} has element type {}, supported: {}", what, dtype_name(t), names);
}

TypeShape unknown_dims(DType t, int rank) {
  return TypeShape{t, true, std::vector<ir::Dim>(static_cast<size_t>(rank))};
}

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

}  // namespace qforge::runtime
