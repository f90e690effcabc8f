// AVX-512 depthwise plane kernel: vectorised over output columns, 16 per zmm, up to 4 independent
// accumulators per row (so the kh*kw FMA chain is not latency bound). Stride 1 loads columns
// directly; stride 2 loads 32 input columns and keeps the even ones (vpermt2ps); other strides use
// the scalar kernel.
#include <immintrin.h>

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

namespace {

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

template <int S>
inline __m512 load_cols(const float* p) {
  if constexpr (S == 1) {
    return _mm512_loadu_ps(p);
  } else {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
  }
}

// Columns [ow0, ow0 + 16*NV) of output row oh.
template <int S, int NV>
inline void row_block(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                      const FusedActivation& act, float* y, size_t oh, size_t ow0) {
  __m512 acc[NV];
#pragma unroll
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_set1_ps(bias);
  for (size_t kh = 0; kh < p.kh; ++kh) {
    const float* xr = xpad + (oh * p.sh + kh * p.dh) * p.xs + ow0 * S;
    for (size_t kw = 0; kw < p.kw; ++kw) {
      const __m512 wv = _mm512_set1_ps(w[kh * p.kw + kw]);
      const float* xc = xr + kw * p.dw;
#pragma unroll
      for (int v = 0; v < NV; ++v) acc[v] = _mm512_fmadd_ps(wv, load_cols<S>(xc + v * 16 * S), acc[v]);
    }
  }
  float* yr = y + oh * p.ow + ow0;
#pragma unroll
  for (int v = 0; v < NV; ++v) {
    const size_t left = p.ow - ow0 - v * 16;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    _mm512_mask_storeu_ps(yr + v * 16, m, apply_act(acc[v], act));
  }
}

template <int S>
void plane(const DwConvPlane& p, const float* xpad, const float* w, float bias, const FusedActivation& act,
           float* y) {
  for (size_t oh = 0; oh < p.oh; ++oh)
    for (size_t ow0 = 0; ow0 < p.ow; ow0 += 64) {
      switch (std::min<size_t>(4, (p.ow - ow0 + 15) / 16)) {
        case 1: row_block<S, 1>(p, xpad, w, bias, act, y, oh, ow0); break;
        case 2: row_block<S, 2>(p, xpad, w, bias, act, y, oh, ow0); break;
        case 3: row_block<S, 3>(p, xpad, w, bias, act, y, oh, ow0); break;
        default: row_block<S, 4>(p, xpad, w, bias, act, y, oh, ow0); break;
      }
    }
}

}  // namespace

void dwconv2d_f32__avx512(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                          const FusedActivation& act, float* y) {
  if (p.sw == 1) plane<1>(p, xpad, w, bias, act, y);
  else if (p.sw == 2) plane<2>(p, xpad, w, bias, act, y);
  else dwconv2d_f32__scalar(p, xpad, w, bias, act, y);
}

}  // namespace qforge::runtime
