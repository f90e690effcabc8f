// AVX-512 depthwise plane kernel: vectorised over output columns, 16 per zmm, with R*NV (up to 8)
// independent accumulators over R rows x NV vectors, so the kh*kw FMA chain of one accumulator
// does not bound throughput. Taps outside the input are masked loads (masked-off lanes read
// nothing and give 0): one column mask per (kw, vector) for each column block, rows out of range
// are skipped. Stride 1 loads columns directly; stride 2 loads 32 input columns and keeps the
// even ones (vpermt2ps); other strides use the scalar kernel.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

namespace {

constexpr int64_t kMaxKw = 16;

inline __m512 apply_act(__m512 v, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::none: return v;
    case FusedActivation::Kind::clamp:  // N.B. (bound, v) operand order lets NaN through
      return _mm512_min_ps(_mm512_set1_ps(act.hi), _mm512_max_ps(_mm512_set1_ps(act.lo), v));
    case FusedActivation::Kind::leaky: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
  }
  return v;
}

inline __mmask16 lanes(int64_t from, int64_t to) {  // lanes [from, to) of 16, clamped
  from = std::clamp<int64_t>(from, 0, 16), to = std::clamp<int64_t>(to, 0, 16);
  return from >= to ? __mmask16(0) : __mmask16(((1u << to) - 1) & ~((1u << from) - 1));
}

// Input columns of 16 outputs starting at element `p`: S == 1 one masked load; S == 2 two masked
// loads of 16 (masks m[0], m[1] over the 32 input columns) and the even columns kept.
template <int S>
inline __m512 load_cols(const float* p, const __mmask16* m) {
  if constexpr (S == 1) {
    return _mm512_maskz_loadu_ps(m[0], p);
  } else {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m[0], p), even, _mm512_maskz_loadu_ps(m[1], p + 16));
  }
}

// Address of x[row][col] formed as an integer: col may be negative for masked-off lanes.
inline const float* at(const float* x, int64_t elem) {
  return reinterpret_cast<const float*>(reinterpret_cast<intptr_t>(x) + static_cast<intptr_t>(elem) * 4);
}

template <int S, int R, int NV>
inline void block(const DwConvPlane& p, const float* x, const float* w, float bias, const FusedActivation& act,
                  float* y, int64_t oh, int64_t ow0, const __mmask16 (*mask)[4][2]) {
  __m512 acc[R][NV];
#pragma unroll
  for (int rr = 0; rr < R; ++rr)
#pragma unroll
    for (int v = 0; v < NV; ++v) acc[rr][v] = _mm512_set1_ps(bias);
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
      const __m512 wv = _mm512_set1_ps(w[kh * p.kw + kw]);
      const int64_t col = ow0 * S - p.pl + kw * p.dw;
#pragma unroll
      for (int rr = 0; rr < R; ++rr) {
        if (row[rr] < 0) continue;
#pragma unroll
        for (int v = 0; v < NV; ++v)
          acc[rr][v] = _mm512_fmadd_ps(wv, load_cols<S>(at(x, row[rr] + col + v * 16 * S), mask[kw][v]), acc[rr][v]);
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < R; ++rr) {
    float* yr = y + (oh + rr) * p.ow + ow0;
#pragma unroll
    for (int v = 0; v < NV; ++v) {
      const int64_t left = p.ow - ow0 - v * 16;
      // N.B. plain stores where the vector is full: masked stores to lines not in cache are slow on AMD.
      if (left >= 16) _mm512_storeu_ps(yr + v * 16, apply_act(acc[rr][v], act));
      else _mm512_mask_storeu_ps(yr + v * 16, lanes(0, left), apply_act(acc[rr][v], act));
    }
  }
}

// N.B. the hardware prefetchers do not follow masked loads (AMD Zen 4/5): without this, planes
// streamed from L3 / memory stall on every line. Prefetches the input rows of output rows
// [oh, oh + R) from column ow0 on (the block after the current one).
template <int S, int R, int NV>
inline void prefetch_rows(const DwConvPlane& p, const float* x, int64_t oh, int64_t ow0) {
  if (oh >= p.oh) return;
  const int64_t r0 = std::max<int64_t>(0, oh * p.sh - p.pt);
  const int64_t r1 = std::min<int64_t>(p.h, (std::min(oh + R, p.oh) - 1) * p.sh - p.pt + (p.kh - 1) * p.dh + 1);
  const int64_t c0 = std::max<int64_t>(0, ow0 * S - p.pl);
  const int64_t c1 = std::min<int64_t>(p.w, (ow0 + 16 * NV) * S - p.pl + (p.kw - 1) * p.dw);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; c += 16) _mm_prefetch(reinterpret_cast<const char*>(x + r * p.w + c), _MM_HINT_T0);
}

template <int S, int R, int NV>
inline void rows(const DwConvPlane& p, const float* x, const float* w, float bias, const FusedActivation& act,
                 float* y, int64_t ow0, const __mmask16 (*mask)[4][2]) {
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
  __mmask16 mask[kMaxKw][4][2];
  for (int64_t ow0 = 0; ow0 < p.ow; ow0 += 64) {
    const int64_t nv = std::min<int64_t>(4, (p.ow - ow0 + 15) / 16);
    // Input columns read by vector v at tap kw start at (ow0 + 16v)*S - pl + kw*dw; valid in [0, w).
    for (int64_t kw = 0; kw < p.kw; ++kw)
      for (int64_t v = 0; v < nv; ++v) {
        const int64_t c0 = (ow0 + 16 * v) * S - p.pl + kw * p.dw;
        mask[kw][v][0] = lanes(-c0, p.w - c0);
        mask[kw][v][1] = lanes(-c0 - 16, p.w - c0 - 16);
      }
    switch (nv) {
      case 1: rows<S, 4, 1>(p, x, w, bias, act, y, ow0, mask); break;
      case 2: rows<S, 4, 2>(p, x, w, bias, act, y, ow0, mask); break;
      case 3: rows<S, 2, 3>(p, x, w, bias, act, y, ow0, mask); break;
      default: rows<S, 2, 4>(p, x, w, bias, act, y, ow0, mask); break;
    }
  }
}

}  // namespace

void dwconv2d_f32__avx512(const DwConvPlane& p, const float* x, const float* w, float bias,
                          const FusedActivation& act, float* y) {
  if (p.kw > kMaxKw) dwconv2d_f32__scalar(p, x, w, bias, act, y);
  else if (p.sw == 1) plane<1>(p, x, w, bias, act, y);
  else if (p.sw == 2) plane<2>(p, x, w, bias, act, y);
  else dwconv2d_f32__scalar(p, x, w, bias, act, y);
}

}  // namespace qforge::runtime
