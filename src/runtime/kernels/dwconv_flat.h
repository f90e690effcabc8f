// Depthwise 2-D convolution on flattened phase planes (AVX-512), for small planes where the
// row-by-row kernel (dwconv.h) is dominated by per-row masks and partial vectors.
// Each input plane is copied, zero-padded, into s·s phase planes of Hh x Wh (s = stride; phase
// (pr, pc) holds the padded input's rows pr, pr+s, ... and columns pc, pc+s, ...), so output position
// q = oh·Wh + ow reads, at tap (kh, kw), phase ((kh·dH) mod s, (kw·dW) mod s) at
// q + (kh·dH / s)·Wh + kw·dW / s: for every tap one contiguous run along q. A plane is then a few
// full vectors of 16 positions, with no masks; columns ow >= OW of the flat grid are computed and
// dropped (squeezed out with vcompressps on the way to y).
#pragma once
#include "core/cpu.h"
#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// True for depthwise geometries (dwconv_applies) where the flat layout pays on ISA `isa`: stride 1
// and short output rows. (The kernel itself handles strides 1 and 2.)
bool dwconv_flat_applies(Isa isa, const ConvGeom& g);

void dwconv2d_f32__avx512_flat(const ConvGeom& g, const float* x, const float* w, const float* b,
                               const FusedActivation& act, float* y, int threads);

}  // namespace qforge::runtime
