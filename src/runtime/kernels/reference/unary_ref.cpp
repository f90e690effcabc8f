#include "runtime/kernels/reference/unary_ref.h"

#include <cmath>
#include <type_traits>

#include "runtime/kernels/reference/dtype_visit_ref.h"
#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {
namespace {

// restrict parameters (not locals: LLVM honours restrict only there) let 1-byte stores vectorise.
template <class T, class Op>
void map_range(const T* __restrict src, T* __restrict dst, int64_t n, Op op) {
  for (int64_t i = 0; i < n; ++i) dst[i] = op(src[i]);
}

template <class T, class Op>
void map(const Tensor& x, Tensor& y, int threads, Op op) {
  const T* src = x.data<T>();
  T* dst = y.data<T>();
  parallel_chunks(x.numel(), threads, [&](int64_t i0, int64_t i1) { map_range(src + i0, dst + i0, i1 - i0, op); });
}

template <class T>
T sign_value(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v > 0 ? T(1) : (v < 0 ? T(-1) : (v == 0 ? T(0) : v));  // ±0 → +0, NaN stays
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<T>((v > 0) - (v < 0));
  } else {
    return static_cast<T>(v != 0);
  }
}

template <class T>
void unary_float(UnaryOp op, const Tensor& x, Tensor& y, int threads) {
  switch (op) {
    case UnaryOp::sqrt: map<T>(x, y, threads, [](T v) { return std::sqrt(v); }); return;
    case UnaryOp::exp: map<T>(x, y, threads, [](T v) { return std::exp(v); }); return;
    case UnaryOp::log: map<T>(x, y, threads, [](T v) { return std::log(v); }); return;
    case UnaryOp::neg: map<T>(x, y, threads, [](T v) { return -v; }); return;
    case UnaryOp::abs: map<T>(x, y, threads, [](T v) { return std::fabs(v); }); return;
    case UnaryOp::reciprocal: map<T>(x, y, threads, [](T v) { return T(1) / v; }); return;
    case UnaryOp::erf: map<T>(x, y, threads, [](T v) { return std::erf(v); }); return;
    case UnaryOp::floor: map<T>(x, y, threads, [](T v) { return std::floor(v); }); return;
    case UnaryOp::ceil: map<T>(x, y, threads, [](T v) { return std::ceil(v); }); return;
    case UnaryOp::round: map<T>(x, y, threads, [](T v) { return std::nearbyint(v); }); return;
    case UnaryOp::sign: map<T>(x, y, threads, [](T v) { return sign_value(v); }); return;
    case UnaryOp::sin: map<T>(x, y, threads, [](T v) { return std::sin(v); }); return;
    case UnaryOp::cos: map<T>(x, y, threads, [](T v) { return std::cos(v); }); return;
    case UnaryOp::not_: break;
  }
  QF_CHECK(false, "unary_float: op not defined on floats");
}

template <class T>
void unary_int(UnaryOp op, const Tensor& x, Tensor& y, int threads) {
  switch (op) {
    case UnaryOp::neg: map<T>(x, y, threads, [](T v) { return wrap_neg(v); }); return;
    case UnaryOp::abs:
      if constexpr (std::is_signed_v<T>)
        map<T>(x, y, threads, [](T v) { return v < 0 ? wrap_neg(v) : v; });
      else
        map<T>(x, y, threads, [](T v) { return v; });
      return;
    case UnaryOp::sign: map<T>(x, y, threads, [](T v) { return sign_value(v); }); return;
    default: break;
  }
  QF_CHECK(false, "unary_int: op not defined on integers");
}

}  // namespace

bool unary_supports(UnaryOp op, DType t) {
  if (op == UnaryOp::not_) return t == DType::boolean;
  if (t == DType::f32 || t == DType::f64) return true;
  if (op == UnaryOp::neg) return t == DType::s8 || t == DType::s16 || t == DType::s32 || t == DType::s64;
  if (op == UnaryOp::abs || op == UnaryOp::sign) return dtype_is_integer(t) && visit_real_dtype(t, [](auto) {});
  return false;
}

void unary_ref(UnaryOp op, const Tensor& x, Tensor& y, int threads) {
  QF_CHECK(unary_supports(op, x.dtype()) && x.dtype() == y.dtype() && x.numel() == y.numel());
  if (op == UnaryOp::not_) {
    map<uint8_t>(x, y, threads, [](uint8_t v) { return uint8_t(v == 0); });
    return;
  }
  visit_real_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      unary_float<T>(op, x, y, threads);
    else
      unary_int<T>(op, x, y, threads);
  });
}

}  // namespace qforge::runtime
