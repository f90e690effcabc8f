// AVX2 depthwise plane kernel: vectorised over output columns, 8 per ymm, with R*NV (4)
// independent accumulators over R rows x NV vectors. Taps outside the input are masked loads
// (vmaskmovps: masked-off lanes read nothing and give 0), one column mask per (kw, vector) for each
// column block; rows out of range are skipped. Stride 1 loads columns directly; stride 2 loads 16
// input columns and keeps the even ones (shufps + vpermpd); other strides use the scalar kernel.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

namespace {

constexpr int64_t kMaxKw = 16;

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

inline __m256i lanes(int64_t from, int64_t to) {  // lanes [from, to) of 8, clamped
  from = std::clamp<int64_t>(from, 0, 8), to = std::clamp<int64_t>(to, 0, 8);
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int>(from) - 1));
  const __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(to)), idx);
  return _mm256_and_si256(ge, lt);
}

template <int S>
inline __m256 load_cols(const float* p, const __m256i* m) {
  if constexpr (S == 1) {
    return _mm256_maskload_ps(p, m[0]);
  } else {
    // [a0 a2 b0 b2 | a4 a6 b4 b6] → 64-bit lanes (0, 2, 1, 3) → [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 e = _mm256_shuffle_ps(_mm256_maskload_ps(p, m[0]), _mm256_maskload_ps(p + 8, m[1]),
                                       _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

inline const float* at(const float* x, int64_t elem) {
  return reinterpret_cast<const float*>(reinterpret_cast<intptr_t>(x) + static_cast<intptr_t>(elem) * 4);
}

template <int S, int R, int NV>
inline void block(const DwConvPlane& p, const float* x, const float* w, float bias, const FusedActivation& act,
                  float* y, int64_t oh, int64_t ow0, const __m256i (*mask)[4][2]) {
  __m256 acc[R][NV];
#pragma unroll
  for (int rr = 0; rr < R; ++rr)
#pragma unroll
    for (int v = 0; v < NV; ++v) acc[rr][v] = _mm256_set1_ps(bias);
  for (int64_t kh = 0; kh < p.kh; ++kh) {
    int64_t row[R];
    bool any = false;
#pragma unroll
    for (int rr = 0; rr < R; ++rr) {
      const int64_t ih = (oh + rr) * p.sh - p.pt + kh * p.dh;
      row[rr] = ih >= 0 && ih < p.h ? ih * p.w : -1;
      any |= row[rr] >= 0;
    }
    if (!any) continue;
    for (int64_t kw = 0; kw < p.kw; ++kw) {
      const __m256 wv = _mm256_set1_ps(w[kh * p.kw + kw]);
      const int64_t col = ow0 * S - p.pl + kw * p.dw;
#pragma unroll
      for (int rr = 0; rr < R; ++rr) {
        if (row[rr] < 0) continue;
#pragma unroll
        for (int v = 0; v < NV; ++v)
          acc[rr][v] = _mm256_fmadd_ps(wv, load_cols<S>(at(x, row[rr] + col + v * 8 * S), mask[kw][v]), acc[rr][v]);
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < R; ++rr) {
    float* yr = y + (oh + rr) * p.ow + ow0;
#pragma unroll
    for (int v = 0; v < NV; ++v) {
      const int64_t left = p.ow - ow0 - v * 8;
      const __m256 r = apply_act(acc[rr][v], act);
      if (left >= 8) _mm256_storeu_ps(yr + v * 8, r);
      else _mm256_maskstore_ps(yr + v * 8, lanes(0, left), r);
    }
  }
}

// N.B. hardware prefetchers may not follow masked loads: prefetch the input rows of output rows
// [oh, oh + R) from column ow0 on (the block after the current one).
template <int S, int R, int NV>
inline void prefetch_rows(const DwConvPlane& p, const float* x, int64_t oh, int64_t ow0) {
  if (oh >= p.oh) return;
  const int64_t r0 = std::max<int64_t>(0, oh * p.sh - p.pt);
  const int64_t r1 = std::min<int64_t>(p.h, (std::min(oh + R, p.oh) - 1) * p.sh - p.pt + (p.kh - 1) * p.dh + 1);
  const int64_t c0 = std::max<int64_t>(0, ow0 * S - p.pl);
  const int64_t c1 = std::min<int64_t>(p.w, (ow0 + 8 * NV) * S - p.pl + (p.kw - 1) * p.dw);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; c += 16) _mm_prefetch(reinterpret_cast<const char*>(x + r * p.w + c), _MM_HINT_T0);
}

template <int S, int R, int NV>
inline void rows(const DwConvPlane& p, const float* x, const float* w, float bias, const FusedActivation& act,
                 float* y, int64_t ow0, const __m256i (*mask)[4][2]) {
  int64_t oh = 0;
  prefetch_rows<S, R, NV>(p, x, 0, ow0);
  for (; oh + R <= p.oh; oh += R) {
    prefetch_rows<S, R, NV>(p, x, oh + R, ow0);
    block<S, R, NV>(p, x, w, bias, act, y, oh, ow0, mask);
  }
  for (; oh < p.oh; ++oh) block<S, 1, NV>(p, x, w, bias, act, y, oh, ow0, mask);
}

template <int S>
void plane(const DwConvPlane& p, const float* x, const float* w, float bias, const FusedActivation& act, float* y) {
  __m256i mask[kMaxKw][4][2];
  for (int64_t ow0 = 0; ow0 < p.ow; ow0 += 32) {
    const int64_t nv = std::min<int64_t>(4, (p.ow - ow0 + 7) / 8);
    for (int64_t kw = 0; kw < p.kw; ++kw)
      for (int64_t v = 0; v < nv; ++v) {
        const int64_t c0 = (ow0 + 8 * v) * S - p.pl + kw * p.dw;
        mask[kw][v][0] = lanes(-c0, p.w - c0);
        mask[kw][v][1] = lanes(-c0 - 8, p.w - c0 - 8);
      }
    switch (nv) {
      case 1: rows<S, 4, 1>(p, x, w, bias, act, y, ow0, mask); break;
      case 2: rows<S, 2, 2>(p, x, w, bias, act, y, ow0, mask); break;
      case 3: rows<S, 1, 3>(p, x, w, bias, act, y, ow0, mask); break;
      default: rows<S, 1, 4>(p, x, w, bias, act, y, ow0, mask); break;
    }
  }
}

}  // namespace

void dwconv2d_f32__avx2(const DwConvPlane& p, const float* x, const float* w, float bias,
                        const FusedActivation& act, float* y) {
  if (p.kw > kMaxKw) dwconv2d_f32__scalar(p, x, w, bias, act, y);
  else if (p.sw == 1) plane<1>(p, x, w, bias, act, y);
  else if (p.sw == 2) plane<2>(p, x, w, bias, act, y);
  else dwconv2d_f32__scalar(p, x, w, bias, act, y);
}

}  // namespace qforge::runtime
