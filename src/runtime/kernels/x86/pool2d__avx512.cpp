// AVX-512 pooling plane kernel: vectorised over output columns, 16 per zmm, up to 4 independent
// accumulators per row. Stride 1 loads columns directly; stride 2 loads 32 input columns and keeps
// the even ones (vpermt2ps); other strides use the scalar kernel.
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
  if (p.sw == 1) is_max ? plane<1, true>(p, xpad, y) : plane<1, false>(p, xpad, y);
  else if (p.sw == 2) is_max ? plane<2, true>(p, xpad, y) : plane<2, false>(p, xpad, y);
  else pool2d_f32__scalar(p, xpad, is_max, y);
}

}  // namespace qforge::runtime
