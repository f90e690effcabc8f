#include "runtime/kernels/reference/quant_ext_ref.h"

#include <algorithm>

#include "quant/nf4.h"
#include "quant/quantize.h"

namespace qforge::runtime {

DynamicQParamsU8 dynamic_qparams_u8(const float* x, int64_t n) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  DynamicQParamsU8 p;
  p.scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float zp = std::clamp(0.0f - lo / p.scale, 0.0f, 255.0f);
  p.zero_point = static_cast<int32_t>(quant::round_half_even(zp));
  return p;
}

void dynamic_quantize_linear_ref(const Tensor& x, Tensor& y, Tensor& scale, Tensor& zero_point) {
  const int64_t n = x.numel();
  const float* src = x.data<float>();
  const DynamicQParamsU8 p = dynamic_qparams_u8(src, n);
  uint8_t* dst = y.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(quant::quantize_value(src[i], p.scale, p.zero_point, 0, 255));
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
