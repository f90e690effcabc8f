// Conv backward kernels (layout as runtime/kernels/reference/conv_ref.h: x [N][C][D][H][W],
// w [M][C/G][kD][kH][kW], dy [N][M][oD][oH][oW]). Per image n and group g, with
// cols = im2col(x_g) [K = (C/G)·kD·kH·kW × P = output positions]:
//   dW_g = Σ_n dY_g · colsᵀ        dX_g = col2im(W_gᵀ · dY_g)        dB[m] = Σ_{n,p} dY[n][m][p]
//
// Outputs are nullable (not wanted) and fully overwritten (no zero-fill needed by the caller).
//   conv_grad_f32__ref   the spec: the straightforward per-image, per-group loops
//   conv_grad_f32__gemm  any geometry: images split into `threads` fixed chunks run in parallel,
//                        each with its own dW partial (reduced in chunk order, so the result is
//                        the same for a given thread count); 1×1 stride-1 unpadded convs skip
//                        im2col. dX of a stride-1 Conv is the Conv of dY with the transposed,
//                        flipped weights, run on the runtime's forward kernels (no col2im).
//   conv_grad_f32__dw    2-D depthwise (one input channel per group, any multiplier): the plane
//                        kernels of dw_grad.h, parallel over input channels (the result is
//                        independent of threads); dX by the runtime's depthwise forward kernels
//                        for stride 1 and multiplier 1
//   conv_grad_f32        picks one of the above
#pragma once
#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/kernels/sgemm.h"

namespace qforge::train {

struct ConvGradOut {
  float* dx = nullptr;  // [N][C][in plane]
  float* dw = nullptr;  // [M][C/G][kernel]
  float* db = nullptr;  // [M]
};

void conv_grad_f32__ref(const runtime::ConvGeom& g, const float* x, const float* w, const float* dy,
                        const ConvGradOut& out, int threads);
void conv_grad_f32__gemm(const runtime::SgemmKernel& k, const runtime::ConvGeom& g, const float* x,
                         const float* w, const float* dy, const ConvGradOut& out, int threads);

bool conv_grad_dw_applies(const runtime::ConvGeom& g);
void conv_grad_f32__dw(const runtime::ConvGeom& g, const float* x, const float* w, const float* dy,
                       const ConvGradOut& out, int threads);

// dB alone (shared by every path): Σ over images and positions, per output channel, parallel over
// channels (independent of threads).
void conv_grad_bias_f32(const runtime::ConvGeom& g, const float* dy, float* db, int threads);

void conv_grad_f32(const runtime::ConvGeom& g, const float* x, const float* w, const float* dy,
                   const ConvGradOut& out, int threads);

}  // namespace qforge::train
