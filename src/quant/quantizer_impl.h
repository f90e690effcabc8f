// Pieces the quantizer's modes share (quantizer.cpp, quantize_static.cpp, quantize_dynamic.cpp,
// quantize_weight_only.cpp, quantize_fp16.cpp). Not part of the public API.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "quant/calib_table.h"
#include "quant/qparams.h"
#include "quant/quantizer.h"
#include "quant/recipe.h"

namespace qforge::quant::detail {

// "conv1", or "#3" for an unnamed node.
std::string node_label(const ir::Node& n, size_t index);
bool is_compute_op(const ir::Node& n);  // Conv, Gemm, MatMul in the default domain
// A constant f32 tensor of the graph (initializer), else nullptr.
const Tensor* f32_constant(const ir::Graph& g, const std::string& name);

// Per node: "" or why it is left in float by the recipe (--exclude, --exclude-first-last, overrides).
// InputError when an exclude entry or an override key names no node and no op type of the graph.
std::vector<std::string> exclusion_reasons(const ir::Graph& g, const Recipe& r);

// Rebuilds a graph's node list: nodes emitted in order, with fresh unique names for new values.
class GraphEditor {
 public:
  explicit GraphEditor(ir::Graph& g);
  // `base` or base_1, base_2, ... naming no value, initializer or node of the graph or of this editor.
  std::string fresh(const std::string& base);
  // Adds an initializer under fresh(base); returns its name.
  std::string add_initializer(const std::string& base, Tensor t);
  ir::Node& emit(ir::Node n);
  // DequantizeLinear(q, scale[, zero_point][, axis, block_size]) for a stored quantized tensor `base`:
  // initializers base_q, base_scale, base_zp (quant/qdq_names.h); the node base_DQ writes base_dq (or
  // `output` when given). omit_zero_zp (weights): no zero-point input when every zero point is 0 (the
  // spec's default). Returns the output name.
  std::string dequantize_constant(const std::string& base, Tensor q, const QParams& p, const Shape& shape,
                                  const std::string& output = {}, bool omit_zero_zp = false);
  // Replaces the graph's nodes by the emitted ones and sorts them topologically.
  void finish();
  ir::Graph& graph() { return g_; }

 private:
  ir::Graph& g_;
  std::set<std::string> used_;
  std::vector<ir::Node> out_;
};

// Weight layout of a compute node's weight input 1.
int weight_channel_axis(const ir::Node& n, const Tensor& w);    // Conv 0; Gemm transB ? 0 : 1; MatMul rank-1
int weight_reduction_axis(const ir::Node& n, const Tensor& w);  // Conv 1; Gemm transB ? 1 : 0; MatMul rank-2
// Parameters for a weight under a spec (per group falls back to per channel for Conv; *note says so).
QParams choose_weight_qparams(const ir::Node& n, const Tensor& w, const WeightSpec& spec, bool reduce_range,
                              const std::string& name, std::string* note);
std::string describe_weights(const QParams& p);

// Initializer bytes of a graph.
int64_t initializer_bytes(const ir::Graph& g);

// The modes. Each rewrites `m` (already BN-folded) in place and fills the report's nodes / tensors;
// `excluded` comes from exclusion_reasons. Returns the default-domain opset the export needs.
int64_t quantize_static(ir::Model& m, const Recipe& r, const CalibTable& table,
                        const std::vector<std::string>& excluded, QuantReport& rep);
int64_t quantize_dynamic(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded, QuantReport& rep);
int64_t quantize_weight_only(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded,
                             QuantReport& rep);
int64_t quantize_float16(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded, QuantReport& rep);

// Static-mode planning, shared with calibration_tensors.
struct ActivationRequest {
  std::string tensor;
  std::string share_from;  // "": own calibrated range; else the same parameters as this tensor
  bool graph_io = false;   // a graph input or output (method "auto" → minmax)
  bool bounded = false;    // the output of a bounded activation (Clip with a finite max, Sigmoid, Tanh)
};
struct StaticNodePlan {
  NodeStatus status = NodeStatus::float_;
  std::string reason;
  bool quantize_weight = false;        // input 1 is a constant weight
  bool quantize_bias = false;          // input 2 is a constant bias (Conv / Gemm)
  std::vector<int> constant_inputs;    // Add / Mul / Concat constant inputs stored quantized
};
struct StaticPlan {
  std::vector<StaticNodePlan> nodes;
  std::vector<ActivationRequest> activations;  // in order of request, each tensor once
  std::map<std::string, size_t> index;         // tensor → position in activations

  const ActivationRequest* find(const std::string& tensor) const;
};
StaticPlan plan_static(const ir::Graph& g, const Recipe& r, const std::vector<std::string>& excluded);

}  // namespace qforge::quant::detail
