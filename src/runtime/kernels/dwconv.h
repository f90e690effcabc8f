// Depthwise 2-D convolution (Conv with group == input channels): one table of per-plane kernels
// (STYLE §3) and the driver that pads each input plane and runs the planes in parallel.
// A plane kernel reads a zero-padded input plane xpad (row stride xs floats; every tap of every
// output inside it, plus 256 floats of slack past the end for vector over-reads) and writes
//   y[oh][ow] = act(bias + Σ_{kh,kw} w[kh][kw] · xpad[oh*sh + kh*dh][ow*sw + kw*dw]).
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include "core/cpu.h"
#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

struct DwConvPlane {
  size_t oh = 1, ow = 1, kh = 1, kw = 1;
  size_t sh = 1, sw = 1, dh = 1, dw = 1;
  size_t xs = 1;  // row stride of the padded input plane, floats
};

using DwConvFn = void (*)(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                          const FusedActivation& act, float* y);

struct DwConvKernel {
  std::string_view name;  // dwconv2d_f32__<isa>
  DwConvFn fn;
  Isa isa;
};

void dwconv2d_f32__scalar(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                          const FusedActivation& act, float* y);
void dwconv2d_f32__avx2(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                        const FusedActivation& act, float* y);
void dwconv2d_f32__avx512(const DwConvPlane& p, const float* xpad, const float* w, float bias,
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
