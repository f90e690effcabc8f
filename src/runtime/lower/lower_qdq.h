// Lowering of QDQ graphs (DESIGN: "lowering") to the integer ops of runtime/ops/qlinear.h.
//
// Patterns (x_q: an integer activation, DQ / Q: DequantizeLinear / QuantizeLinear with scalar
// initializer scale and u8 / s8 zero point; act: an optional Relu or Clip with constant bounds):
//   DQ(x_q) → Conv(·, DQ(W s8 per-channel), [DQ(B s32) | B f32]) → [act] → Q → y_q   ⇒ qforge.QConv
//   DQ(a_q) → Gemm(·, DQ(B s8), [C]) | MatMul(·, DQ(B s8)) → [act] → Q → y_q         ⇒ qforge.QGemm
//   DQ(a_q), DQ(b_q) → Add | Mul → [act] → Q → y_q                                   ⇒ qforge.QAdd / QMul
//   DQ(x_q) → AveragePool | GlobalAveragePool → [act] → Q → y_q                      ⇒ qforge.QAvgPool
//   DQ(x_q) → Relu | Clip | LeakyRelu | Sigmoid | Tanh | ... (unary) → Q → y_q       ⇒ qforge.QLut
//   DQ(x_q) → MaxPool (as qforge.QMaxPool) | Reshape | Flatten | Transpose | Squeeze | Unsqueeze → [act] → Q → y_q
//        ⇒ the same op on x_q (+ qforge.QLut when the scales, zero points or dtypes differ or an
//          act is folded in)
//   DQ(x1_q), ..., DQ(xn_q) → Concat → Q → y_q  ⇒ Concat of the x_i (each through a QLut to y's
//          parameters where they differ)
// The integer ops read x_q and write y_q directly, so consecutive lowered nodes hand integers to
// each other (the DQ → Q pairs between them disappear); DQ nodes left without readers are removed.
// The float value between an op and its Q (e.g. the Conv output) no longer exists afterwards.
//
// Exactness against the unlowered graph: QLut, MaxPool / data movement, QAdd / QMul and Concat are
// bit-exact (they apply the unlowered float ops to the 256 possible codes, or commute with a
// monotonic quantizer). QConv / QGemm / QAvgPool accumulate exact integers and requantize once,
// where the float graph rounds every product and sum in float: the outputs agree to within one
// quantization step.
//
// Last, the channels-last pass (lower_layout, lower_layout.cpp) lets integer nodes hand [N,H,W,C]
// values to each other (no transposes between them); the graph's outputs are unchanged by it, bit
// for bit.
//
// Bad input, reported at load as InputError naming the node: scales that are zero, negative or not
// finite; zero points whose dtype does not match the data, or bias zero points that do not fit;
// per-axis scale / zero-point counts that do not match the channel count; a lowered Conv / Gemm whose
// worst-case integer accumulation (Σ|w| · max|x − zp| + |bias|, per output channel) could overflow int32.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qforge::runtime {

// A node that runs in float inside a quantized model (it reads a dequantized value or feeds a Q).
struct LoweringFallback {
  std::string node, op_type, reason;
};

struct LoweringResult {
  int lowered = 0;  // integer nodes created
  int nhwc_values = 0;  // values made channels-last
  std::vector<LoweringFallback> fallbacks;
};

struct LowerOptions {
  bool channels_last = true;  // run lower_layout
};

// True when the graph has any QuantizeLinear / DequantizeLinear node.
bool has_qdq(const ir::Graph& graph);

// Checks every Q / DQ node's constant parameters (InputError naming the node).
void validate_qdq(const ir::Graph& graph);

// Rewrites the graph in place (see above). Graph inputs and outputs keep their names and dtypes.
LoweringResult lower_qdq(ir::Graph& graph, const LowerOptions& opts = {});

// The channels-last pass on a lowered graph (the rule: lower_layout.cpp); returns the number of
// values made channels-last (renamed "<name>.nhwc").
int lower_layout(ir::Graph& graph);

// The fallbacks lower_qdq would report for this model (lowers a copy of its graph); empty for a model
// without QDQ nodes. For inspect / bench / analyze.
std::vector<LoweringFallback> qdq_fallbacks(const ir::Model& model);

}  // namespace qforge::runtime
