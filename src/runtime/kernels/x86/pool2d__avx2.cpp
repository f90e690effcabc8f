// AVX2 pooling plane kernel: vectorised over output columns, 8 per ymm, up to 4 independent
// accumulators per row. Stride 1 loads columns directly; stride 2 loads 16 input columns and keeps
// the even ones (shufps + vpermpd); other strides use the scalar kernel.
#include <immintrin.h>

#include <limits>

#include "runtime/kernels/pool2d.h"

namespace qforge::runtime {

namespace {

inline __m256i lane_mask(size_t n) {
  alignas(32) static const int kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - n));
}

template <int S>
inline __m256 load_cols(const float* p) {
  if constexpr (S == 1) {
    return _mm256_loadu_ps(p);
  } else {
    const __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

template <int S, int NV, bool kMax>
inline void row_block(const Pool2dPlane& p, const float* xpad, float* y, size_t oh, size_t ow0) {
  __m256 acc[NV];
#pragma unroll
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_set1_ps(kMax ? -std::numeric_limits<float>::infinity() : 0.f);
  for (size_t kh = 0; kh < p.kh; ++kh) {
    const float* xr = xpad + (oh * p.sh + kh * p.dh) * p.xs + ow0 * S;
    for (size_t kw = 0; kw < p.kw; ++kw) {
      const float* xc = xr + kw * p.dw;
#pragma unroll
      for (int v = 0; v < NV; ++v) {
        const __m256 x = load_cols<S>(xc + v * 8 * S);
        acc[v] = kMax ? _mm256_max_ps(x, acc[v]) : _mm256_add_ps(acc[v], x);
      }
    }
  }
  float* yr = y + oh * p.ow + ow0;
#pragma unroll
  for (int v = 0; v < NV; ++v) {
    const size_t left = p.ow - ow0 - v * 8;
    if (left >= 8) _mm256_storeu_ps(yr + v * 8, acc[v]);
    else _mm256_maskstore_ps(yr + v * 8, lane_mask(left), acc[v]);
  }
}

constexpr size_t kVec = 8;

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

void pool2d_f32__avx2(const Pool2dPlane& p, const float* xpad, bool is_max, float* y) {
  if (p.sw == 1) is_max ? plane<1, true>(p, xpad, y) : plane<1, false>(p, xpad, y);
  else if (p.sw == 2) is_max ? plane<2, true>(p, xpad, y) : plane<2, false>(p, xpad, y);
  else pool2d_f32__scalar(p, xpad, is_max, y);
}

}  // namespace qforge::runtime
