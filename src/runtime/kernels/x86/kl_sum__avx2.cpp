// kl_sum_f64 on AVX2: lanes 0-3 and 4-7 of the reference's eight accumulators in two registers, the
// steps of kl_log_f64 one for one (separate multiplies and adds, no FMA): bit-identical to the
// reference. The tail is a masked load: p = q = 0 smooth to kKlEps, log 1 = +0, and the lane adds +0.
#include <immintrin.h>

#include "runtime/kernels/kl_sum.h"

namespace qforge::runtime {
namespace {

inline __m256d log4(__m256d x) {
  using namespace kl_log;
  const __m256i b = _mm256_castpd_si256(x);
  __m256d m = _mm256_castsi256_pd(_mm256_or_si256(
      _mm256_and_si256(b, _mm256_set1_epi64x(static_cast<int64_t>(kMantissa))),
      _mm256_set1_epi64x(static_cast<int64_t>(kOneBits))));
  __m256d e = _mm256_castsi256_pd(
      _mm256_or_si256(_mm256_srli_epi64(b, 52), _mm256_set1_epi64x(static_cast<int64_t>(kMagicBits))));
  e = _mm256_sub_pd(e, _mm256_set1_pd(kMagicBias));
  const __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(kSqrt2), _CMP_GT_OQ);
  const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(m, half), big);
  e = _mm256_blendv_pd(e, _mm256_add_pd(e, one), big);
  const __m256d f = _mm256_sub_pd(m, one);
  const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  const __m256d z = _mm256_mul_pd(s, s);
  const __m256d w = _mm256_mul_pd(z, z);
  __m256d t1 = _mm256_mul_pd(w, _mm256_set1_pd(kLg6));
  t1 = _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(kLg4), t1));
  t1 = _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(kLg2), t1));
  __m256d t2 = _mm256_mul_pd(w, _mm256_set1_pd(kLg7));
  t2 = _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(kLg5), t2));
  t2 = _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(kLg3), t2));
  t2 = _mm256_mul_pd(z, _mm256_add_pd(_mm256_set1_pd(kLg1), t2));
  const __m256d r = _mm256_add_pd(t2, t1);
  const __m256d hfsq = _mm256_mul_pd(_mm256_mul_pd(half, f), f);
  __m256d u = _mm256_mul_pd(s, _mm256_add_pd(hfsq, r));
  u = _mm256_add_pd(u, _mm256_mul_pd(e, _mm256_set1_pd(kLn2Lo)));
  u = _mm256_sub_pd(_mm256_sub_pd(hfsq, u), f);
  return _mm256_sub_pd(_mm256_mul_pd(e, _mm256_set1_pd(kLn2Hi)), u);
}

inline __m256d smoothed(__m256d v, __m256d e1) {
  const __m256d nz = _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_NEQ_UQ);
  return _mm256_blendv_pd(_mm256_set1_pd(kKlEps), _mm256_sub_pd(v, e1), nz);
}

inline __m256i live_mask(int64_t left) {  // lanes 0 .. left-1 of four
  const __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(left), idx);
}

inline __m256d term(const double* p, const double* q, int64_t left, __m256d vp1, __m256d vq1) {
  __m256d pv, qv;
  if (left >= 4) {
    pv = _mm256_loadu_pd(p);
    qv = _mm256_loadu_pd(q);
  } else {
    const __m256i live = live_mask(left > 0 ? left : 0);
    pv = _mm256_maskload_pd(p, live);
    qv = _mm256_maskload_pd(q, live);
  }
  const __m256d ps = smoothed(pv, vp1), qs = smoothed(qv, vq1);
  return _mm256_mul_pd(ps, log4(_mm256_div_pd(ps, qs)));
}

}  // namespace

double kl_sum_f64__avx2(const double* p, const double* q, int64_t n, double e1p, double e1q) {
  const __m256d vp1 = _mm256_set1_pd(e1p), vq1 = _mm256_set1_pd(e1q);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  for (int64_t k = 0; k < n; k += 8) {
    lo = _mm256_add_pd(lo, term(p + k, q + k, n - k, vp1, vq1));
    hi = _mm256_add_pd(hi, term(p + k + 4, q + k + 4, n - k - 4, vp1, vq1));
  }
  alignas(32) double lanes[8];
  _mm256_store_pd(lanes, lo);
  _mm256_store_pd(lanes + 4, hi);
  double s = lanes[0];
  for (int l = 1; l < 8; ++l) s = s + lanes[l];
  return s;
}

}  // namespace qforge::runtime
