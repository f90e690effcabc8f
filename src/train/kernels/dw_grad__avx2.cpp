// The depthwise backward plane kernels (dw_grad.h) compiled for AVX2 (flags from the file name).
#include "train/kernels/dw_grad.h"
#include "train/kernels/dw_grad_impl.h"

namespace qforge::train {

void dwconv_grad_w_f32__avx2(const DwGradPlane& p, const float* x, const float* dy, float* acc, float* scratch) {
  dw_grad_w_body(p, x, dy, acc, scratch);
}
void dwconv_grad_x_f32__avx2(const DwGradPlane& p, const float* dy, const float* w, float* dx, float* scratch) {
  dw_grad_x_body(p, dy, w, dx, scratch);
}

}  // namespace qforge::train
