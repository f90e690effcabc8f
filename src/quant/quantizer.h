// quantize_model: an FP32 model + a recipe (+ a calibration table for static mode) → the quantized
// model in qforge's canonical QDQ form (brief "The QDQ form", = what ONNX Runtime's quantize_static
// writes with QuantFormat.QDQ) and a report of every decision.
//
// Pipeline: BatchNormalization folded into the preceding Conv (ir::fuse_conv_bn), then by mode:
//   static       per node (STATIC RULES below): activations QuantizeLinear → DequantizeLinear with the
//                calibrated per-tensor range; weights stored quantized + DequantizeLinear (per channel:
//                Conv axis 0, Gemm axis 0 with transB else 1, MatMul the last axis); Conv / Gemm bias
//                stored int32 with scale s_in · s_w (per channel), zero point 0.
//   dynamic      MatMul / Gemm with a constant weight become ONNX Runtime's quantize_dynamic form:
//                DynamicQuantizeLinear(X) → MatMulInteger(X_q, W_q, X_zp, W_zp) → Cast(float) →
//                Mul(·, X_scale · W_scale) [→ Add(bias)]; W stored [K, N], per column or per tensor.
//   weight-only  weights stored quantized + DequantizeLinear (per group: opset-21 block_size along the
//                reduction axis; Conv weights take per channel instead, a group over C·kh·kw slices
//                would not be a block); activations and biases stay float. nf4: MatMul / Gemm become
//                com.microsoft.MatMulBnb4 (quant_type 1 = NF4, ONNX Runtime's CPU kernel) [+ Add(bias)];
//                nf4 Conv weights have no ONNX-Runtime-runnable form, so they are stored s4 per channel
//                (reported per node).
//   fp16 / bf16  weights of Conv / ConvTranspose / Gemm / MatMul stored as 16-bit floats, each followed
//                by a Cast to float32 that writes the original name; compute and graph I/O stay float32
//                (qforge's runtime has no 16-bit kernels and ONNX Runtime's CPU provider has no bf16
//                Conv / Gemm / MatMul).
//
// STATIC RULES (ONNX Runtime's QDQ quantizer, operators/*.py, with the differences stated):
//   Conv, Gemm, MatMul    input(s) and output quantized with their own ranges, weight and bias as above.
//                         A MatMul whose B is not constant quantizes both inputs as activations. Gemm
//                         needs alpha 1 (beta is folded into the stored bias). ConvTranspose stays float.
//   → Relu / Clip         when the output feeds only a Relu or a Clip with constant bounds, the output
//                         itself is not quantized and the activation's output is: Conv → Relu → Q → DQ
//                         (the activation is "fused"). ONNX Runtime removes the activation node instead
//                         and lets the Conv write the Relu's name; keeping it keeps every FP32 value name
//                         and gives the integer runtime the DQ → Conv → Relu → Q pattern it lowers.
//   Add, Mul, Concat,     every float input and the output quantized with their own ranges (constant
//   GlobalAveragePool     inputs: stored quantized per tensor with the activation format).
//   MaxPool, AveragePool, when the input is quantized, the output shares its scale and zero point
//   Reshape, Flatten,     (ONNX Runtime's Direct8BitOp): integers pass through.
//   Transpose, Squeeze, Unsqueeze
//   Relu, Clip (alone)    when the input is quantized, the output is quantized with its own range.
//   anything else         left in float ("unsupported op"); it reads the dequantized values of any
//                         quantized input, as in ONNX Runtime.
// Names (quant/qdq_names.h): a quantized activation T keeps its producer writing T; T_Q (QuantizeLinear,
// with T_scale and T_zp) writes T_q, T_DQ writes T_dq, which every consumer reads. When T is a graph
// output, the producer writes T_QuantizeLinear_Input instead and the DequantizeLinear writes T (ONNX
// Runtime's naming), so the graph keeps its output names and gives the quantized values. A stored
// weight or bias W is W_q [+ W_scale, W_zp] → W_DQ → W_dq. The zero-point input is left out where it is
// 0 by the spec's default: int32 biases, and symmetric Conv weights (Gemm / MatMul weights keep it:
// ONNX Runtime's QGemm fusion needs it).
// A bias whose int32 value would overflow (|b| / (s_in · s_w) > 2^31 − 1) enlarges that channel's weight
// scale by the needed ratio (ONNX Runtime's _adjust_weight_scale_for_int32_bias), reported per node.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/graph.h"
#include "quant/calib_table.h"
#include "quant/recipe.h"

namespace qforge::quant {

enum class NodeStatus { quantized, fused, float_ };

struct NodeReport {
  std::string node;     // name, or "#index" for an unnamed node
  std::string op_type;
  NodeStatus status = NodeStatus::float_;
  // float_: "unsupported op ...", "excluded ...", "fallback: ..."; quantized: notes (e.g. a changed format).
  std::string reason;
  std::string weights;  // "s8 per-channel", "s4 per-group 32", "f16", ... ("" when none)
};

struct TensorReport {
  std::string tensor;
  std::string method;       // calibration method, or "shared" (same parameters as `shared_with`), "constant"
  std::string shared_with;
  float min = 0, max = 0;   // the calibrated range
  float scale = 1;
  int32_t zero_point = 0;
  DType dtype = DType::u8;
};

struct BiasAdjustment {
  std::string node, bias, weight;
  int64_t channels = 0;     // weight channels whose scale was enlarged
  double max_ratio = 1;     // the largest enlargement
  int64_t saturated = 0;    // values clamped to int32 (only for a weight shared with an earlier node)
};

struct QuantReport {
  std::string mode;
  int64_t batch_norms_folded = 0;
  std::vector<NodeReport> nodes;            // in graph order, after BatchNorm folding
  std::vector<TensorReport> activations;    // static mode, in order of first use
  std::vector<BiasAdjustment> bias_adjustments;
  int64_t weight_bytes_before = 0, weight_bytes_after = 0;  // bytes of all initializers
  int64_t opset = 0;

  int64_t count(NodeStatus s) const;
};

nlohmann::ordered_json quant_report_to_json(const QuantReport& r);
std::string node_status_name(NodeStatus s);

struct QuantizeResult {
  ir::Model model;
  QuantReport report;
};

// BatchNormalization folded into the preceding Conv; `folded` counts the folded BNs.
ir::Model fold_batch_norms(const ir::Model& fp32, int64_t* folded = nullptr);

// The activations static quantization of (BN-folded) `model` needs ranges for, each with its
// calibration method (recipe.activations.method, "auto" resolved per tensor). Empty for other modes.
std::map<std::string, std::string> calibration_tensors(const ir::Model& model, const Recipe& recipe);

// InputError when: the model is already quantized (contains QuantizeLinear / DequantizeLinear / ...);
// an --exclude entry or an override names no node and no op type of the model; static mode has no
// table, or the table lacks a needed tensor; the model has nothing to quantize; the recipe's opset is
// below what the export needs.
QuantizeResult quantize_model(const ir::Model& fp32, const Recipe& recipe, const CalibTable* table);

}  // namespace qforge::quant
