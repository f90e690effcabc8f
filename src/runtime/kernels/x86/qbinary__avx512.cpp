// AVX-512 QAdd / QMul (kernels/qbinary.h): 16 elements per step, the scalar formula op for op:
// VPMOVZXBD / VPMOVSXBD, − zero point, VCVTDQ2PS, × scale, + (or ×), ÷ y_scale, max / min with
// [qmin − yz, qmax − yz] (max returns the bound for NaN like the scalar), ± 1.5·2^23 (round half to
// even), VCVTTPS2DQ, + yz, VPMOVDB (values are in range, truncation is exact for u8 and s8).
#include <immintrin.h>

#include "runtime/kernels/qbinary.h"

namespace qforge::runtime {

namespace {

inline __m512 dequant16(__m128i bytes, bool s8, __m512i zp, __m512 scale) {
  const __m512i q = s8 ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zp)), scale);
}

}  // namespace

void qbinary_8__avx512(const QBinaryParams& p, const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n) {
  const __m512 sa = _mm512_set1_ps(p.sa), sb = _mm512_set1_ps(p.sb), ys = _mm512_set1_ps(p.ys);
  const __m512i za = _mm512_set1_epi32(p.za), zb = _mm512_set1_epi32(p.zb), yz = _mm512_set1_epi32(p.yz);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(p.qmin - p.yz));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(p.qmax - p.yz));
  const __m512 kRound = _mm512_set1_ps(12582912.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 da = dequant16(_mm_maskz_loadu_epi8(m, a + i), p.a_s8, za, sa);
    const __m512 db = dequant16(_mm_maskz_loadu_epi8(m, b + i), p.b_s8, zb, sb);
    __m512 v = p.mul ? _mm512_mul_ps(da, db) : _mm512_add_ps(da, db);
    v = _mm512_div_ps(v, ys);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    v = _mm512_sub_ps(_mm512_add_ps(v, kRound), kRound);
    const __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(v), yz);
    _mm512_mask_cvtepi32_storeu_epi8(y + i, m, q);
  }
}

}  // namespace qforge::runtime

namespace qforge::runtime {

__attribute__((target("avx512vbmi"))) void qlut_8__avx512vbmi(const uint8_t* table, uint8_t flip, const uint8_t* x,
                                                               uint8_t* y, int64_t n) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip));
  int64_t i = 0;
  for (; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i idx = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), f);
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);  // entries 0..127 (index bits 0..6)
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);  // entries 128..255
    _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
  }
}

}  // namespace qforge::runtime
