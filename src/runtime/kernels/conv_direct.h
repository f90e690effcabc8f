// Stride-1 2-D convolution (group 1, any kernel size, dilation and padding) without im2col, on the
// padded-width layout: with the input zero-padded to Hp x Wp (Wp = OW + (kW-1)·dW), output
// position q = oh·Wp + ow (ow < Wp; columns ow >= OW are computed and dropped) reads, at tap
// k = (c, kh, kw), the element xp_c[q + kh·dH·Wp + kw·dW]: for every k a contiguous run along q.
// The microkernel loads its B vectors straight from the padded image through a per-k offset table,
// so the only copy is the padding itself (none for a pointwise conv without padding), instead of
// an im2col matrix of kH·kW times the input.
//   y[m][oh][ow] = act(b[m] + Σ_k W[m][k] · xp[off[k] + oh·Wp + ow])
#pragma once
#include "core/cpu.h"
#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// True for geometries the direct kernel handles (2-D or 1-D, group 1, stride 1) and when it is
// expected to beat im2col + SGEMM (the dropped columns are a small share of Wp), for ISA `isa`.
bool conv_direct_applies(Isa isa, const ConvGeom& g);

// AVX-512, 12 x 32 output tiles (12 output channels x 32 positions).
void conv2d_f32__avx512_direct(const ConvGeom& g, const float* x, const float* w, const float* b,
                               const FusedActivation& act, float* y, int threads);

}  // namespace qforge::runtime
