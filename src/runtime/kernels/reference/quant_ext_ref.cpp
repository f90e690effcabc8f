#include "runtime/kernels/reference/quant_ext_ref.h"

#include <algorithm>

#include "quant/nf4.h"
#include "quant/quantize.h"

namespace qforge::runtime {

DynamicQParamsU8 dynamic_qparams_u8(const float* x, int64_t n) {
  // min / max with 0 included; NaN never compares lower or higher, so it is skipped. 16 running
  // minima / maxima (a select per element, which the compiler vectorises) and then a final pass:
  // the same result as one sequential pass for every input, signed zeros included (a −0 never
  // replaces the initial +0, in either order).
  constexpr int L = 16;
  float lo16[L] = {}, hi16[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) {
      const float v = x[i + j];
      lo16[j] = v < lo16[j] ? v : lo16[j];
      hi16[j] = v > hi16[j] ? v : hi16[j];
    }
  float lo = 0, hi = 0;
  for (int j = 0; j < L; ++j) {
    lo = std::min(lo, lo16[j]);
    hi = std::max(hi, hi16[j]);
  }
  for (; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  DynamicQParamsU8 p;
  p.scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float zp = std::clamp(0.0f - lo / p.scale, 0.0f, 255.0f);
  p.zero_point = static_cast<int32_t>(quant::round_half_even(zp));
  return p;
}

namespace {
// restrict: lets the 1-byte stores vectorise.
void quantize_u8_row(const float* __restrict x, uint8_t* __restrict y, int64_t n, float scale, int32_t zp) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(quant::quantize_value(x[i], scale, zp, 0, 255));
}
}  // namespace

void dynamic_quantize_linear_ref(const Tensor& x, Tensor& y, Tensor& scale, Tensor& zero_point) {
  const int64_t n = x.numel();
  const float* src = x.data<float>();
  const DynamicQParamsU8 p = dynamic_qparams_u8(src, n);
  quantize_u8_row(src, y.data<uint8_t>(), n, p.scale, p.zero_point);
  scale.data<float>()[0] = p.scale;
  zero_point.data<uint8_t>()[0] = static_cast<uint8_t>(p.zero_point);
}

void matmul_integer_ref(const void* a, bool a_signed, const void* b, bool b_signed, int64_t M, int64_t N,
                        int64_t K, const int32_t* a_zp, int64_t a_zp_count, const int32_t* b_zp,
                        int64_t b_zp_count, int32_t* y) {
  auto at = [&](int64_t i) -> int32_t {
    return a_signed ? static_cast<const int8_t*>(a)[i] : static_cast<const uint8_t*>(a)[i];
  };
  auto bt = [&](int64_t i) -> int32_t {
    return b_signed ? static_cast<const int8_t*>(b)[i] : static_cast<const uint8_t*>(b)[i];
  };
  for (int64_t m = 0; m < M; ++m) {
    const int32_t za = a_zp ? a_zp[a_zp_count == 1 ? 0 : m] : 0;
    for (int64_t n = 0; n < N; ++n) {
      const int32_t zb = b_zp ? b_zp[b_zp_count == 1 ? 0 : n] : 0;
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += (at(m * K + k) - za) * (bt(k * N + n) - zb);
      y[m * N + n] = acc;
    }
  }
}

Tensor dequantize_bnb4_nf4_ref(const uint8_t* packed, const float* absmax, int64_t K, int64_t N, int64_t block_size) {
  Tensor w(DType::f32, {K, N});
  float* dst = w.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t i = n * K + k;
      const uint8_t byte = packed[i / 2];
      const int32_t code = (i % 2 == 0) ? byte >> 4 : byte & 0xF;
      dst[k * N + n] = quant::nf4_dequantize_value(code, absmax[i / block_size]);
    }
  return w;
}

}  // namespace qforge::runtime
