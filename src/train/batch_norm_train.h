// BatchNormalization in training mode (ONNX training_mode = 1 semantics), x [N][C][spatial...]:
//   μ_c = mean over (n, spatial), σ²_c = biased variance over the same, x̂ = (x - μ_c)/√(σ²_c + ε)
//   Y = scale_c · x̂ + B_c
//   running_mean = running_mean·momentum + μ_c·(1 - momentum)
//   running_var  = running_var·momentum  + σ²_c·(1 - momentum)      (momentum default 0.9)
#pragma once
#include <span>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::train {

// inputs: X, scale, B, input_mean, input_var (the last two are updated in place).
// saved receives {μ [C], 1/√(σ² + ε) [C]} for the backward rule. Channels run in parallel on up
// to `threads` threads (each channel's sums are independent of the thread count).
Tensor batch_norm_train_forward(const ir::Node& node, std::span<const Tensor> inputs,
                                std::vector<Tensor>& saved, int threads = 1);

}  // namespace qforge::train
