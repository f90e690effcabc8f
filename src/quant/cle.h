// Cross-layer equalization (CLE; Nagel et al. 2019, "Data-Free Quantization Through Weight
// Equalization and Bias Correction", §4.1). For two consecutive linear layers y = f(W1 x + b1),
// z = W2 y + b2 with f positively homogeneous per channel (f(x / s) = f(x) / s for s > 0), scaling
// output channel i of layer 1 by 1/s_i and input channel i of layer 2 by s_i leaves z unchanged:
//
//   W1[i, ·] /= s_i,  b1[i] /= s_i,  W2[·, i] *= s_i,    s_i = (1 / r2_i) · sqrt(r1_i · r2_i) = sqrt(r1_i / r2_i)
//
// where r1_i = max |W1[i, ·]| (the range of output channel i of layer 1) and r2_i = max |W2[·, i]| (the
// range of input channel i of layer 2). Afterwards both ranges equal sqrt(r1_i · r2_i), so one scale per
// tensor wastes fewer codes on channels with a small range (depthwise 3×3 → pointwise 1×1 is the case
// that needs it most). Chains (conv1 → conv2 → conv3) share layers between pairs, so the pairs are
// equalized in rounds until every s_i is within `tolerance` of 1 or `max_rounds` is reached.
//
// Layers: Conv (any group count, so depthwise too), Gemm (f32 initializer B, transB either way, bias C a
// 1-D [N] initializer or absent; as the second layer transA must be 0) and MatMul with a 2-D f32
// initializer weight (first or second layer; no bias). Conv pairs only with Conv (channels on axis 1),
// Gemm / MatMul only with Gemm / MatMul (channels on the last axis).
// Between the two layers any chain of single-consumer ops that commute with a positive per-channel
// scale: Relu, LeakyRelu, PRelu, Identity, Dropout (inference), MaxPool and AveragePool (Conv pairs),
// and Clip whose min is 0 or absent and whose max is absent (a Relu in disguise).
//
// ReLU6 (Clip(x, 0, 6)) is NOT scale-equivariant: Clip(x / s, 0, 6) ≠ Clip(x, 0, 6) / s, and ONNX Clip
// takes one scalar bound, so the per-channel bound 6 / s_i cannot be written back into it. Pairs
// through such a Clip are skipped and reported, unless CleOptions::relu6_as_relu is set: then, as in
// the paper (§5, MobileNetV2), Clip(x, 0, max) is first replaced by Relu — which changes the FP32
// function wherever an activation exceeded max, so the caller must re-measure accuracy.
//
// Preconditions the caller provides: BatchNormalization already folded into the Convs (a BN between the
// layers is not in the list above, so such pairs are simply not found). Weights and biases are only
// rewritten when no other node reads them; they are replaced by new tensors under the same names (other
// copies of the model keep their buffers).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qforge::quant {

struct CleOptions {
  int max_rounds = 20;
  double tolerance = 1e-4;    // stop when every |s_i − 1| of a round is below this
  bool relu6_as_relu = false;  // replace Clip(x, 0, max) between layers by Relu (changes the function)
};

struct ClePair {
  std::string first, second;  // node names (or "#index" when a node has no name)
  std::string through;        // op types between the two, joined by "+" ("" when adjacent)
  int64_t channels = 0;
  // The paper's objective, normalized to [0, 1]: mean over channels of (r1_i / max r1) · (r2_i / max r2).
  // 1 means every channel of both weights spans the full per-tensor range.
  double balance_before = 0, balance_after = 0;
};

struct CleSkip {
  std::string first, second;  // second may be "" when the pair ends before a second layer is found
  std::string reason;
};

struct CleReport {
  std::vector<ClePair> pairs;
  std::vector<CleSkip> skipped;
  int rounds = 0;                // rounds run (0 when no pair was found)
  int64_t relu6_replaced = 0;    // Clip nodes turned into Relu (relu6_as_relu only)
};

// Rewrites `model` in place; never changes graph inputs, outputs or value names.
CleReport equalize_cross_layer(ir::Model& model, const CleOptions& opts = {});

}  // namespace qforge::quant
