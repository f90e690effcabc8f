// Per-plane kernels of the depthwise Conv backward (conv_grad_f32__dw), one table (STYLE §3). A
// plane is one (image, channel) pair: x [h][w], dy [oh][ow], the channel's taps w [kh][kw].
//   weight kernel:  acc[kh][kw] += Σ_{oh,ow} dy[oh][ow] · x[oh·sh - pt + kh·dh][ow·sw - pl + kw·dw]
//   input kernel:   dx[oh·sh - pt + kh·dh][ow·sw - pl + kw·dw] += w[kh][kw] · dy[oh][ow]
// (taps outside x are skipped; dx is accumulated, the caller zero-fills it). Both use flat phase
// planes of the zero-padded plane where that pays (dw_grad_impl.h): every tap is then one dot
// product (weight) or one axpy (input) over contiguous memory, for any stride.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::train {

struct DwGradPlane {
  int64_t h = 1, w = 1, oh = 1, ow = 1, kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
};

// Scratch floats either kernel needs for one plane.
size_t dw_grad_scratch_floats(const DwGradPlane& p);

using DwGradWFn = void (*)(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch);
using DwGradXFn = void (*)(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch);

struct DwGradKernel {
  std::string_view name;  // dwconv_grad_f32__<isa>
  DwGradWFn weight;
  DwGradXFn input;
  Isa isa;
};

void dwconv_grad_w_f32__scalar(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch);
void dwconv_grad_x_f32__scalar(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch);
void dwconv_grad_w_f32__avx2(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch);
void dwconv_grad_x_f32__avx2(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch);
void dwconv_grad_w_f32__avx512(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch);
void dwconv_grad_x_f32__avx512(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch);

std::span<const DwGradKernel> dw_grad_kernels();
const DwGradKernel& dw_grad_kernel(Isa isa);

}  // namespace qforge::train
