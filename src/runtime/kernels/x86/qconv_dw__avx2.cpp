// AVX2 direct depthwise INT8 convolution: qconv_dw_u8s8__avx512 with 8 outputs per vector
// (VPMOVZXBD of 8 bytes, VPMULLD, the same float requantization op for op); the bytes are packed
// with saturating packs (exact: the values are already within the output type's range).
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "runtime/kernels/qconv.h"

namespace qforge::runtime {

void qconv_dw_u8s8__avx2(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                         const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1) {
  static thread_local std::vector<uint8_t> buf;
  const QconvDwPlane pd = qconv_dw_plane_dims(g, 16);
  const int64_t sh = g.stride[1], sw = g.stride[2], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t KH = g.kernel[1], KW = g.kernel[2], OH = g.out[1], OW = g.out[2];
  if (buf.size() < static_cast<size_t>(pd.rows * sw * pd.row_len)) buf.resize(static_cast<size_t>(pd.rows * sw * pd.row_len));
  uint8_t* plane = buf.data();
  const bool is_u8 = out.type == QgemmOut::u8;
  const __m256i vxzp = _mm256_set1_epi32(x_zp), vyzp = _mm256_set1_epi32(out.zero_point);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(out.qmin - out.zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(out.qmax - out.zero_point));
  const __m256 kRound = _mm256_set1_ps(12582912.0f);
  for (int64_t c = c0; c < c1; ++c) {
    qconv_dw_fill_plane(g, pd, x + c * g.in_plane(), static_cast<uint8_t>(x_zp), plane);
    const int8_t* wc = w + c * KH * KW;
    const __m256 vscale = _mm256_set1_ps(out.scale[c]);
    const __m256i vbias = _mm256_set1_epi32(out.bias ? out.bias[c] : 0);
    auto* yc = static_cast<uint8_t*>(y) + c * g.out_plane();
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int64_t ow0 = 0; ow0 < OW; ow0 += 8) {
        const int64_t n = OW - ow0 < 8 ? OW - ow0 : 8;
        __m256i acc = vbias;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const uint8_t* row = plane + (oh * sh + kh * dh) * sw * pd.row_len + ow0;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const int64_t off = kw * dw;
            const uint8_t* p = row + (off % sw) * pd.row_len + off / sw;
            const __m256i xv = _mm256_sub_epi32(
                _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), vxzp);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(xv, _mm256_set1_epi32(wc[kh * KW + kw])));
          }
        }
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), vscale);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        v = _mm256_sub_ps(_mm256_add_ps(v, kRound), kRound);
        const __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(v), vyzp);
        const __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        const __m128i b = is_u8 ? _mm_packus_epi16(s16, s16) : _mm_packs_epi16(s16, s16);
        uint8_t* dst = yc + oh * OW + ow0;
        if (n == 8) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), b);
        } else {
          alignas(16) uint8_t tmp[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
          std::memcpy(dst, tmp, static_cast<size_t>(n));
        }
      }
    }
  }
}

}  // namespace qforge::runtime
