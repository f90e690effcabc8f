#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/kernels/reference/binary_loop_ref.h"
#include "runtime/kernels/reference/binary_ref.h"
#include "runtime/kernels/reference/cast_ref.h"
#include "runtime/kernels/reference/dtype_visit_ref.h"

namespace qforge::runtime {
namespace {

// Exact integer power by squaring, wrapping on overflow; e < 0 gives trunc(1 / a^|e|).
template <class T>
T ipow(T a, int64_t e) {
  if (e < 0) {
    if (a == 1) return 1;
    if (a == -1) return (e & 1) ? T(-1) : T(1);
    return 0;  // |1 / a^|e|| < 1 truncates to 0 (a == 0 gives inf in ONNX Runtime's double path)
  }
  T r = 1;
  while (e) {
    if (e & 1) r = wrap_mul(r, a);
    a = wrap_mul(a, a);
    e >>= 1;
  }
  return r;
}

// double → integer without UB: NaN and out-of-range values saturate.
template <class T>
T saturate_to_int(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

Tensor converted(const Tensor& t, DType to, int threads) {
  if (t.dtype() == to) return t;
  Tensor r(to, t.shape());
  cast_ref(t, r, threads);
  return r;
}

template <class T>
void pow_float(const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  // Common exponents as products (what ONNX Runtime does for a scalar 2 or 3). With a one-element
  // exponent, y has a's elements in a's order (only size-1 dims can be added).
  if (b.numel() == 1) {
    const T e = b.data<T>()[0];
    const T* x = a.data<T>();
    T* out = y.data<T>();
    if (e == T(2) || e == T(3) || e == T(1)) {
      const int k = static_cast<int>(e);
      parallel_chunks(y.numel(), threads, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const T v = x[i];
          out[i] = k == 1 ? v : (k == 2 ? v * v : v * v * v);
        }
      });
      return;
    }
  }
  binary_broadcast<T, T, T>(a, b, y, threads, [](T u, T v) { return std::pow(u, v); });
}

}  // namespace

bool pow_supports(DType base, DType exponent) {
  const bool base_ok = base == DType::f32 || base == DType::f64 || base == DType::s32 || base == DType::s64;
  return base_ok && binary_supports(exponent);
}

void pow_ref(const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  QF_CHECK(pow_supports(a.dtype(), b.dtype()) && y.dtype() == a.dtype());
  switch (a.dtype()) {
    case DType::f32: pow_float<float>(a, converted(b, DType::f32, threads), y, threads); return;
    case DType::f64: pow_float<double>(a, converted(b, DType::f64, threads), y, threads); return;
    default: break;
  }
  const bool int_exponent = dtype_is_integer(b.dtype());
  const Tensor e = converted(b, int_exponent ? DType::s64 : DType::f64, threads);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (int_exponent)
      binary_broadcast<T, int64_t, T>(a, e, y, threads, [](T u, int64_t v) { return ipow(u, v); });
    else
      binary_broadcast<T, double, T>(
          a, e, y, threads, [](T u, double v) { return saturate_to_int<T>(std::pow(static_cast<double>(u), v)); });
  };
  if (a.dtype() == DType::s32)
    run(TypeTag<int32_t>{});
  else
    run(TypeTag<int64_t>{});
}

}  // namespace qforge::runtime
