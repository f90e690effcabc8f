#include "runtime/kernels/conv_gemm.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace qforge::runtime {

bool conv_gemm_applies(const ConvGeom& g) { return g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1; }

Im2colFn im2col_kernel(Isa isa) {
  switch (isa) {
    case Isa::avx512: return im2col_panel_f32__avx512;
    case Isa::avx2: return im2col_panel_f32__avx2;
    case Isa::ref: break;
  }
  return im2col_panel_f32__scalar;
}

// N.B. no_builtin: runs are a few dozen floats; calls to memcpy / memset (which clang would turn
// these loops into) cost more than the copies.
__attribute__((no_builtin("memcpy", "memset"))) void im2col_panel_f32__scalar(
    const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst) {
  const int64_t H = g.in[1], W = g.in[2];
  const int64_t sh = g.stride[1], sw = g.stride[2], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t ph = g.pad_begin[1], pw = g.pad_begin[2];
  QF_CHECK(NR <= 64);
  Im2colRun runs[64];
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
          float* ds = d + run.j0;  // ds[i] holds output column run.ow0 + i
          const int64_t len = run.ow1 - run.ow0, ih = run.oh * sh - ph + kh * dh;
          if (ih < 0 || ih >= H) {
            for (int64_t i = 0; i < len; ++i) ds[i] = 0.f;
            continue;
          }
          const int64_t a = std::clamp(lo, run.ow0, run.ow1) - run.ow0;
          const int64_t e = std::clamp(hi, run.ow0 + a, run.ow1) - run.ow0;
          const float* xs = xc + ih * W + ((run.ow0 + a) * sw + off);
          for (int64_t i = 0; i < a; ++i) ds[i] = 0.f;
          for (int64_t i = a; i < e; ++i) ds[i] = xs[(i - a) * sw];
          for (int64_t i = e; i < len; ++i) ds[i] = 0.f;
        }
        for (size_t j = nr; j < NR; ++j) d[j] = 0.f;
      }
}

void conv2d_f32__gemm(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* w,
                      const float* b, const FusedActivation& act, float* y, int threads) {
  const size_t P = static_cast<size_t>(g.out_plane());
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const size_t K = static_cast<size_t>(cg * g.kernel_size());
  const size_t panels = (P + k.nr - 1) / k.nr;
  // Tasks of pb consecutive panels: long runs along each output row keep the (many) row streams
  // of y sequential; pb*K*NR floats of packed panels stay within 256 KiB of L2, and there are
  // enough tasks (4 per thread) to balance.
  const int64_t images = g.batch * g.group;
  size_t pb = std::clamp<size_t>(65536 / std::max<size_t>(1, K * k.nr), 1, 8);
  while (pb > 1 && static_cast<size_t>(images) * ((panels + pb - 1) / pb) < 4 * static_cast<size_t>(threads)) --pb;
  const int64_t blocks = static_cast<int64_t>((panels + pb - 1) / pb);
  const int64_t tasks = images * blocks;
  const double work = static_cast<double>(g.batch) * static_cast<double>(g.out_channels) *
                      static_cast<double>(K) * static_cast<double>(P);
  const int nt = static_cast<int>(std::min<int64_t>(threads, tasks));
  const bool parallel = nt > 1 && work >= 65536;
  const Im2colFn im2col = im2col_kernel(k.isa);
#pragma omp parallel num_threads(nt) if (parallel)
  {
    float* bp = sgemm_scratch(pb * K * k.nr, 1);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t blk = t % blocks, ng = t / blocks;
      const int64_t n = ng / g.group, grp = ng % g.group;
      const size_t p0 = static_cast<size_t>(blk) * pb, p1 = std::min(panels, p0 + pb);
      const size_t q0 = p0 * k.nr, cols = std::min(P, p1 * k.nr) - q0;
      const float* xg = x + (n * g.in_channels + grp * cg) * g.in_plane();
      for (size_t p = p0; p < p1; ++p) {
        const size_t qp = p * k.nr;
        im2col(g, xg, qp, std::min(k.nr, P - qp), k.nr, bp + (p - p0) * K * k.nr);
      }
      SgemmEpilogue ep;
      ep.bias = b ? b + grp * mg : nullptr;
      ep.bias_per_row = true;
      ep.act = act;
      float* yg = y + (n * g.out_channels + grp * mg) * static_cast<int64_t>(P) + static_cast<int64_t>(q0);
      sgemm_block(k, static_cast<size_t>(mg), cols, K, SgemmA{w + grp * mg * static_cast<int64_t>(K), K, 1}, bp, yg, P,
                  false, ep);
    }
  }
}

}  // namespace qforge::runtime

namespace qforge::runtime {

namespace {
bool is_pointwise(const ConvGeom& g) {
  for (int i = 0; i < 3; ++i)
    if (g.kernel[i] != 1 || g.stride[i] != 1 || g.pad_begin[i] != 0 || g.pad_end[i] != 0) return false;
  return g.group == 1;
}
// Share of computed tile elements that are real, along an axis of n tiled by t.
double fill(int64_t n, size_t t) {
  const int64_t tt = static_cast<int64_t>(t);
  return static_cast<double>(n) / static_cast<double>((n + tt - 1) / tt * tt);
}
}  // namespace

bool conv1x1_transposed_pays(const SgemmKernel& k, const ConvGeom& g) {
  if (!is_pointwise(g)) return false;
  const int64_t P = g.out_plane();
  const double normal = fill(P, k.nr) * fill(g.out_channels, k.mr);
  const double transposed = fill(P, k.mr) * fill(g.out_channels, k.nr);
  return transposed > normal + 0.15;  // the final transpose costs a pass over y
}

void pack_conv1x1_weights(const SgemmKernel& k, const ConvGeom& g, const float* w, float* dst) {
  const size_t C = static_cast<size_t>(g.in_channels), M = static_cast<size_t>(g.out_channels);
  // W^T(c, m) = w[m*C + c]
  sgemm_pack_b(k, C, M, w, 1, C, 1.f, dst, 0, (M + k.nr - 1) / k.nr);
}

void conv1x1_f32__gemm_t(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* wt_packed,
                         const float* b, const FusedActivation& act, float* y, int threads) {
  const size_t P = static_cast<size_t>(g.out_plane()), C = static_cast<size_t>(g.in_channels);
  const size_t M = static_cast<size_t>(g.out_channels);
  SgemmEpilogue ep;
  ep.bias = b;
  ep.act = act;
  auto image = [&](int64_t n, int inner_threads) {
    float* yt = sgemm_scratch(P * M, 3);  // Y^T [P][M]
    // X^T(p, c) = x[c*P + p]: the transposed-A layout (a_rs = 1, a_cs = P).
    sgemm_packed(k, P, M, C, SgemmA{x + n * static_cast<int64_t>(C * P), 1, P}, wt_packed, yt, M, false, ep,
                 inner_threads);
    float* yn = y + n * static_cast<int64_t>(M * P);
    for (size_t m = 0; m < M; ++m)
      for (size_t p = 0; p < P; ++p) yn[m * P + p] = yt[p * M + m];
  };
  const int nt = static_cast<int>(std::min<int64_t>(threads, g.batch));
  if (nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t n = 0; n < g.batch; ++n) image(n, 1);
  } else {
    for (int64_t n = 0; n < g.batch; ++n) image(n, threads);
  }
}

}  // namespace qforge::runtime
