// AVX2 weight-only 4-bit MatMul (kernels/w4gemm.h): two ymm of 8 columns per 16-column tile; per 8
// k-rows one 64-byte read (two 32-byte loads), nibbles split with AND and shift, each row's codes
// widened (vpmovzxbd) and looked up in the 16-entry table with two vpermps and a blend on bit 3,
// minus the block's zero points, then one FMA per half row.
#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/w4gemm.h"

namespace qforge::runtime {

void w4gemm_f32__avx2(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end) {
  const __m256 lut_lo = _mm256_loadu_ps(w.lut), lut_hi = _mm256_loadu_ps(w.lut + 8);
  const __m256i bit3 = _mm256_set1_epi32(8);
  auto lookup = [&](__m128i q8) {  // 8 codes in the low 8 bytes → 8 floats
    const __m256i q = _mm256_cvtepu8_epi32(q8);
    const __m256 lo = _mm256_permutevar8x32_ps(lut_lo, q), hi = _mm256_permutevar8x32_ps(lut_hi, q);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(q, bit3), 28)));
  };
  const __m128i low4 = _mm_set1_epi8(0x0F);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* codes = w.codes.data() + t * w.groups * 64;
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x + m * w.K;
      __m256 out0 = _mm256_setzero_ps(), out1 = _mm256_setzero_ps();
      for (int64_t b = 0; b < w.blocks; ++b) {
        const float* s = w.scales.data() + (t * w.blocks + b) * 16;
        const float* zp = w.has_zeros() ? w.zeros.data() + (t * w.blocks + b) * 16 : nullptr;
        const __m256 z0 = zp ? _mm256_loadu_ps(zp) : _mm256_setzero_ps(), z1 = zp ? _mm256_loadu_ps(zp + 8) : _mm256_setzero_ps();
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        const int64_t kend = std::min(w.K, (b + 1) * w.block);
        for (int64_t k = b * w.block; k < kend; ++k) {
          const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + (k / 8) * 64 + 16 * ((k % 8) / 2)));
          const __m128i q = k % 2 ? _mm_and_si128(_mm_srli_epi16(v, 4), low4) : _mm_and_si128(v, low4);
          const __m256 xk = _mm256_set1_ps(xm[k]);
          acc0 = _mm256_fmadd_ps(xk, _mm256_sub_ps(lookup(q), z0), acc0);
          acc1 = _mm256_fmadd_ps(xk, _mm256_sub_ps(lookup(_mm_srli_si128(q, 8)), z1), acc1);
        }
        out0 = _mm256_fmadd_ps(_mm256_loadu_ps(s), acc0, out0);
        out1 = _mm256_fmadd_ps(_mm256_loadu_ps(s + 8), acc1, out1);
      }
      alignas(32) float o[16];
      _mm256_store_ps(o, out0), _mm256_store_ps(o + 8, out1);
      for (int c = 0; c < 16 && t * 16 + c < w.N; ++c) y[m * w.N + t * 16 + c] = o[c];
    }
  }
}

}  // namespace qforge::runtime
