// AVX2 + FMA transcendental kernels. exp uses Cephes' range reduction x = n ln2 + r (ln2 split in
// two parts) and its degree-6 polynomial for e^r on [-ln2/2, ln2/2], then scales by 2^n through
// the exponent bits. Every function here only needs e^x for x <= 0 (sigmoid, tanh and erf are
// written through e^-|x|), so the input is clamped at -87.34 (2^-126) and nothing overflows.
// N.B. _mm256_max_ps(a, b) returns b when either is NaN: the clamps pass x second so NaN survives.
#include <immintrin.h>

#include <cmath>

#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/kernels/vmath.h"

namespace qforge::runtime {
namespace {

inline __m256 exp_neg(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-87.33654f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));  // NaN input: p is NaN
}

inline __m256 sign_of(__m256 x) { return _mm256_and_ps(x, _mm256_set1_ps(-0.0f)); }
inline __m256 abs_of(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

inline __m256 sigmoid8(__m256 x) {
  const __m256 e = exp_neg(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));  // e^-|x|
  const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  return _mm256_blendv_ps(_mm256_mul_ps(e, s), s, pos);  // x >= 0: 1/(1+e), else e/(1+e)
}

inline __m256 tanh8(__m256 x) {
  const __m256 a = abs_of(x);
  const __m256 e = exp_neg(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_or_ps(_mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e)), sign_of(x));
  // Near 0, 1 - e cancels: use the Taylor series x - x^3/3 + 2x^5/15 - 17x^7/315 (|x| < 1/16).
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-17.0f / 315);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.0f / 15));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.0f / 3));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, x2), x, x);
  return _mm256_blendv_ps(t, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.0625f), _CMP_LT_OQ));
}

// erf(x) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-x^2), t = 1 / (1 + p|x|), sign of x.
inline __m256 erf8(__m256 x) {
  const __m256 a = abs_of(x);
  const __m256 t =
      _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  const __m256 e = exp_neg(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  const __m256 y = _mm256_fnmadd_ps(_mm256_mul_ps(p, t), e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(y, sign_of(x));
}

inline __m256 gelu8(__m256 x) {
  const __m256 half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  const __m256 z = erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_fmadd_ps(half_x, z, half_x);
}

inline __m256 gelu_tanh8(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 inner =
      _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f), _mm256_fmadd_ps(x3, _mm256_set1_ps(0.044715f), x));
  const __m256 half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  return _mm256_fmadd_ps(half_x, tanh8(inner), half_x);
}

// Applies f to x[0..n) 8 at a time; the tail goes through a zero-padded stack buffer.
template <class F>
void map8(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = i; k < n; ++k) buf[k - i] = x[k];
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    for (int64_t k = i; k < n; ++k) y[k] = buf[k - i];
  }
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float mx = hmax(vmax);
  for (int64_t k = i; k < n; ++k) mx = x[k] > mx ? x[k] : mx;
  const __m256 m = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    if (!log) _mm256_storeu_ps(y + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = hsum(vsum);
  if (i < n) {
    alignas(32) float buf[8];
    for (int k = 0; k < 8; ++k) buf[k] = i + k < n ? x[i + k] - mx : 0.0f;
    _mm256_store_ps(buf, exp_neg(_mm256_load_ps(buf)));
    for (int64_t k = i; k < n; ++k) {
      if (!log) y[k] = buf[k - i];
      sum += buf[k - i];
    }
  }
  if (log) {
    // (x - max) - log(sum): folding max + log(sum) into one constant would round it at max's scale.
    const float lse = std::log(sum);
    const __m256 vl = _mm256_set1_ps(lse);
    for (i = 0; i + 8 <= n; i += 8)
      _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m), vl));
    for (int64_t k = i; k < n; ++k) y[k] = (x[k] - mx) - lse;
  } else {
    const float inv = 1.0f / sum;
    const __m256 s = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), s));
    for (int64_t k = i; k < n; ++k) y[k] *= inv;
  }
}

}  // namespace

bool activation_f32_has_avx2(ActivationKind kind) {
  return kind == ActivationKind::sigmoid || kind == ActivationKind::tanh || kind == ActivationKind::gelu ||
         kind == ActivationKind::gelu_tanh;
}

void activation_f32__avx2(ActivationKind kind, const float* x, float* y, int64_t n) {
  switch (kind) {
    case ActivationKind::sigmoid: map8(x, y, n, sigmoid8); return;
    case ActivationKind::tanh: map8(x, y, n, tanh8); return;
    case ActivationKind::gelu: map8(x, y, n, gelu8); return;
    case ActivationKind::gelu_tanh: map8(x, y, n, gelu_tanh8); return;
    default: break;
  }
  QF_CHECK(false, "activation_f32__avx2: kind not covered");
}

void softmax_rows_f32__avx2(const float* x, float* y, int64_t rows, int64_t n, bool log, int threads) {
  const int nt = (threads > 1 && rows * n >= kParallelMinElements) ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) softmax_row(x + r * n, y + r * n, n, log);
}

}  // namespace qforge::runtime
