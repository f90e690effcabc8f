// SmoothQuant (Xiao et al. 2023, "SmoothQuant: Accurate and Efficient Post-Training Quantization for
// Large Language Models", §4): activations with a few outlier channels quantize badly per tensor,
// weights do not mind a per-row factor. For X · W (X [..., K], W [K, N]) and every input channel j:
//
//   s_j = max|X_j|^α / max|W_j|^(1−α),    X' = X / s (per channel j),   W'[j, ·] = s_j · W[j, ·]
//
// so X' · W' = X · W while the activation's per-channel maxima move toward each other (α = 0.5
// balances activation and weight ranges; larger α moves more of the difficulty into the weights).
// max|X_j| is measured over the data with the FP32 session's value hook (one batch alive at a time);
// max|W_j| is the largest |weight| of row j over every consumer that shares X (the paper's Q/K/V case:
// one s for all of them). As in the paper's code, max|W_j| and s_j are clamped below at 1e-5; a channel
// that never saw a nonzero activation keeps s_j = 1.
//
// Which nodes: MatMul with a 2-D f32 initializer B, and Gemm with transA = 0 and a 2-D f32 initializer B
// (transB either way), whose data input X is an f32 activation (graph input or node output). All such
// consumers of one X form a group. Weights shared with another node are not touched (that consumer is
// left out and reported).
//
// Where 1/s goes (first that applies), so that X' needs no extra op when possible:
//   1. X is produced by LayerNormalization (scale and optional bias 1-D f32 initializers [K]),
//      by Mul with a constant operand broadcasting over the last axis only (a scalar or [K]-shaped), or
//      by Gemm / MatMul with a 2-D f32 initializer weight (and a Gemm bias C that is absent or [K]),
//      the producer's constants are not shared, every consumer of X is in the group and X is not a
//      graph output: the producer's output channel j is divided by s_j (its value name X is kept).
//   2. Otherwise a Mul node (X, X_smooth_scale = 1/s) → X_smoothed is inserted and the group reads it;
//      other consumers of X keep reading X.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/calibrate.h"

namespace qforge::quant {

struct SmoothGroup {
  std::string activation;              // the value X
  std::vector<std::string> consumers;  // node names (or "#index")
  std::string folded_into;             // "LayerNormalization 'ln1'", "Mul 'm'", ... or "inserted Mul 'X_smooth'"
  int64_t channels = 0;
  // Outlier measure of the activation: max_j max|X_j| / median_j max|X_j|, before and after smoothing
  // (after = computed from the measured maxima divided by s; 1 = perfectly flat).
  double outlier_ratio_before = 0, outlier_ratio_after = 0;
  double s_min = 0, s_max = 0;
};

struct SmoothSkip {
  std::string node;
  std::string reason;
};

struct SmoothQuantReport {
  double alpha = 0;
  int64_t batches = 0, samples = 0;
  std::vector<SmoothGroup> groups;
  std::vector<SmoothSkip> skipped;
};

// Rewrites `fp32` in place; graph inputs and outputs are unchanged. InputError when alpha is not in
// [0, 1], when the data is empty or does not fit the model (the session's check), or when a measured
// activation holds NaN / Inf (naming the tensor). max_batches < 0: the whole source.
SmoothQuantReport smooth_quant(ir::Model& fp32, const BatchSourceFactory& data, double alpha, int64_t max_batches);

}  // namespace qforge::quant
