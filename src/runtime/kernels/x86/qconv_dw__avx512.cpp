// AVX-512 direct depthwise INT8 convolution, 1-D / 2-D, any stride / dilation / padding.
// Per channel the padded input is laid out as stride phases (qconv_dw_fill_plane), so for every tap the
// 16 outputs ow0..ow0+15 of an output row read 16 consecutive bytes: VPMOVZXBD to 16 int32, times the
// broadcast weight (VPMULLD), summed in int32. The zero point is folded into the seed:
// Σ (x − zp)·w + bias = Σ x·w + (bias − zp·Σ w), the same value mod 2^32 as the reference's
// sum-then-add (every add wraps the same way; |x·w| <= 255·128 per tap). Requantization is the float path of requantize_f32, op for op:
// cvtdq2ps, mul, max/min with [qmin − zp, qmax − zp], +/− 1.5·2^23 (round half to even), cvttps2dq,
// + zp; VPMOVDB stores the bytes (values are already in range), masked at the row's tail.
#include <immintrin.h>

#include <vector>

#include "runtime/kernels/qconv.h"

namespace qforge::runtime {

void qconv_dw_u8s8__avx512(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                           const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1) {
  static thread_local std::vector<uint8_t> buf;
  const QconvDwPlane pd = qconv_dw_plane_dims(g, 16);
  const int64_t sh = g.stride[1], sw = g.stride[2], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t KH = g.kernel[1], KW = g.kernel[2], OH = g.out[1], OW = g.out[2];
  if (buf.size() < static_cast<size_t>(pd.rows * sw * pd.row_len)) buf.resize(static_cast<size_t>(pd.rows * sw * pd.row_len));
  uint8_t* plane = buf.data();
  const __m512i vyzp = _mm512_set1_epi32(out.zero_point);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(out.qmin - out.zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(out.qmax - out.zero_point));
  const __m512 kRound = _mm512_set1_ps(12582912.0f);
  for (int64_t c = c0; c < c1; ++c) {
    qconv_dw_fill_plane(g, pd, x + c * g.in_plane(), static_cast<uint8_t>(x_zp), plane);
    const int8_t* wc = w + c * KH * KW;
    const __m512 vscale = _mm512_set1_ps(out.scale[c]);
    uint32_t wsum = 0;  // Σ w, wrapping like the seed below
    for (int64_t t = 0; t < KH * KW; ++t) wsum += static_cast<uint32_t>(static_cast<int32_t>(wc[t]));
    const uint32_t seed = static_cast<uint32_t>(out.bias ? out.bias[c] : 0) - static_cast<uint32_t>(x_zp) * wsum;
    const __m512i vbias = _mm512_set1_epi32(static_cast<int32_t>(seed));
    auto* yc = static_cast<uint8_t*>(y) + c * g.out_plane();
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int64_t ow0 = 0; ow0 < OW; ow0 += 16) {
        const int64_t n = OW - ow0 < 16 ? OW - ow0 : 16;
        __m512i acc = vbias;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const uint8_t* row = plane + (oh * sh + kh * dh) * sw * pd.row_len + ow0;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const int64_t off = kw * dw;
            const uint8_t* p = row + (off % sw) * pd.row_len + off / sw;
            const __m512i xv = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(xv, _mm512_set1_epi32(wc[kh * KW + kw])));
          }
        }
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), vscale);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        v = _mm512_sub_ps(_mm512_add_ps(v, kRound), kRound);
        const __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(v), vyzp);
        const __mmask16 mask = static_cast<__mmask16>((1u << n) - 1u);
        _mm512_mask_cvtepi32_storeu_epi8(yc + oh * OW + ow0, mask, q);
      }
    }
  }
}

}  // namespace qforge::runtime
