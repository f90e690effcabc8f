// 1-D / 2-D convolution as matrix products (any group, stride, dilation, padding):
//   per image n and group g:  Y_g[M/G × OH·OW] = W_g[M/G × (C/G)·kH·kW] · im2col(X_g)
// W is the SGEMM's A, read in place (its rows are already contiguous along K = (c, kh, kw));
// im2col is written straight into packed-B panels of NR output positions, one panel per task, so
// the packing runs in parallel with the products and each panel is used while it is in cache.
// Bias and the fused activation are applied in the SGEMM epilogue.
#pragma once
#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

// True for geometries this path handles (spatial rank <= 2).
bool conv_gemm_applies(const ConvGeom& g);

// One packed-B panel of im2col for the output positions [q0, q0 + nr) of one image and group:
// dst[k][j] = x_g[c][ih][iw] (0 outside x), k = (c*kH + kh)*kW + kw, for j < nr; zero for j >= nr.
void im2col_panel_f32(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst);

void conv2d_f32__gemm(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* w,
                      const float* b, const FusedActivation& act, float* y, int threads);

}  // namespace qforge::runtime
