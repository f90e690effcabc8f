// Lowering of the dynamic-quantization form (ONNX Runtime's quantize_dynamic, qforge's int8-dynamic
// preset) onto one integer GEMM with a float output stage:
//
//   DynamicQuantizeLinear(x) → (x_q, x_scale, x_zp)                       (kept: shared by every reader)
//   MatMulInteger(x_q, W s8 [K][N] const, x_zp, W_zp const all 0) → acc
//   Cast(acc, to = float) → Mul(·, Mul(x_scale, w_scale)) [→ Add(·, bias f32 [N] const)] → y
//     ⇒  qforge.QDynGemm(x_q, x_scale, x_zp, W, w_scale [, bias]) → y
//
// qforge.QDynGemm computes float(Σ (x_q − x_zp)·W) · (x_scale · w_scale[n]) [+ bias[n]] with the
// same float operations in the same order as the nodes it replaces (one float multiply for the
// combined scale, one for the product, one add), so its output equals theirs bit for bit. The
// intermediate values (acc, its cast, the combined scale, the unbiased product) must have no other
// reader and must not be graph outputs; otherwise the nodes stay as they are.
#pragma once
#include "ir/graph.h"

namespace qforge::runtime {

// Rewrites the graph in place; returns the number of qforge.QDynGemm nodes created.
int lower_dynamic(ir::Graph& graph);

}  // namespace qforge::runtime
