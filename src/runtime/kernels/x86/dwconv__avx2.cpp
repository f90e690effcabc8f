// AVX2 depthwise plane kernel: vectorised over output columns, 8 per ymm, up to 4 independent
// accumulators per row. Stride 1 loads columns directly; stride 2 loads 16 input columns and keeps
// the even ones (shufps + vpermpd); other strides use the scalar kernel.
#include <immintrin.h>

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

namespace {

inline __m256 apply_act(__m256 v, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::none: return v;
    case FusedActivation::Kind::clamp:  // N.B. (bound, v) operand order lets NaN through
      return _mm256_min_ps(_mm256_set1_ps(act.hi), _mm256_max_ps(_mm256_set1_ps(act.lo), v));
    case FusedActivation::Kind::leaky: {
      const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
    }
  }
  return v;
}

inline __m256i lane_mask(size_t n) {
  alignas(32) static const int kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - n));
}

template <int S>
inline __m256 load_cols(const float* p) {
  if constexpr (S == 1) {
    return _mm256_loadu_ps(p);
  } else {
    // [a0 a2 b0 b2 | a4 a6 b4 b6] → 64-bit lanes (0, 2, 1, 3) → [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

template <int S, int NV>
inline void row_block(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                      const FusedActivation& act, float* y, size_t oh, size_t ow0) {
  __m256 acc[NV];
#pragma unroll
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_set1_ps(bias);
  for (size_t kh = 0; kh < p.kh; ++kh) {
    const float* xr = xpad + (oh * p.sh + kh * p.dh) * p.xs + ow0 * S;
    for (size_t kw = 0; kw < p.kw; ++kw) {
      const __m256 wv = _mm256_set1_ps(w[kh * p.kw + kw]);
      const float* xc = xr + kw * p.dw;
#pragma unroll
      for (int v = 0; v < NV; ++v) acc[v] = _mm256_fmadd_ps(wv, load_cols<S>(xc + v * 8 * S), acc[v]);
    }
  }
  float* yr = y + oh * p.ow + ow0;
#pragma unroll
  for (int v = 0; v < NV; ++v) {
    const size_t left = p.ow - ow0 - v * 8;
    const __m256 r = apply_act(acc[v], act);
    if (left >= 8) _mm256_storeu_ps(yr + v * 8, r);
    else _mm256_maskstore_ps(yr + v * 8, lane_mask(left), r);
  }
}

template <int S>
void plane(const DwConvPlane& p, const float* xpad, const float* w, float bias, const FusedActivation& act,
           float* y) {
  for (size_t oh = 0; oh < p.oh; ++oh)
    for (size_t ow0 = 0; ow0 < p.ow; ow0 += 32) {
      switch (std::min<size_t>(4, (p.ow - ow0 + 7) / 8)) {
        case 1: row_block<S, 1>(p, xpad, w, bias, act, y, oh, ow0); break;
        case 2: row_block<S, 2>(p, xpad, w, bias, act, y, oh, ow0); break;
        case 3: row_block<S, 3>(p, xpad, w, bias, act, y, oh, ow0); break;
        default: row_block<S, 4>(p, xpad, w, bias, act, y, oh, ow0); break;
      }
    }
}

}  // namespace

void dwconv2d_f32__avx2(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                        const FusedActivation& act, float* y) {
  if (p.sw == 1) plane<1>(p, xpad, w, bias, act, y);
  else if (p.sw == 2) plane<2>(p, xpad, w, bias, act, y);
  else dwconv2d_f32__scalar(p, xpad, w, bias, act, y);
}

}  // namespace qforge::runtime
