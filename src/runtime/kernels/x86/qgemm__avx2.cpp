// AVX2 INT8 GEMM microkernel, 4x8 tile, exact for every u8 activation and s8 weight.
// N.B. VPMADDUBSW (u8 x s8 -> s16 pairs) saturates: 255·127 + 255·127 = 64770 > 32767, so it cannot
// be used with full-range weights. Instead both operands are widened to s16 (VPMOVZXBW for A,
// VPMOVSXBW for B) and multiplied by VPMADDWD: s16 x s16 products summed in pairs into s32, exact
// (|pair| <= 2 · 255 · 128 = 65280; VPMADDWD only wraps for two −32768·−32768 products).
//
// Packed B panel: [ceil(K/4)][8][4] s8 = 32 bytes per group of 4 k. Per group, the low 16 bytes
// (columns 0..3 x k0..3) widen to one ymm of s16 and the high 16 bytes to another; A's 4 bytes widen
// to 4 s16 in every 64-bit lane (VPBROADCASTD + VPMOVZXBW). VPMADDWD then gives, per column, two
// partial sums (k0·+k1·, k2·+k3·) in adjacent dwords; the epilogue adds the pairs (VPHADDD + a lane
// permute).
// Registers: 8 accumulators + 2 B + A.
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/qgemm.h"

namespace qforge::runtime {

namespace {

inline __m256i widen_a4(const uint8_t* p, size_t n) {
  int32_t v = 0;
  std::memcpy(&v, p, n);
  // Broadcast the dword to 16 bytes, then widen all 16: [a0 a1 a2 a3] as s16 in every 64-bit lane.
  return _mm256_cvtepu8_epi16(_mm_set1_epi32(v));
}

inline __m256i requantize8(__m256i acc, __m256 scale, __m256 lo, __m256 hi, __m256i zp) {
  const __m256 kRound = _mm256_set1_ps(12582912.0f);
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
  v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);  // bound for NaN, like requantize_f32
  v = _mm256_sub_ps(_mm256_add_ps(v, kRound), kRound);
  return _mm256_add_epi32(_mm256_cvttps_epi32(v), zp);
}

template <int MR>
void tile(size_t nr, size_t K, const uint8_t* a, size_t lda, int32_t a_zp, const int8_t* b,
          const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc, size_t col0) {
  __m256i lo[MR], hi[MR];
  #pragma unroll
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
  // Full groups of 4 k, then the last 1..3 k (A bytes past K are read as 0, B is zero there).
  auto step = [&](size_t g, size_t n) __attribute__((always_inline)) {
    const int8_t* bg = b + g * 32;
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(bg)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(bg + 16)));
    #pragma unroll
    for (int r = 0; r < MR; ++r) {
      const __m256i av = widen_a4(a + r * lda + g * 4, n);
      lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(av, b0));
      hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(av, b1));
    }
  };
  for (size_t g = 0; g < K / 4; ++g) step(g, 4);
  if (K % 4) step(K / 4, K % 4);

  // Epilogue: column sums, corr = bias − a_zp · Σ_k B (wrapping), then the output stage on 8 lanes;
  // partial tiles go through a local buffer.
  alignas(32) int32_t bias[8] = {};
  alignas(32) float scale[8] = {}, bias_f[8] = {};
  for (size_t j = 0; j < nr; ++j) {
    if (out.bias) bias[j] = out.bias[col0 + j];
    if (out.scale) scale[j] = out.scale[col0 + j];
    if (out.bias_f32) bias_f[j] = out.bias_f32[col0 + j];
  }
  const __m256i corr = _mm256_sub_epi32(
      _mm256_load_si256(reinterpret_cast<const __m256i*>(bias)),
      _mm256_mullo_epi32(_mm256_set1_epi32(a_zp), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_sums))));
  const __m256 s = _mm256_load_ps(scale), bf = _mm256_load_ps(bias_f);
  const __m256 qlo = _mm256_set1_ps(static_cast<float>(out.qmin - out.zero_point));
  const __m256 qhi = _mm256_set1_ps(static_cast<float>(out.qmax - out.zero_point));
  const __m256i zp = _mm256_set1_epi32(out.zero_point);
  for (int r = 0; r < MR; ++r) {
    const __m256i sum = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[r], hi[r]), 0xD8);  // columns 0..7
    const __m256i v = _mm256_add_epi32(sum, corr);
    alignas(32) int32_t vi[8];
    alignas(32) float vf[8];
    switch (out.type) {
      case QgemmOut::s32: {
        int32_t* cr = static_cast<int32_t*>(c) + r * ldc;
        if (nr == 8) _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr), v);
        else {
          _mm256_store_si256(reinterpret_cast<__m256i*>(vi), v);
          std::memcpy(cr, vi, nr * 4);
        }
        break;
      }
      case QgemmOut::f32: {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), s);
        if (out.bias_f32) f = _mm256_add_ps(f, bf);
        float* cr = static_cast<float*>(c) + r * ldc;
        if (nr == 8) _mm256_storeu_ps(cr, f);
        else {
          _mm256_store_ps(vf, f);
          std::memcpy(cr, vf, nr * 4);
        }
        break;
      }
      case QgemmOut::u8:
      case QgemmOut::s8: {
        // Lanes are inside [qmin, qmax] ⊂ the byte type's range: keep each dword's low byte.
        _mm256_store_si256(reinterpret_cast<__m256i*>(vi), requantize8(v, s, qlo, qhi, zp));
        auto* cr = static_cast<uint8_t*>(c) + r * ldc;
        for (size_t j = 0; j < nr; ++j) cr[j] = static_cast<uint8_t>(vi[j]);
        break;
      }
    }
  }
}

}  // namespace

void qgemm_u8s8_s32__avx2_4x8(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda, int32_t a_zp,
                              const int8_t* b, const int32_t* col_sums, const QgemmOutputStage& out, void* c,
                              size_t ldc, size_t col0) {
  switch (mr) {
    case 1: return tile<1>(nr, K, a, lda, a_zp, b, col_sums, out, c, ldc, col0);
    case 2: return tile<2>(nr, K, a, lda, a_zp, b, col_sums, out, c, ldc, col0);
    case 3: return tile<3>(nr, K, a, lda, a_zp, b, col_sums, out, c, ldc, col0);
    case 4: return tile<4>(nr, K, a, lda, a_zp, b, col_sums, out, c, ldc, col0);
  }
}

}  // namespace qforge::runtime
