// AVX2 im2col panel (NR <= 16), stride 1: each output-row run of a k row is one or two masked
// loads (vmaskmovps: masked-off lanes read nothing and come out 0) and masked stores.
#include <immintrin.h>

#include "core/error.h"
#include "runtime/kernels/conv_gemm.h"

namespace qforge::runtime {

namespace {
inline __m256i lanes(int64_t from, int64_t to) {  // lanes [from, to) of 8, clamped
  from = std::clamp<int64_t>(from, 0, 8), to = std::clamp<int64_t>(to, 0, 8);
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int>(from) - 1));
  const __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(to)), idx);
  return _mm256_and_si256(ge, lt);
}
}  // namespace

void im2col_panel_f32__avx2(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst) {
  if (g.stride[2] != 1 || NR > 16) return im2col_panel_f32__scalar(g, xg, q0, nr, NR, dst);
  const int64_t H = g.in[1], W = g.in[2];
  const int64_t sh = g.stride[1], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t ph = g.pad_begin[1], pw = g.pad_begin[2];
  Im2colRun runs[16];
  const size_t nruns = im2col_runs(g, q0, nr, runs);
  float* d = dst;
  for (int64_t c = 0; c < g.in_channels / g.group; ++c)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw, d += NR) {
        const float* xc = xg + c * H * W;
        int64_t lo, hi;
        im2col_valid_cols(g, kw, lo, hi);
        const int64_t off = kw * dw - pw;
        for (size_t r = 0; r < nruns; ++r) {
          const Im2colRun& run = runs[r];
          const int64_t len = run.ow1 - run.ow0, ih = run.oh * sh - ph + kh * dh;
          float* ds = d + run.j0;
          int64_t a = std::clamp(lo, run.ow0, run.ow1) - run.ow0;
          int64_t e = std::clamp(hi, run.ow0 + a, run.ow1) - run.ow0;
          if (ih < 0 || ih >= H) a = e = 0;
          const float* src = reinterpret_cast<const float*>(
              reinterpret_cast<intptr_t>(xc) + static_cast<intptr_t>((ih * W + run.ow0 + off) * 4));
          // N.B. hardware prefetchers may not follow masked loads: fetch what the next panel reads.
          if (kw == 0 && a < e) _mm_prefetch(reinterpret_cast<const char*>(src + a + 16), _MM_HINT_T0);
          for (int64_t h = 0; h < len; h += 8) {
            const __m256i st = lanes(0, len - h), ld = _mm256_and_si256(lanes(a - h, e - h), st);
            _mm256_maskstore_ps(ds + h, st, _mm256_maskload_ps(src + h, ld));
          }
        }
        for (size_t j = nr; j < NR; ++j) d[j] = 0.f;
      }
}

}  // namespace qforge::runtime
