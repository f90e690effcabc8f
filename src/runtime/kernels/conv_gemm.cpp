#include "runtime/kernels/conv_gemm.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace qforge::runtime {

bool conv_gemm_applies(const ConvGeom& g) { return g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1; }

void im2col_panel_f32(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst) {
  const int64_t H = g.in[1], W = g.in[2], OW = g.out[2];
  const int64_t KH = g.kernel[1], KW = g.kernel[2];
  const int64_t sh = g.stride[1], sw = g.stride[2], dh = g.dilation[1], dw = g.dilation[2];
  const int64_t ph = g.pad_begin[1], pw = g.pad_begin[2];
  const int64_t K = g.in_channels / g.group * KH * KW;
  // The panel's output positions as runs along one output row.
  struct Run {
    int64_t oh, ow0, ow1;
    size_t j0;
  };
  Run runs[64];
  size_t nruns = 0;
  QF_CHECK(NR <= 64);
  for (size_t q = q0; q < q0 + nr;) {
    const int64_t oh = static_cast<int64_t>(q) / OW, ow0 = static_cast<int64_t>(q) % OW;
    const int64_t ow1 = std::min<int64_t>(OW, ow0 + static_cast<int64_t>(q0 + nr - q));
    runs[nruns++] = {oh, ow0, ow1, q - q0};
    q += static_cast<size_t>(ow1 - ow0);
  }
  for (int64_t k = 0; k < K; ++k) {
    const int64_t c = k / (KH * KW), kh = (k / KW) % KH, kw = k % KW;
    const float* xc = xg + c * H * W;
    float* d = dst + k * static_cast<int64_t>(NR);
    const int64_t off = kw * dw - pw;  // iw = ow*sw + off
    // Output columns whose tap lands inside x: [lo, hi).
    const int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    const int64_t hi = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
    for (size_t r = 0; r < nruns; ++r) {
      const Run& run = runs[r];
      float* ds = d + run.j0;  // ds[i] holds output column run.ow0 + i
      const int64_t ih = run.oh * sh - ph + kh * dh;
      if (ih < 0 || ih >= H) {
        std::fill(ds, ds + (run.ow1 - run.ow0), 0.f);
        continue;
      }
      const int64_t a = std::clamp(lo, run.ow0, run.ow1), e = std::clamp(hi, a, run.ow1);
      std::fill(ds, ds + (a - run.ow0), 0.f);
      if (e > a) {
        const float* xs = xc + ih * W + (a * sw + off);
        float* dd = ds + (a - run.ow0);
        if (sw == 1) std::memcpy(dd, xs, static_cast<size_t>(e - a) * sizeof(float));
        else
          for (int64_t i = 0; i < e - a; ++i) dd[i] = xs[i * sw];
      }
      std::fill(ds + (e - run.ow0), ds + (run.ow1 - run.ow0), 0.f);
    }
    std::fill(d + nr, d + NR, 0.f);
  }
}

void conv2d_f32__gemm(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* w,
                      const float* b, const FusedActivation& act, float* y, int threads) {
  const size_t P = static_cast<size_t>(g.out_plane());
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const size_t K = static_cast<size_t>(cg * g.kernel_size());
  const size_t panels = (P + k.nr - 1) / k.nr;
  const int64_t tasks = g.batch * g.group * static_cast<int64_t>(panels);
  const double work = static_cast<double>(g.batch) * static_cast<double>(g.out_channels) *
                      static_cast<double>(K) * static_cast<double>(P);
  const int nt = static_cast<int>(std::min<int64_t>(threads, tasks));
  const bool parallel = nt > 1 && work >= 65536;
#pragma omp parallel num_threads(nt) if (parallel)
  {
    float* bp = sgemm_scratch(K * k.nr, 1);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t p = t % static_cast<int64_t>(panels), ng = t / static_cast<int64_t>(panels);
      const int64_t n = ng / g.group, grp = ng % g.group;
      const size_t q0 = static_cast<size_t>(p) * k.nr, nr = std::min(k.nr, P - q0);
      const float* xg = x + (n * g.in_channels + grp * cg) * g.in_plane();
      im2col_panel_f32(g, xg, q0, nr, k.nr, bp);
      SgemmEpilogue ep;
      ep.bias = b ? b + grp * mg : nullptr;
      ep.bias_per_row = true;
      ep.act = act;
      float* yg = y + (n * g.out_channels + grp * mg) * static_cast<int64_t>(P) + static_cast<int64_t>(q0);
      sgemm_block(k, static_cast<size_t>(mg), nr, K, SgemmA{w + grp * mg * static_cast<int64_t>(K), K, 1},
                  bp, yg, P, false, ep);
    }
  }
}

}  // namespace qforge::runtime
