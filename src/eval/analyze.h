// Layer-wise analysis of a quantized (QDQ) model against its FP32 original — `qforge analyze`, the
// debugging checklist of issue 4 item 8. Both models run over the same samples with value hooks;
// statistics stream batch by batch (only one batch's values are alive, never the whole data set):
//
//  - per value present in both models (the QDQ form keeps every FP32 value name): SQNR, cosine
//    similarity and max abs error of what the quantized model's consumers read against the FP32 value:
//    T_dq (the DequantizeLinear output of T) for a value the quantized model puts through QuantizeLinear → DequantizeLinear, T
//    itself otherwise. SQNR = 10·log10(Σx² / Σ(x−y)²) with x the FP32 value; +inf when equal. For a
//    quantized value also the error of the Q/DQ step alone (T_dq (the DequantizeLinear output of T) vs T inside the quantized
//    model): its own range / rounding loss, apart from the error it inherited. That one is left empty
//    when the two models produce T with different ops (ONNX Runtime's quantizer drops a Relu after a
//    Conv and lets the Conv write the Relu's output name: T is then the pre-activation value, and only
//    T_dq (the DequantizeLinear output of T) — clipped at the zero point — means the same as the FP32 T).
//  - the worst layers by SQNR;
//  - per-node sensitivity: for each node of the quantized model that reads a DequantizeLinear output, the
//    FP32 model with only that node quantized (its FP32 twin — the node producing the same output name —
//    replaced by the quantized node, with the QuantizeLinear / DequantizeLinear nodes and initializers
//    that feed it copied from the quantized model) → output SQNR and top-1 accuracy;
//  - per-class accuracy of both models, the top-1 agreement and the classes that drifted most (when the
//    data has labels and the first output is [N, classes]);
//  - fallback nodes: nodes of a quantizable op type whose data inputs are not all DequantizeLinear outputs.
// The model outputs of the FP32 model are kept for the analysed samples (for the sensitivity runs); the
// sessions run without graph optimisation so that every value is visible.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "ir/graph.h"
#include "runtime/lower/integer_plan.h"

namespace qforge::eval {

// Streaming comparison of a reference x with an approximation y (accumulated in double).
struct ErrorStats {
  int64_t count = 0;
  double sum_x2 = 0, sum_y2 = 0, sum_xy = 0, sum_err2 = 0, max_abs_err = 0;
  void update(std::span<const float> x, std::span<const float> y);
  bool exact() const { return sum_err2 == 0; }
  double sqnr_db() const;  // +inf when exact; -inf when Σx² = 0 but y differs
  double cosine() const;   // 1 when both are all zeros, 0 when only one is
};

struct LayerError {
  std::string value;
  std::string node, op_type;  // producer in the quantized model; "" for a graph input
  std::string fp32_op_type;   // producer in the FP32 model; "" for a graph input
  bool quantized = false;     // followed by QuantizeLinear → DequantizeLinear in the quantized model
  ErrorStats error;           // FP32 value vs T_dq (the DequantizeLinear output of T) (quantized) or T (not quantized)
  ErrorStats own;             // quantized only: T vs T_dq (the DequantizeLinear output of T) inside the quantized model
};

struct NodeSensitivity {
  std::string node, op_type;                  // in the quantized model
  std::vector<std::string> quantized_inputs;  // the node's inputs that are DequantizeLinear outputs
  std::string skipped;                        // why no measurement, "" when measured
  ErrorStats output;                          // graph outputs vs FP32
  std::optional<ClassificationMetrics> metrics;
};

struct FallbackNode {
  std::string node, op_type, reason;
};

struct ClassDrift {
  int cls = 0;
  std::string name;
  int64_t count = 0;
  double fp32_accuracy = 0, quant_accuracy = 0;
  double drift() const { return quant_accuracy - fp32_accuracy; }
};

struct AnalyzeOptions {
  int64_t samples = 1000;  // analyse the first N samples; <= 0: all
  int batch = 32;          // samples per run; a model with a fixed batch dim runs at that size
  int threads = 0;         // 0: default_threads()
  bool sensitivity = true;
  // (stage, done, total) after each batch; stage is "compare" or "sensitivity <node>".
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};

struct AnalyzeResult {
  std::string dataset;
  int64_t samples = 0;
  int64_t batch = 0;
  int64_t quantized_nodes = 0;    // nodes (other than Q/DQ) reading a DequantizeLinear output
  int64_t quantized_values = 0;   // activations put through QuantizeLinear → DequantizeLinear
  std::vector<LayerError> layers;  // every f32 value of both models, in FP32 graph order
  ErrorStats output;               // all graph outputs together
  std::vector<NodeSensitivity> sensitivity;
  std::vector<FallbackNode> fallbacks;  // nodes the quantizer left reading float values
  runtime::IntegerPlan integer;          // what the integer runtime lowers, and its float fallbacks
  bool classification = false;     // labels + [N, classes] output: the fields below are set
  std::vector<std::string> class_names;
  std::optional<ClassificationMetrics> fp32, quant;
  int64_t agree = 0;               // samples whose top-1 prediction is the same in both models
};

// InputError when the models' inputs or outputs differ (names, dtypes, shapes), when `quant` has no
// QuantizeLinear / DequantizeLinear (or MatMulNBits) node, when the models do not take one f32 input,
// or when the dataset's samples do not fit that input (naming both shapes).
AnalyzeResult analyze(const ir::Model& fp32, const ir::Model& quant, data::Dataset& dataset,
                      const AnalyzeOptions& opts = {});

// True when the graph has a QuantizeLinear, DequantizeLinear or com.microsoft MatMulNBits node.
bool is_qdq(const ir::Graph& g);
// Indices into r.layers of the `n` lowest-SQNR values (exact ones never listed), worst first.
std::vector<size_t> worst_layers(const AnalyzeResult& r, size_t n);
// Per class (classification results only), most accuracy lost first.
std::vector<ClassDrift> class_drift(const AnalyzeResult& r);
// Nodes of a quantizable op type (Conv, ConvTranspose, Gemm, MatMul, Add, Mul, Concat, MaxPool,
// AveragePool, GlobalAveragePool) whose data inputs are not all DequantizeLinear outputs, with the
// inputs at fault. Conv / ConvTranspose / Gemm / MatMul: inputs 0 and 1 (a float bias alone is not a
// fallback); others: every input that is not an integer tensor.
std::vector<FallbackNode> find_fallbacks(const ir::Graph& quant);
// The FP32 model with only quantized-model node `node` quantized (see above). When the quantized node
// computes its output with another op than the FP32 model (a folded activation), the output's
// QuantizeLinear → DequantizeLinear is brought along too, so the folded op's clipping is kept.
// InputError when the node is not there, has no FP32 twin or reads a value the FP32 model lacks.
ir::Model single_node_model(const ir::Model& fp32, const ir::Model& quant, const std::string& node);

}  // namespace qforge::eval
