// Depthwise 2-D convolution (Conv with group == input channels): one table of per-plane kernels
// (STYLE §3) and the driver that pads each input plane and runs the planes in parallel.
// A plane kernel reads one input plane x [h][w] and writes
//   y[oh][ow] = act(bias + Σ_{kh,kw} w[kh][kw] · x[oh*sh - pt + kh*dh][ow*sw - pl + kw*dw])
// (taps outside x contribute 0). The SIMD kernels read x with masked loads, so no padded copy.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include "core/cpu.h"
#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

struct DwConvPlane {
  int64_t h = 1, w = 1, oh = 1, ow = 1, kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
};

using DwConvFn = void (*)(const DwConvPlane& p, const float* x, const float* w, float bias,
                          const FusedActivation& act, float* y);

struct DwConvKernel {
  std::string_view name;  // dwconv2d_f32__<isa>
  DwConvFn fn;
  Isa isa;
};

void dwconv2d_f32__scalar(const DwConvPlane& p, const float* x, const float* w, float bias,
                          const FusedActivation& act, float* y);
void dwconv2d_f32__avx2(const DwConvPlane& p, const float* x, const float* w, float bias,
                        const FusedActivation& act, float* y);
void dwconv2d_f32__avx512(const DwConvPlane& p, const float* x, const float* w, float bias,
                          const FusedActivation& act, float* y);

std::span<const DwConvKernel> dwconv_kernels();
const DwConvKernel& dwconv_kernel(Isa isa);
inline const DwConvKernel& dwconv_kernel() { return dwconv_kernel(active_isa()); }

// True when the geometry is a 1-D/2-D depthwise convolution (group == in_channels, one input
// channel per group; any channel multiplier).
bool dwconv_applies(const ConvGeom& g);
// y = act(conv(x, w) + b) for such a geometry; planes in parallel on up to `threads` threads.
void dwconv2d_f32(const DwConvKernel& k, const ConvGeom& g, const float* x, const float* w,
                  const float* b, const FusedActivation& act, float* y, int threads);

}  // namespace qforge::runtime
