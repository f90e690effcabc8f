// AVX2 SGEMM microkernel, 6x16 tile: 12 ymm accumulators (6 rows x 2 vectors of 8 columns), 2 ymm
// of B and one broadcast of A per k step: 15 of the 16 ymm registers.
// One instance per row count 1..6 and per A layout (row-major: a_cs == 1; transposed: a_rs == 1).
#include <immintrin.h>

#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {

inline __m256 apply_act(__m256 v, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::none: return v;
    // N.B. max/min return the second operand when either is NaN: (bound, v) lets NaN through.
    case FusedActivation::Kind::clamp:
      return _mm256_min_ps(_mm256_set1_ps(act.hi), _mm256_max_ps(_mm256_set1_ps(act.lo), v));
    case FusedActivation::Kind::leaky: {
      const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
    }
  }
  return v;
}

// Lane mask for the first n of 8 floats (n in 0..8).
inline __m256i lane_mask(size_t n) {
  alignas(32) static const int kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - n));
}

template <int MR, bool kRowMajor>
void tile(size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs, const float* b, float* c,
          size_t ldc, bool accumulate, const SgemmEpilogue* ep, size_t row0, size_t col0) {
  __m256 acc0[MR], acc1[MR];
  #pragma unroll
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  if constexpr (kRowMajor) {
    for (size_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(b + k * 16), b1 = _mm256_load_ps(b + k * 16 + 8);
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r * a_rs + k);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
  } else {
    for (size_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(b + k * 16), b1 = _mm256_load_ps(b + k * 16 + 8);
      const float* ak = a + k * a_cs;
      #pragma unroll
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(ak + r);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
  const __m256i m0 = lane_mask(nr >= 8 ? 8 : nr), m1 = lane_mask(nr >= 16 ? 8 : nr > 8 ? nr - 8 : 0);
  #pragma unroll
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m256 v0 = acc0[r], v1 = acc1[r];
    if (accumulate) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(cr, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(cr + 8, m1));
    }
    if (ep) {
      if (ep->bias) {
        if (ep->bias_per_row) {
          const __m256 bv = _mm256_set1_ps(ep->bias[row0 + r]);
          v0 = _mm256_add_ps(v0, bv);
          v1 = _mm256_add_ps(v1, bv);
        } else {
          v0 = _mm256_add_ps(v0, _mm256_maskload_ps(ep->bias + col0, m0));
          v1 = _mm256_add_ps(v1, _mm256_maskload_ps(ep->bias + col0 + 8, m1));
        }
      }
      v0 = apply_act(v0, ep->act);
      v1 = apply_act(v1, ep->act);
    }
    // N.B. full tiles use plain stores: vmaskmovps stores are slow (microcoded on AMD).
    if (nr == 16) {
      _mm256_storeu_ps(cr, v0);
      _mm256_storeu_ps(cr + 8, v1);
    } else {
      _mm256_maskstore_ps(cr, m0, v0);
      _mm256_maskstore_ps(cr + 8, m1, v1);
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
#undef QF_TILE
  }
}

}  // namespace

void sgemm_f32__avx2_6x16(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                          const float* b, float* c, size_t ldc, bool accumulate, const SgemmEpilogue* ep,
                          size_t row0, size_t col0) {
  if (a_cs == 1) dispatch<true>(mr, nr, kc, a, a_rs, a_cs, b, c, ldc, accumulate, ep, row0, col0);
  else dispatch<false>(mr, nr, kc, a, a_rs, a_cs, b, c, ldc, accumulate, ep, row0, col0);
}

}  // namespace qforge::runtime
