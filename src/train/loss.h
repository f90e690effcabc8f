// Softmax cross-entropy from logits [N, K] and integer labels, mean over the batch:
//   loss = (1/N) Σ_n (logsumexp(z_n) - z_n[label_n])     dz_n = (softmax(z_n) - onehot(label_n)) / N
#pragma once
#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace qforge::train {

struct StepResult {
  double loss = 0;      // mean softmax cross-entropy over the batch
  double accuracy = 0;  // fraction of rows with argmax(logits) == label (first maximum wins)
};

// logits: f32 [N, K]. Labels outside [0, K) or a count other than N → InputError.
// dlogits (nullable) receives dloss/dlogits, f32 [N, K].
StepResult softmax_cross_entropy(const Tensor& logits, std::span<const int64_t> labels, Tensor* dlogits);

}  // namespace qforge::train
