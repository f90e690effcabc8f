// The portable depthwise backward plane kernels and the table (dw_grad.h).
#include "train/kernels/dw_grad.h"

#include "train/kernels/dw_grad_impl.h"

namespace qforge::train {

void dwconv_grad_w_f32__scalar(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch) {
  dw_grad_w_body(p, x, dy, acc, scratch);
}
void dwconv_grad_x_f32__scalar(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch) {
  dw_grad_x_body(p, dy, w, dx, scratch);
}

size_t dw_grad_scratch_floats(const DwGradPlane& p) { return dw_flat_floats(p); }

namespace {
constexpr DwGradKernel kDwGradKernels[] = {
    {"dwconv_grad_f32__scalar", dwconv_grad_w_f32__scalar, dwconv_grad_x_f32__scalar, Isa::ref},
    {"dwconv_grad_f32__avx2", dwconv_grad_w_f32__avx2, dwconv_grad_x_f32__avx2, Isa::avx2},
    {"dwconv_grad_f32__avx512", dwconv_grad_w_f32__avx512, dwconv_grad_x_f32__avx512, Isa::avx512},
};
}  // namespace

std::span<const DwGradKernel> dw_grad_kernels() { return kDwGradKernels; }

const DwGradKernel& dw_grad_kernel(Isa isa) { return kernel_for_isa(kDwGradKernels, isa); }

}  // namespace qforge::train
