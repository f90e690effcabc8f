// BatchNormalization kept in the QAT training graph (qat.h, QatOptions::freeze_bn_after > 0): which
// Conv → BatchNormalization pairs of the FP32 model the quantizer folded, and the fold the export
// applies to the trained values. The formulas, per output channel c:
//   sf_c  = γ_c / sqrt(running_var_c + ε)         float32: Add, then Sqrt, then Div (the training graph's ops)
//   W_f   = W_c · sf_c                            one float32 product per element (the graph's Mul)
//   b_f   = β_c + (b_c − running_mean_c) · sf_c    (b = 0 for a conv without bias)
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::train::detail {

struct BnPair {
  const ir::Node* bn = nullptr;  // in the FP32 model
  std::string weight, bias;      // the conv's initializers (bias "" when the conv has none)
};

// The Conv → BatchNormalization pairs ir::fuse_conv_bn folds in `fp32` (its conditions: an inference-mode
// BN whose only input producer is a Conv with one consumer and float32 W, b, γ, β, mean, var of matching
// sizes), keyed by the BN's output: the output name of the folded Conv in the QDQ model.
std::map<std::string, BnPair> find_bn_pairs(const ir::Graph& fp32);

std::vector<float> bn_scale_factor(const Tensor& gamma, const Tensor& var, float eps);

// W_f and b_f above; b may be null.
void bn_fold(const Tensor& w, const Tensor* b, const Tensor& beta, const Tensor& mean, const std::vector<float>& sf,
             Tensor& wf, Tensor& bf);

}  // namespace qforge::train::detail
