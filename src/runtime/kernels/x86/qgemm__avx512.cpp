// AVX-512 VNNI INT8 GEMM microkernels, one template for three tiles: 6x64 (24 zmm int32 accumulators,
// 6 rows x 4 vectors of 16 columns, 4 zmm of packed B, one broadcast of A: 29 of the 32 zmm), 12x32
// (24 + 2 + 1) and 12x16 (12 + 1 + 1; the narrow layers of small CNNs have 8..32 output channels, where
// the 64-wide tile would compute mostly padding). The driver picks the tile by N (qgemm_kernel).
// One VPDPBUSD multiplies 4 u8 activations (the broadcast dword) by 4 s8 weights per column and adds
// the 4 products to the int32 lane: 64 multiply-adds per instruction, no intermediate saturation
// (the non-"S" form wraps, and qgemm.h bounds the sums so nothing wraps for K <= 65536).
// One instance per row count 1..MR (partial row tiles cost only their rows).
// N.B. the tile must stay in registers: built by clang 14 the inner loop has no stack traffic
// (checked with objdump); GCC 12 spilled the same accumulators (issue 5).
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/qgemm.h"

namespace qforge::runtime {

namespace {

inline int32_t load_a4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The last 1..3 bytes of a row, zero-extended (never reads past the row).
inline int32_t load_a_tail(const uint8_t* p, size_t n) {
  int32_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

inline __mmask16 col_mask(size_t nr, int j) {  // lanes of column vector j below nr
  const size_t lo = static_cast<size_t>(j) * 16;
  if (nr >= lo + 16) return 0xFFFF;
  if (nr <= lo) return 0;
  return static_cast<__mmask16>((1u << (nr - lo)) - 1);
}

// requantize_f32 on 16 lanes: float(acc) * scale, clamp to [qmin - zp, qmax - zp], round half to
// even, + zp. max/min return the bound for NaN like the scalar. The scalar rounds by adding and
// subtracting 1.5 * 2^23; after the clamp |v| <= 510, where that equals the conversion with embedded
// round-to-nearest-even (one instruction instead of three).
inline __m512i requantize16(__m512i acc, __m512 scale, __m512 lo, __m512 hi, __m512i zp) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
}

// K = segs · seg_len: row r's k values are `segs` runs of seg_len bytes, run s at a + r·lda + s·seg_stride
// (segs = 1 for a plain GEMM; seg_len a multiple of 4 when segs > 1: the implicit-GEMM convolution).
template <int MR, int NV>  // NV vectors of 16 columns: NR = 16 · NV
void tile(size_t nr, size_t K, const uint8_t* a, size_t lda, size_t seg_len, size_t seg_stride, int32_t a_zp,
          const int8_t* b, const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc, size_t col0) {
  __m512i acc[MR][NV];
  #pragma unroll
  for (int r = 0; r < MR; ++r)
    #pragma unroll
    for (int j = 0; j < NV; ++j) acc[r][j] = _mm512_setzero_si512();
  const size_t groups = seg_len / 4, rem = K % 4, segs = K / seg_len;
  for (size_t s = 0; s < segs; ++s, a += seg_stride, b += groups * (64 * NV)) {
    for (size_t g = 0; g < groups; ++g) {
      const int8_t* bg = b + g * (64 * NV);
      __m512i bv[NV];
      #pragma unroll
      for (int j = 0; j < NV; ++j) bv[j] = _mm512_load_si512(bg + 64 * j);
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        const __m512i av = _mm512_set1_epi32(load_a4(a + r * lda + g * 4));
        #pragma unroll
        for (int j = 0; j < NV; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, bv[j]);
      }
    }
  }
  a -= segs * seg_stride;
  b -= segs * groups * (64 * NV);
  if (rem) {
    const int8_t* bg = b + groups * (64 * NV);
    __m512i bv[NV];
    #pragma unroll
    for (int j = 0; j < NV; ++j) bv[j] = _mm512_load_si512(bg + 64 * j);
    #pragma unroll
    for (int r = 0; r < MR; ++r) {
      const __m512i av = _mm512_set1_epi32(load_a_tail(a + r * lda + groups * 4, rem));
      #pragma unroll
      for (int j = 0; j < NV; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, bv[j]);
    }
  }

  // Epilogue, per column vector: corr = bias − a_zp · Σ_k B (wrapping, like the scalar).
  const bool full = nr == 16 * NV;
  __mmask16 mask[NV];
  __m512i corr[NV];
  const __m512i zpv = _mm512_set1_epi32(a_zp);
  #pragma unroll
  for (int j = 0; j < NV; ++j) {
    mask[j] = col_mask(nr, j);
    corr[j] = _mm512_sub_epi32(out.bias ? _mm512_maskz_loadu_epi32(mask[j], out.bias + col0 + j * 16)
                                        : _mm512_setzero_si512(),
                               _mm512_mullo_epi32(zpv, _mm512_load_si512(col_sums + j * 16)));
  }
  switch (out.type) {
    case QgemmOut::s32: {
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        int32_t* cr = static_cast<int32_t*>(c) + r * ldc;
        #pragma unroll
        for (int j = 0; j < NV; ++j) {
          const __m512i v = _mm512_add_epi32(acc[r][j], corr[j]);
          // N.B. full tiles use plain stores: masked stores to lines not in cache are slow on AMD Zen.
          if (full) _mm512_storeu_si512(cr + j * 16, v);
          else _mm512_mask_storeu_epi32(cr + j * 16, mask[j], v);
        }
      }
      return;
    }
    case QgemmOut::f32: {
      for (int j = 0; j < NV; ++j) {
        if (!mask[j]) continue;
        const __m512 s = _mm512_maskz_loadu_ps(mask[j], out.scale + col0 + j * 16);
        const __m512 bf = out.bias_f32 ? _mm512_maskz_loadu_ps(mask[j], out.bias_f32 + col0 + j * 16)
                                       : _mm512_setzero_ps();
        #pragma unroll
        for (int r = 0; r < MR; ++r) {
          float* cr = static_cast<float*>(c) + r * ldc + j * 16;
          __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[r][j], corr[j])), s);
          if (out.bias_f32) v = _mm512_add_ps(v, bf);
          if (full) _mm512_storeu_ps(cr, v);
          else _mm512_mask_storeu_ps(cr, mask[j], v);
        }
      }
      return;
    }
    case QgemmOut::u8:
    case QgemmOut::s8: {
      const __m512 lo = _mm512_set1_ps(static_cast<float>(out.qmin - out.zero_point));
      const __m512 hi = _mm512_set1_ps(static_cast<float>(out.qmax - out.zero_point));
      const __m512i zp = _mm512_set1_epi32(out.zero_point);
      for (int j = 0; j < NV; ++j) {
        if (!mask[j]) continue;
        const __m512 s = _mm512_maskz_loadu_ps(mask[j], out.scale + col0 + j * 16);
        #pragma unroll
        for (int r = 0; r < MR; ++r) {
          auto* cr = static_cast<uint8_t*>(c) + r * ldc + j * 16;
          // Values are inside [qmin, qmax], so truncating each lane to a byte (VPMOVDB) is exact for
          // both u8 and s8.
          const __m128i q = _mm512_cvtepi32_epi8(requantize16(_mm512_add_epi32(acc[r][j], corr[j]), s, lo, hi, zp));
          if (full) _mm_storeu_si128(reinterpret_cast<__m128i*>(cr), q);
          else _mm_mask_storeu_epi8(cr, mask[j], q);
        }
      }
      return;
    }
  }
}

}  // namespace

#define QF_TILE(R, NV) \
  case R: return tile<R, NV>(nr, K, a, lda, K, 0, a_zp, b, col_sums, out, c, ldc, col0);

void qgemm_u8s8_s32__avx512vnni_6x64(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                     int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                     const QgemmOutputStage& out, void* c, size_t ldc, size_t col0) {
  switch (mr) { QF_TILE(1, 4) QF_TILE(2, 4) QF_TILE(3, 4) QF_TILE(4, 4) QF_TILE(5, 4) QF_TILE(6, 4) }
}

void qgemm_u8s8_s32__avx512vnni_12x32(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                      int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                      const QgemmOutputStage& out, void* c, size_t ldc, size_t col0) {
  switch (mr) {
    QF_TILE(1, 2) QF_TILE(2, 2) QF_TILE(3, 2) QF_TILE(4, 2) QF_TILE(5, 2) QF_TILE(6, 2)
    QF_TILE(7, 2) QF_TILE(8, 2) QF_TILE(9, 2) QF_TILE(10, 2) QF_TILE(11, 2) QF_TILE(12, 2)
  }
}

void qgemm_u8s8_s32__avx512vnni_12x16(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                      int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                      const QgemmOutputStage& out, void* c, size_t ldc, size_t col0) {
  switch (mr) {
    QF_TILE(1, 1) QF_TILE(2, 1) QF_TILE(3, 1) QF_TILE(4, 1) QF_TILE(5, 1) QF_TILE(6, 1)
    QF_TILE(7, 1) QF_TILE(8, 1) QF_TILE(9, 1) QF_TILE(10, 1) QF_TILE(11, 1) QF_TILE(12, 1)
  }
}
#undef QF_TILE

#define QF_TILE(R, NV) \
  case R: return tile<R, NV>(nr, seg_len * segs, a, lda, seg_len, seg_stride, a_zp, b, col_sums, out, c, ldc, col0);

void qgemm_seg_u8s8_s32__avx512vnni_6x64(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                         size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                         const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                         size_t col0) {
  switch (mr) { QF_TILE(1, 4) QF_TILE(2, 4) QF_TILE(3, 4) QF_TILE(4, 4) QF_TILE(5, 4) QF_TILE(6, 4) }
}

void qgemm_seg_u8s8_s32__avx512vnni_12x32(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                          size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                          const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                          size_t col0) {
  switch (mr) {
    QF_TILE(1, 2) QF_TILE(2, 2) QF_TILE(3, 2) QF_TILE(4, 2) QF_TILE(5, 2) QF_TILE(6, 2)
    QF_TILE(7, 2) QF_TILE(8, 2) QF_TILE(9, 2) QF_TILE(10, 2) QF_TILE(11, 2) QF_TILE(12, 2)
  }
}

void qgemm_seg_u8s8_s32__avx512vnni_12x16(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                          size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                          const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                          size_t col0) {
  switch (mr) {
    QF_TILE(1, 1) QF_TILE(2, 1) QF_TILE(3, 1) QF_TILE(4, 1) QF_TILE(5, 1) QF_TILE(6, 1)
    QF_TILE(7, 1) QF_TILE(8, 1) QF_TILE(9, 1) QF_TILE(10, 1) QF_TILE(11, 1) QF_TILE(12, 1)
  }
}
#undef QF_TILE

}  // namespace qforge::runtime
