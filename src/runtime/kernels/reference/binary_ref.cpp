#include "runtime/kernels/reference/binary_ref.h"

#include <cmath>
#include <type_traits>

#include "runtime/kernels/reference/binary_loop_ref.h"
#include "runtime/kernels/reference/dtype_visit_ref.h"

namespace qforge::runtime {
namespace {

template <class T>
T div_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return a / b;
  } else if constexpr (std::is_signed_v<T>) {
    return b == T(-1) ? wrap_neg(a) : static_cast<T>(a / b);  // INT_MIN / -1 wraps
  } else {
    return static_cast<T>(a / b);
  }
}

// Min/Max propagate NaN (std::fmin/fmax would drop it; ONNX Runtime returns NaN).
template <class T>
T min_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(b)) return b;
  }
  return b < a ? b : a;  // a NaN stays (the comparison is false)
}
template <class T>
T max_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(b)) return b;
  }
  return b > a ? b : a;
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  switch (op) {
    case BinaryOp::add:
      if constexpr (kFloat)
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return u + v; });
      else
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return wrap_add(u, v); });
      return;
    case BinaryOp::sub:
      if constexpr (kFloat)
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return u - v; });
      else
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return wrap_sub(u, v); });
      return;
    case BinaryOp::mul:
      if constexpr (kFloat)
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return u * v; });
      else
        binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return wrap_mul(u, v); });
      return;
    case BinaryOp::div: binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return div_value(u, v); }); return;
    case BinaryOp::min: binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return min_value(u, v); }); return;
    case BinaryOp::max: binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return max_value(u, v); }); return;
  }
}

}  // namespace

bool binary_supports(DType t) {
  return visit_real_dtype(t, [](auto) {});
}

void binary_ref(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  QF_CHECK(a.dtype() == b.dtype() && a.dtype() == y.dtype());
  const bool ok = visit_real_dtype(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_typed<T>(op, a, b, y, threads);
  });
  QF_CHECK(ok, "binary_ref: unsupported dtype");
}

bool binary_has_zero(const Tensor& t) {
  bool zero = false;
  visit_real_dtype(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (T v : t.span<T>())
      if (v == T(0)) zero = true;
  });
  return zero;
}

}  // namespace qforge::runtime
