// AVX-512 pooling plane kernel: vectorised over output columns, 16 per zmm, up to 4 independent
// accumulators per row. Stride 1 loads columns directly; stride 2 loads 32 input columns and keeps
// the even ones (vpermt2ps); other strides use the scalar kernel. 2x2 max at stride 2 has its own loop.
#include <immintrin.h>

#include <limits>

#include "runtime/kernels/pool2d.h"

namespace qforge::runtime {

namespace {

template <int S>
inline __m512 load_cols(const float* p) {
  if constexpr (S == 1) {
    return _mm512_loadu_ps(p);
  } else {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
  }
}

template <int S, int NV, bool kMax>
inline void row_block(const Pool2dPlane& p, const float* xpad, float* y, size_t oh, size_t ow0) {
  __m512 acc[NV];
#pragma unroll
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_set1_ps(kMax ? -std::numeric_limits<float>::infinity() : 0.f);
  for (size_t kh = 0; kh < p.kh; ++kh) {
    const float* xr = xpad + (oh * p.sh + kh * p.dh) * p.xs + ow0 * S;
    for (size_t kw = 0; kw < p.kw; ++kw) {
      const float* xc = xr + kw * p.dw;
#pragma unroll
      for (int v = 0; v < NV; ++v) {
        const __m512 x = load_cols<S>(xc + v * 16 * S);
        // N.B. max(x, acc) keeps acc when x is NaN; NaN inputs are the reference's business.
        acc[v] = kMax ? _mm512_max_ps(x, acc[v]) : _mm512_add_ps(acc[v], x);
      }
    }
  }
  float* yr = y + oh * p.ow + ow0;
#pragma unroll
  for (int v = 0; v < NV; ++v) {
    const size_t left = p.ow - ow0 - v * 16;
    // N.B. plain stores where the vector is full: masked stores to lines not in cache are slow on AMD.
    if (left >= 16) _mm512_storeu_ps(yr + v * 16, acc[v]);
    else _mm512_mask_storeu_ps(yr + v * 16, __mmask16((1u << left) - 1), acc[v]);
  }
}

constexpr size_t kVec = 16;

// 2x2 max window at stride 2 (dilation 1), the common downsampling pool: per 16 outputs the two
// input rows' 32 columns are max-ed vertically first, then the even and odd columns (4 loads, 2
// permutes, 3 max instead of 8 loads, 4 permutes, 4 max).
void max2x2s2(const Pool2dPlane& p, const float* xpad, float* y) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (size_t oh = 0; oh < p.oh; ++oh) {
    const float* r0 = xpad + 2 * oh * p.xs;
    const float* r1 = r0 + p.xs;
    float* yr = y + oh * p.ow;
    for (size_t ow0 = 0; ow0 < p.ow; ow0 += kVec) {
      const __m512 lo = _mm512_max_ps(_mm512_loadu_ps(r0 + 2 * ow0), _mm512_loadu_ps(r1 + 2 * ow0));
      const __m512 hi = _mm512_max_ps(_mm512_loadu_ps(r0 + 2 * ow0 + 16), _mm512_loadu_ps(r1 + 2 * ow0 + 16));
      const __m512 m = _mm512_max_ps(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi));
      const size_t left = p.ow - ow0;
      if (left >= kVec) _mm512_storeu_ps(yr + ow0, m);
      else _mm512_mask_storeu_ps(yr + ow0, __mmask16((1u << left) - 1), m);
    }
  }
}

template <int S, bool kMax>
void plane(const Pool2dPlane& p, const float* xpad, float* y) {
  for (size_t oh = 0; oh < p.oh; ++oh)
    for (size_t ow0 = 0; ow0 < p.ow; ow0 += 4 * kVec) {
      switch (std::min<size_t>(4, (p.ow - ow0 + kVec - 1) / kVec)) {
        case 1: row_block<S, 1, kMax>(p, xpad, y, oh, ow0); break;
        case 2: row_block<S, 2, kMax>(p, xpad, y, oh, ow0); break;
        case 3: row_block<S, 3, kMax>(p, xpad, y, oh, ow0); break;
        default: row_block<S, 4, kMax>(p, xpad, y, oh, ow0); break;
      }
    }
}

}  // namespace

void pool2d_f32__avx512(const Pool2dPlane& p, const float* xpad, bool is_max, float* y) {
  if (is_max && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1) max2x2s2(p, xpad, y);
  else if (p.sw == 1) is_max ? plane<1, true>(p, xpad, y) : plane<1, false>(p, xpad, y);
  else if (p.sw == 2) is_max ? plane<2, true>(p, xpad, y) : plane<2, false>(p, xpad, y);
  else pool2d_f32__scalar(p, xpad, is_max, y);
}

}  // namespace qforge::runtime
