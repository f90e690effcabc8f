// Depthwise 2-D Conv backward (conv_grad.h): for input channel c, output channel m = c·Mg + j and
// image n, the plane kernels of dw_grad.h add dY[n][m] ⋆ X[n][c] to dW[m] and scatter W[m]·dY[n][m]
// into dX[n][c]. With stride 1 and multiplier 1, dX is instead the depthwise Conv of dY with the
// flipped taps (pads dil·(k-1) - pad), on the runtime's forward kernels. Channels run in parallel;
// each channel sums over images in order, so the result does not depend on the thread count.
#include <algorithm>
#include <vector>

#include "runtime/kernels/dwconv.h"
#include "runtime/kernels/dwconv_flat.h"
#include "train/kernels/conv_grad.h"
#include "train/kernels/dw_grad.h"

namespace qforge::train {

namespace {

// dX by a depthwise Conv (stride 1, multiplier 1, pads ≥ 0); false when the runtime has no fast
// kernel for that geometry.
bool dx_by_dwconv(const runtime::ConvGeom& g, const float* w, const float* dy, float* dx, int threads) {
  runtime::ConvGeom t = g;
  for (int i = 1; i < 3; ++i) {
    const int64_t span = g.dilation[i] * (g.kernel[i] - 1);
    t.in[i] = g.out[i], t.out[i] = g.in[i];
    t.pad_begin[i] = span - g.pad_begin[i], t.pad_end[i] = span - g.pad_end[i];
    if (g.stride[i] != 1 || t.pad_begin[i] < 0 || t.pad_end[i] < 0 ||
        t.in[i] + t.pad_begin[i] + t.pad_end[i] - span != t.out[i])
      return false;
  }
  const Isa isa = active_isa();
  const bool flat = runtime::dwconv_flat_applies(isa, t);
  if (!flat && (isa == Isa::ref || !runtime::dwconv_applies(t))) return false;
  const int64_t ks = g.kernel_size();
  std::vector<float> wt(static_cast<size_t>(g.out_channels * ks));
  for (int64_t m = 0; m < g.out_channels; ++m)
    for (int64_t k = 0; k < ks; ++k) wt[static_cast<size_t>(m * ks + k)] = w[m * ks + ks - 1 - k];
  const runtime::FusedActivation none{};
  if (flat) runtime::dwconv2d_f32__avx512_flat(t, dy, wt.data(), nullptr, none, dx, threads);
  else runtime::dwconv2d_f32(runtime::dwconv_kernel(isa), t, dy, wt.data(), nullptr, none, dx, threads);
  return true;
}

}  // namespace

bool conv_grad_dw_applies(const runtime::ConvGeom& g) {
  return g.group == g.in_channels && g.group > 0 && g.out_channels % g.group == 0 && g.kernel[0] == 1 &&
         g.in[0] == 1 && g.out[0] == 1 && g.pad_begin[0] == 0;
}

void conv_grad_f32__dw(const runtime::ConvGeom& g, const float* x, const float* w, const float* dy,
                       const ConvGradOut& out, int threads) {
  const int64_t C = g.in_channels, M = g.out_channels, Mg = M / C;
  const int64_t IP = g.in_plane(), OP = g.out_plane(), ks = g.kernel_size();
  if (out.db) conv_grad_bias_f32(g, dy, out.db, threads);
  const bool dx_rows = out.dx && !(Mg == 1 && dx_by_dwconv(g, w, dy, out.dx, threads));
  if (!dx_rows && !out.dw) return;
  const DwGradKernel& k = dw_grad_kernel(active_isa());
  const DwGradPlane p{g.in[1],     g.in[2],     g.out[1],      g.out[2],      g.kernel[1],   g.kernel[2],
                      g.stride[1], g.stride[2], g.dilation[1], g.dilation[2], g.pad_begin[1], g.pad_begin[2]};
  const size_t scratch_floats = dw_grad_scratch_floats(p);
#pragma omp parallel for num_threads(threads) schedule(static) if (g.batch * M * OP > 16384)
  for (int64_t c = 0; c < C; ++c) {
    std::vector<float> scratch(scratch_floats), pacc(static_cast<size_t>(ks));
    std::vector<double> acc(static_cast<size_t>(Mg * ks), 0.0);
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* xp = x + (n * C + c) * IP;
      float* dxp = dx_rows ? out.dx + (n * C + c) * IP : nullptr;
      if (dxp) std::fill(dxp, dxp + IP, 0.f);
      for (int64_t j = 0; j < Mg; ++j) {
        const int64_t m = c * Mg + j;
        const float* dyp = dy + (n * M + m) * OP;
        if (out.dw) {
          std::fill(pacc.begin(), pacc.end(), 0.f);
          k.weight(p, xp, dyp, pacc.data(), scratch.data());
          for (int64_t i = 0; i < ks; ++i) acc[static_cast<size_t>(j * ks + i)] += pacc[static_cast<size_t>(i)];
        }
        if (dxp) k.input(p, dyp, w + m * ks, dxp, scratch.data());
      }
    }
    if (out.dw)
      for (int64_t i = 0; i < Mg * ks; ++i) out.dw[c * Mg * ks + i] = static_cast<float>(acc[static_cast<size_t>(i)]);
  }
}

}  // namespace qforge::train
