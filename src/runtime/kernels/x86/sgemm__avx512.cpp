// AVX-512 SGEMM microkernel, 12x32 tile: 24 zmm accumulators (12 rows x 2 vectors of 16 columns),
// 2 zmm of B and one broadcast of A per k step: 27 of the 32 zmm registers, no spills.
// One instance per row count 1..12 (partial row tiles cost only their rows), one per A layout:
// row-major A (a_cs == 1: each row streams along k) and transposed A (a_rs == 1: one k step reads
// MR consecutive floats).
#include <immintrin.h>

#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {

inline __m512 apply_act(__m512 v, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::none: return v;
    // N.B. max/min return the second operand when either is NaN: (bound, v) lets NaN through.
    case FusedActivation::Kind::clamp:
      return _mm512_min_ps(_mm512_set1_ps(act.hi), _mm512_max_ps(_mm512_set1_ps(act.lo), v));
    case FusedActivation::Kind::leaky: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
  }
  return v;
}

template <int MR, bool kRowMajor>
void tile(size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs, const float* b, float* c,
          size_t ldc, bool accumulate, const SgemmEpilogue* ep, size_t row0, size_t col0) {
  __m512 acc0[MR], acc1[MR];
  #pragma unroll
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  if constexpr (kRowMajor) {
    for (size_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_load_ps(b + k * 32), b1 = _mm512_load_ps(b + k * 32 + 16);
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(a[r * a_rs + k]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  } else {
    for (size_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_load_ps(b + k * 32), b1 = _mm512_load_ps(b + k * 32 + 16);
      const float* ak = a + k * a_cs;
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(ak[r]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : nr > 16 ? __mmask16((1u << (nr - 16)) - 1) : __mmask16(0);
  #pragma unroll
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m512 v0 = acc0[r], v1 = acc1[r];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    if (ep) {
      if (ep->bias) {
        if (ep->bias_per_row) {
          const __m512 bv = _mm512_set1_ps(ep->bias[row0 + r]);
          v0 = _mm512_add_ps(v0, bv);
          v1 = _mm512_add_ps(v1, bv);
        } else {
          v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ep->bias + col0));
          v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ep->bias + col0 + 16));
        }
      }
      v0 = apply_act(v0, ep->act);
      v1 = apply_act(v1, ep->act);
    }
    // N.B. full tiles use plain stores: masked stores to lines not in cache are slow on AMD Zen.
    if (nr == 32) {
      _mm512_storeu_ps(cr, v0);
      _mm512_storeu_ps(cr + 16, v1);
    } else {
      _mm512_mask_storeu_ps(cr, m0, v0);
      _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
  }
}

template <bool kRowMajor>
void dispatch(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs, const float* b,
              float* c, size_t ldc, bool accumulate, const SgemmEpilogue* ep, size_t row0, size_t col0) {
  switch (mr) {
#define QF_TILE(R) \
  case R: return tile<R, kRowMajor>(nr, kc, a, a_rs, a_cs, b, c, ldc, accumulate, ep, row0, col0);
    QF_TILE(1) QF_TILE(2) QF_TILE(3) QF_TILE(4) QF_TILE(5) QF_TILE(6)
    QF_TILE(7) QF_TILE(8) QF_TILE(9) QF_TILE(10) QF_TILE(11) QF_TILE(12)
#undef QF_TILE
  }
}

}  // namespace

void sgemm_f32__avx512_12x32(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                             const float* b, float* c, size_t ldc, bool accumulate,
                             const SgemmEpilogue* ep, size_t row0, size_t col0) {
  if (a_cs == 1) dispatch<true>(mr, nr, kc, a, a_rs, a_cs, b, c, ldc, accumulate, ep, row0, col0);
  else dispatch<false>(mr, nr, kc, a, a_rs, a_cs, b, c, ldc, accumulate, ep, row0, col0);
}

}  // namespace qforge::runtime
