// kl_sum_f64 on AVX-512: eight lanes, the steps of kl_log_f64 and kl_sum_f64__ref one for one
// (separate multiplies and adds, no FMA), so the sum is bit-identical to the reference's.
// The tail is a zero-masked load: p = q = 0 smooth to kKlEps, log 1 = +0, and the lane adds +0.
#include <immintrin.h>

#include "runtime/kernels/kl_sum.h"

namespace qforge::runtime {
namespace {

inline __m512d log8(__m512d x) {
  using namespace kl_log;
  const __m512i b = _mm512_castpd_si512(x);
  __m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi64(kMantissa)),
                                                  _mm512_set1_epi64(kOneBits)));
  __m512d e = _mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64(b, 52), _mm512_set1_epi64(kMagicBits)));
  e = _mm512_sub_pd(e, _mm512_set1_pd(kMagicBias));
  const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(kSqrt2), _CMP_GT_OQ);
  const __m512d half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
  m = _mm512_mask_mul_pd(m, big, m, half);
  e = _mm512_mask_add_pd(e, big, e, one);
  const __m512d f = _mm512_sub_pd(m, one);
  const __m512d s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
  const __m512d z = _mm512_mul_pd(s, s);
  const __m512d w = _mm512_mul_pd(z, z);
  __m512d t1 = _mm512_mul_pd(w, _mm512_set1_pd(kLg6));
  t1 = _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(kLg4), t1));
  t1 = _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(kLg2), t1));
  __m512d t2 = _mm512_mul_pd(w, _mm512_set1_pd(kLg7));
  t2 = _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(kLg5), t2));
  t2 = _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(kLg3), t2));
  t2 = _mm512_mul_pd(z, _mm512_add_pd(_mm512_set1_pd(kLg1), t2));
  const __m512d r = _mm512_add_pd(t2, t1);
  const __m512d hfsq = _mm512_mul_pd(_mm512_mul_pd(half, f), f);
  __m512d u = _mm512_mul_pd(s, _mm512_add_pd(hfsq, r));
  u = _mm512_add_pd(u, _mm512_mul_pd(e, _mm512_set1_pd(kLn2Lo)));
  u = _mm512_sub_pd(_mm512_sub_pd(hfsq, u), f);
  return _mm512_sub_pd(_mm512_mul_pd(e, _mm512_set1_pd(kLn2Hi)), u);
}

inline __m512d smoothed(__m512d v, __m512d e1) {
  const __mmask8 nz = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_NEQ_UQ);
  return _mm512_mask_sub_pd(_mm512_set1_pd(kKlEps), nz, v, e1);
}

}  // namespace

double kl_sum_f64__avx512(const double* p, const double* q, int64_t n, double e1p, double e1q) {
  const __m512d vp1 = _mm512_set1_pd(e1p), vq1 = _mm512_set1_pd(e1q);
  __m512d acc = _mm512_setzero_pd();
  for (int64_t k = 0; k < n; k += 8) {
    const __mmask8 live = n - k >= 8 ? __mmask8(0xff) : __mmask8((1u << (n - k)) - 1);
    const __m512d ps = smoothed(_mm512_maskz_loadu_pd(live, p + k), vp1);
    const __m512d qs = smoothed(_mm512_maskz_loadu_pd(live, q + k), vq1);
    acc = _mm512_add_pd(acc, _mm512_mul_pd(ps, log8(_mm512_div_pd(ps, qs))));
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, acc);
  double s = lanes[0];
  for (int l = 1; l < 8; ++l) s = s + lanes[l];
  return s;
}

}  // namespace qforge::runtime
