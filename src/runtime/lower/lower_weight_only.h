// Lowering of 4-bit weight-only MatMul / Gemm (the w4a16 preset's form) onto the 4-bit kernels of
// kernels/w4gemm.h, so the weight stays 4-bit in memory and is dequantized in registers:
//
//   DequantizeLinear(W_q s4 | u4 const, scale const, [zero_point const], axis, block_size) → W
//   MatMul(x, W) | Gemm(x, W, [C const]) (transA 0, alpha 1; transB 0 or 1)              → y
//     ⇒  qforge.W4MatMul(x, W_q, scale, [zero_point], [bias]) → y   (attributes: trans_b, block_size)
//
// Blocks must run along the reduction axis K of W (axis 1 of W [N][K] for transB = 1, axis 0 of
// W [K][N] otherwise) with a block size that is a multiple of 8; a per-axis DQ (no block_size) along
// N is taken as one block of K. C becomes a per-column bias beta · C ([N], [1, N] or a scalar). W must
// have no reader but the MatMul / Gemm. Other forms are left to run as DQ → float op (the DQ of a
// constant is folded into a float weight at session load).
//
// Numerics: y = Σ_b scale[b][n] · Σ_{k in b} x[k] · (q[k][n] − z[b][n]) (+ bias[n]), the w4gemm
// formula; the unlowered graph multiplies x by the dequantized weight (q − z) · scale. The two are the
// same sum in a different float order: they agree to float rounding, not bit for bit.
#pragma once
#include "ir/graph.h"

namespace qforge::runtime {

// Rewrites the graph in place; returns the number of qforge.W4MatMul nodes created.
int lower_weight_only(ir::Graph& graph);

}  // namespace qforge::runtime
