// Empirical bias correction (Nagel et al. 2019 §4.2, the "empirical" variant; AIMET's
// bias_correction with data). Quantizing a layer's weights (and its input) shifts the expected value
// of its output: E[W_q x_q] ≠ E[W x]. Over the data, for each quantized Conv / Gemm of the QDQ model
// and each output channel c:
//
//   delta_c = mean(Y_quant[:, c, ...]) − mean(Y_fp32[:, c, ...])      (over samples and positions)
//   b_c    ← b_c − delta_c
//
// where Y is the node's output value (the QDQ form keeps the FP32 value names, so the node's output
// is looked up by name in both models). The corrected bias is written back in the form the node
// already has: an int32 B_quantized behind a DequantizeLinear is re-quantized with its existing scale
// (round half to even, saturated to int32, saturations counted); a float initializer is corrected in
// float; a node without bias gets one (int32 with scale s_input · s_weight when both its data input and
// its weight come from DequantizeLinear with initializer scales, float otherwise).
//
// ORDER: layer by layer. A correction changes everything downstream, so nodes are corrected in waves:
// each wave runs the QDQ model over the data once and corrects every pending node none of whose
// quantized ancestors is still pending (a chain needs one wave per layer; parallel branches share
// waves). The FP32 means are measured once. Cost: (waves + 1) passes over at most max_batches batches.
//
// Quantized node: Conv or Gemm whose weight input is a DequantizeLinear of an initializer. Output
// channels are on axis 1 for both. The FP32 model is not modified.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/calibrate.h"

namespace qforge::quant {

struct BiasCorrectedNode {
  std::string node, op_type;
  int64_t channels = 0;
  double mean_abs_shift = 0;  // mean over channels of |delta_c| (the error removed)
  double max_abs_shift = 0;
  std::string bias_form;      // "int32", "float", "added int32", "added float"
  int64_t saturated = 0;      // channels whose corrected int32 bias was clamped
  int wave = 0;               // 1-based pass in which it was corrected
};

struct BiasCorrectionSkip {
  std::string node;
  std::string reason;
};

struct BiasCorrectionReport {
  int64_t batches = 0, samples = 0;  // per pass
  int waves = 0;
  std::vector<BiasCorrectedNode> nodes;
  std::vector<BiasCorrectionSkip> skipped;
  int64_t saturated = 0;  // total over nodes
};

// InputError when the data is empty or does not fit the models (the sessions' checks), when the two
// models' inputs differ, or when a node output has a different shape in the two models.
// max_batches < 0: the whole source.
BiasCorrectionReport correct_bias(const ir::Model& fp32, ir::Model& qdq, const BatchSourceFactory& data,
                                  int64_t max_batches);

}  // namespace qforge::quant
