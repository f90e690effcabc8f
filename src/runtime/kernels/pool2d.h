// 1-D / 2-D MaxPool and AveragePool over padded planes: one table of per-plane kernels (STYLE §3)
// and the driver. The driver hands the plane kernel a plane that covers every window position, so
// the kernel has no bounds checks: x itself when there is no begin padding and every window lies
// inside x (except the last planes, whose vector over-read would leave x), otherwise a copy in a
// padded buffer (-inf around it for max, 0 for average):
//   max:  y[oh][ow] = max_{kh,kw} xpad[oh*sh + kh*dh][ow*sw + kw*dw]
//   sum:  the same with +; the driver divides by the window's count, which is separable:
//         count(oh, ow) = rows(oh) · cols(ow) (in-bounds or, with count_include_pad, in the padded extent).
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include "core/cpu.h"
#include "runtime/kernels/reference/pool_ref.h"

namespace qforge::runtime {

struct Pool2dPlane {
  size_t oh = 1, ow = 1, kh = 1, kw = 1;
  size_t sh = 1, sw = 1, dh = 1, dw = 1;
  size_t xs = 1;  // row stride of the padded plane, floats (256 floats of slack follow the plane)
};

using Pool2dFn = void (*)(const Pool2dPlane& p, const float* xpad, bool is_max, float* y);

struct Pool2dKernel {
  std::string_view name;  // pool2d_f32__<isa>
  Pool2dFn fn;
  Isa isa;
};

void pool2d_f32__scalar(const Pool2dPlane& p, const float* xpad, bool is_max, float* y);
void pool2d_f32__avx2(const Pool2dPlane& p, const float* xpad, bool is_max, float* y);
void pool2d_f32__avx512(const Pool2dPlane& p, const float* xpad, bool is_max, float* y);

std::span<const Pool2dKernel> pool2d_kernels();
const Pool2dKernel& pool2d_kernel(Isa isa);

// True for 1-D / 2-D geometries (the third spatial slot unused) in which every window holds at least
// one input element.
bool pool2d_applies(const PoolGeom& g);
void maxpool2d_f32(const Pool2dKernel& k, const PoolGeom& g, const float* x, float* y, int threads);
void avgpool2d_f32(const Pool2dKernel& k, const PoolGeom& g, bool count_include_pad, const float* x, float* y,
                   int threads);

}  // namespace qforge::runtime
