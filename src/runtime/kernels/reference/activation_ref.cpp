#include "runtime/kernels/reference/activation_ref.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/kernels/reference/binary_loop_ref.h"
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
T sigmoid_value(T v) {
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}

template <class T>
T softplus_value(T v) {
  return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}

template <class T>
void activation_float(ActivationKind kind, const ActivationParams& p, const Tensor& x, Tensor& y, int threads) {
  const T alpha = p.alpha, beta = p.beta, gamma = p.gamma;
  switch (kind) {
    case ActivationKind::relu: map<T>(x, y, threads, [](T v) { return v < 0 ? T(0) : v; }); return;
    case ActivationKind::leaky_relu: map<T>(x, y, threads, [=](T v) { return v < 0 ? alpha * v : v; }); return;
    case ActivationKind::sigmoid: map<T>(x, y, threads, [](T v) { return sigmoid_value(v); }); return;
    case ActivationKind::tanh: map<T>(x, y, threads, [](T v) { return std::tanh(v); }); return;
    case ActivationKind::hard_sigmoid:
      map<T>(x, y, threads, [=](T v) { return std::max(T(0), std::min(T(1), alpha * v + beta)); });
      return;
    case ActivationKind::hard_swish:
      map<T>(x, y, threads, [](T v) { return v * std::max(T(0), std::min(T(1), v * T(1.0 / 6) + T(0.5))); });
      return;
    case ActivationKind::gelu:
      map<T>(x, y, threads, [](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(M_SQRT1_2))); });
      return;
    case ActivationKind::gelu_tanh: {
      const T k = T(M_2_SQRTPI * M_SQRT1_2);  // sqrt(2/pi)
      map<T>(x, y, threads, [=](T v) { return T(0.5) * v * (T(1) + std::tanh(k * (v + T(0.044715) * v * v * v))); });
      return;
    }
    case ActivationKind::elu:
      map<T>(x, y, threads, [=](T v) { return v < 0 ? alpha * (std::exp(v) - T(1)) : v; });
      return;
    case ActivationKind::selu:
      map<T>(x, y, threads, [=](T v) { return v <= 0 ? gamma * (alpha * std::exp(v) - alpha) : gamma * v; });
      return;
    case ActivationKind::celu:
      map<T>(x, y, threads,
             [=](T v) { return std::max(T(0), v) + std::min(T(0), alpha * (std::exp(v / alpha) - T(1))); });
      return;
    case ActivationKind::softplus: map<T>(x, y, threads, [](T v) { return softplus_value(v); }); return;
    case ActivationKind::softsign: map<T>(x, y, threads, [](T v) { return v / (T(1) + std::fabs(v)); }); return;
    case ActivationKind::thresholded_relu: map<T>(x, y, threads, [=](T v) { return v > alpha ? v : T(0); }); return;
    case ActivationKind::mish: map<T>(x, y, threads, [](T v) { return v * std::tanh(softplus_value(v)); }); return;
  }
}

}  // namespace

bool activation_supports(ActivationKind kind, DType t) {
  if (t == DType::f32 || t == DType::f64) return true;
  return kind == ActivationKind::relu && (t == DType::s8 || t == DType::s16 || t == DType::s32 || t == DType::s64);
}

void activation_ref(ActivationKind kind, const ActivationParams& p, const Tensor& x, Tensor& y, int threads) {
  QF_CHECK(activation_supports(kind, x.dtype()) && x.dtype() == y.dtype() && x.numel() == y.numel());
  visit_real_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      activation_float<T>(kind, p, x, y, threads);
    } else if constexpr (std::is_signed_v<T>) {
      map<T>(x, y, threads, [](T v) { return v < 0 ? T(0) : v; });  // relu
    }
  });
}

bool clip_supports(DType t) {
  return visit_real_dtype(t, [](auto) {});
}

void clip_ref(const Tensor& x, const Tensor* lo, const Tensor* hi, Tensor& y, int threads) {
  QF_CHECK(x.dtype() == y.dtype() && x.numel() == y.numel());
  const bool ok = visit_real_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T l = lo ? lo->data<T>()[0] : std::numeric_limits<T>::lowest();
    const T h = hi ? hi->data<T>()[0] : std::numeric_limits<T>::max();
    // Written as compares so NaN inputs stay NaN: Min(max, Max(x, min)).
    map<T>(x, y, threads, [=](T v) {
      const T a = v < l ? l : v;
      return a > h ? h : a;
    });
  });
  QF_CHECK(ok, "clip_ref: unsupported dtype");
}

bool prelu_supports(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::s32 || t == DType::s64 || t == DType::u32 || t == DType::u64;
}

void prelu_ref(const Tensor& x, const Tensor& slope, Tensor& y, int threads) {
  QF_CHECK(prelu_supports(x.dtype()) && slope.dtype() == x.dtype() && y.dtype() == x.dtype());
  visit_real_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      binary_broadcast<T, T, T>(x, slope, y, threads, [](T v, T s) { return v < 0 ? s * v : v; });
    } else {
      binary_broadcast<T, T, T>(x, slope, y, threads, [](T v, T s) { return v < 0 ? wrap_mul(s, v) : v; });
    }
  });
}

}  // namespace qforge::runtime
