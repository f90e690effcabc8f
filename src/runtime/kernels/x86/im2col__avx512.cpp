// AVX-512 im2col panel (NR <= 32), strides 1 and 2. Everything that depends only on the panel's
// runs is worked out once per panel: for each kernel column kw and run, the load masks of the
// lanes whose tap lands inside the input row; for each kernel row kh and run, the input row (or
// none). The k loop is then, per run and 16 outputs, one masked load (stride 2: two, keeping the
// even columns with vpermt2ps) and one masked store; masked-off lanes read nothing and give 0.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "runtime/kernels/conv_gemm.h"

namespace qforge::runtime {

namespace {
constexpr int kMaxKw = 16;

inline __mmask16 lanes(int64_t from, int64_t to) {  // lanes [from, to) of 16, clamped
  from = std::clamp<int64_t>(from, 0, 16), to = std::clamp<int64_t>(to, 0, 16);
  return from >= to ? __mmask16(0) : __mmask16(((1u << to) - 1) & ~((1u << from) - 1));
}

template <int S>
inline __m512 load_cols(const float* p, const __mmask16* m) {
  if constexpr (S == 1) {
    return _mm512_maskz_loadu_ps(m[0], p);
  } else {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m[0], p), even, _mm512_maskz_loadu_ps(m[1], p + 16));
  }
}

template <int S>
void panel(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst) {
  const int64_t H = g.in[1], W = g.in[2], KH = g.kernel[1], KW = g.kernel[2];
  const int64_t sh = g.stride[1], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t ph = g.pad_begin[1], pw = g.pad_begin[2];
  Im2colRun runs[32];
  const int nruns = static_cast<int>(im2col_runs(g, q0, nr, runs));
  __mmask16 st[32][2], ld[kMaxKw][32][2][2];
  for (int r = 0; r < nruns; ++r) {
    const int64_t len = runs[r].ow1 - runs[r].ow0;
    st[r][0] = lanes(0, len), st[r][1] = lanes(-16, len - 16);
  }
  for (int64_t kw = 0; kw < KW; ++kw) {
    int64_t lo, hi;
    im2col_valid_cols(g, kw, lo, hi);
    for (int r = 0; r < nruns; ++r) {
      // Valid output lanes of the run: [a, e) relative to run.ow0; lane i reads input column
      // element S*i of the run's source.
      const int64_t a = std::clamp(lo, runs[r].ow0, runs[r].ow1) - runs[r].ow0;
      const int64_t e = std::clamp(hi, runs[r].ow0 + a, runs[r].ow1) - runs[r].ow0;
      for (int h = 0; h < 2; ++h) {
        const int64_t ha = std::clamp<int64_t>(a - 16 * h, 0, 16), he = std::clamp<int64_t>(e - 16 * h, 0, 16);
        if (S == 1) {
          ld[kw][r][h][0] = lanes(ha, he);
          ld[kw][r][h][1] = 0;
        } else {  // input elements [2*ha, 2*he - 1) of the 32 read for this half
          ld[kw][r][h][0] = ha < he ? lanes(2 * ha, 2 * he - 1) : __mmask16(0);
          ld[kw][r][h][1] = ha < he ? lanes(2 * ha - 16, 2 * he - 17) : __mmask16(0);
        }
      }
    }
  }
  const __mmask16 tail0 = lanes(static_cast<int64_t>(nr), static_cast<int64_t>(NR));
  const __mmask16 tail1 = lanes(static_cast<int64_t>(nr) - 16, static_cast<int64_t>(NR) - 16);
  const __m512 zero = _mm512_setzero_ps();
  float* d = dst;
  int64_t row_of[32];  // element offset of (input row ih, column S*run.ow0) in the plane, or -1
  for (int64_t c = 0; c < g.in_channels / g.group; ++c) {
    const intptr_t xc = reinterpret_cast<intptr_t>(xg + c * H * W);
    for (int64_t kh = 0; kh < KH; ++kh) {
      for (int r = 0; r < nruns; ++r) {
        const int64_t ih = runs[r].oh * sh - ph + kh * dh;
        row_of[r] = ih < 0 || ih >= H ? -1 : ih * W + runs[r].ow0 * S;
      }
      // N.B. the hardware prefetchers do not follow masked loads (AMD Zen 4/5): fetch the lines the
      // next panel reads on these input rows (continuing along the row, or the row below).
      for (int r = 0; r < nruns; ++r)
        if (row_of[r] >= 0)
          for (int64_t l = 0; l < 2 * S; ++l)
            _mm_prefetch(reinterpret_cast<const char*>(xc + (row_of[r] + 32 * S + 16 * l) * 4), _MM_HINT_T0);
      for (int64_t kw = 0; kw < KW; ++kw, d += NR) {
        const int64_t off = kw * dw - pw;
        for (int r = 0; r < nruns; ++r) {
          float* ds = d + runs[r].j0;
          if (row_of[r] < 0) {
            _mm512_mask_storeu_ps(ds, st[r][0], zero);
            _mm512_mask_storeu_ps(ds + 16, st[r][1], zero);
            continue;
          }
          // Address formed as an integer: lanes before the row start are masked off, never read.
          const float* src = reinterpret_cast<const float*>(xc + (row_of[r] + off) * 4);
          _mm512_mask_storeu_ps(ds, st[r][0], load_cols<S>(src, ld[kw][r][0]));
          if (st[r][1]) _mm512_mask_storeu_ps(ds + 16, st[r][1], load_cols<S>(src + 16 * S, ld[kw][r][1]));
        }
        _mm512_mask_storeu_ps(d, tail0, zero);
        _mm512_mask_storeu_ps(d + 16, tail1, zero);
      }
    }
  }
}

}  // namespace

void im2col_panel_f32__avx512(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst) {
  if (NR > 32 || g.kernel[2] > kMaxKw) return im2col_panel_f32__scalar(g, xg, q0, nr, NR, dst);
  if (g.stride[2] == 1) return panel<1>(g, xg, q0, nr, NR, dst);
  if (g.stride[2] == 2) return panel<2>(g, xg, q0, nr, NR, dst);
  im2col_panel_f32__scalar(g, xg, q0, nr, NR, dst);
}

}  // namespace qforge::runtime
