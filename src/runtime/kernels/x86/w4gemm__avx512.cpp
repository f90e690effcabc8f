// AVX-512 weight-only 4-bit MatMul (kernels/w4gemm.h): one zmm of 16 columns; per 8 k-rows one 64-byte
// load, nibbles split with one AND and one shift, each row's 16 codes widened (vpmovzxbd) and looked up
// in the 16-entry table (vpermps), minus the block's zero points, then one FMA per row of x. Up to four
// rows of x share each decoded weight row.
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/w4gemm.h"

namespace qforge::runtime {

namespace {

template <int MR, bool kZeros>
void tile_rows(const W4Packed& w, const float* x, float* y, int64_t t, __m512 lut) {
  const uint8_t* codes = w.codes.data() + t * w.groups * 64;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 out[MR];
  for (int i = 0; i < MR; ++i) out[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < w.blocks; ++b) {
    const __m512 s = _mm512_loadu_ps(w.scales.data() + (t * w.blocks + b) * 16);
    const __m512 z = kZeros ? _mm512_loadu_ps(w.zeros.data() + (t * w.blocks + b) * 16) : _mm512_setzero_ps();
    __m512 acc[MR];
    for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
    const int64_t kend = std::min(w.K, (b + 1) * w.block);
    for (int64_t k = b * w.block; k < kend; k += 8) {
      const __m512i v = _mm512_loadu_si512(codes + (k / 8) * 64);
      const __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      auto row = [&](__m128i q, int64_t kk) {
        __m512 wv = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(q), lut);
        if constexpr (kZeros) wv = _mm512_sub_ps(wv, z);
        for (int i = 0; i < MR; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(x[i * w.K + kk]), wv, acc[i]);
      };
      if (k + 8 <= kend) {
        row(_mm512_extracti32x4_epi32(lo, 0), k), row(_mm512_extracti32x4_epi32(hi, 0), k + 1);
        row(_mm512_extracti32x4_epi32(lo, 1), k + 2), row(_mm512_extracti32x4_epi32(hi, 1), k + 3);
        row(_mm512_extracti32x4_epi32(lo, 2), k + 4), row(_mm512_extracti32x4_epi32(hi, 2), k + 5);
        row(_mm512_extracti32x4_epi32(lo, 3), k + 6), row(_mm512_extracti32x4_epi32(hi, 3), k + 7);
      } else {
        alignas(64) uint8_t l[64], h[64];
        _mm512_store_si512(l, lo), _mm512_store_si512(h, hi);
        for (int64_t r = 0; k + r < kend; ++r)
          row(_mm_load_si128(reinterpret_cast<const __m128i*>((r % 2 ? h : l) + 16 * (r / 2))), k + r);
      }
    }
    for (int i = 0; i < MR; ++i) out[i] = _mm512_fmadd_ps(s, acc[i], out[i]);
  }
  const int64_t n0 = t * 16;
  const __mmask16 mask = static_cast<__mmask16>(w.N - n0 >= 16 ? 0xFFFF : (1u << (w.N - n0)) - 1);
  for (int i = 0; i < MR; ++i) _mm512_mask_storeu_ps(y + i * w.N + n0, mask, out[i]);
}

}  // namespace

void w4gemm_f32__avx512(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end) {
  const __m512 lut = _mm512_loadu_ps(w.lut);
  const bool zeros = w.has_zeros();
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    int64_t m = 0;
    for (; m + 4 <= M; m += 4)
      zeros ? tile_rows<4, true>(w, x + m * w.K, y + m * w.N, t, lut) : tile_rows<4, false>(w, x + m * w.K, y + m * w.N, t, lut);
    for (; m < M; ++m)
      zeros ? tile_rows<1, true>(w, x + m * w.K, y + m * w.N, t, lut) : tile_rows<1, false>(w, x + m * w.K, y + m * w.N, t, lut);
  }
}

}  // namespace qforge::runtime
