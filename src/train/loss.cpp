#include "train/loss.h"

#include <cmath>

namespace qforge::train {

StepResult softmax_cross_entropy(const Tensor& logits, std::span<const int64_t> labels, Tensor* dlogits) {
  if (logits.dtype() != DType::f32 || logits.rank() != 2)
    fail_input("loss: logits must be float32 [N, classes], got {} {}", dtype_name(logits.dtype()),
               shape_str(logits.shape()));
  const int64_t N = logits.dim(0), K = logits.dim(1);
  if (static_cast<int64_t>(labels.size()) != N)
    fail_input("loss: {} labels for a batch of {}", labels.size(), N);
  if (dlogits) *dlogits = Tensor(DType::f32, logits.shape());
  StepResult r;
  if (N == 0) return r;
  const float* z = logits.data<float>();
  double total = 0;
  int64_t correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t y = labels[n];
    if (y < 0 || y >= K) fail_input("loss: label {} of sample {} is outside [0, {})", y, n, K);
    const float* row = z + n * K;
    int64_t arg = 0;
    for (int64_t k = 1; k < K; ++k)
      if (row[k] > row[arg]) arg = k;
    correct += arg == y ? 1 : 0;
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<double>(row[k]) - row[arg]);
    total += std::log(s) + row[arg] - row[y];
    if (dlogits) {
      float* d = dlogits->data<float>() + n * K;
      for (int64_t k = 0; k < K; ++k) {
        const double p = std::exp(static_cast<double>(row[k]) - row[arg]) / s;
        d[k] = static_cast<float>((p - (k == y ? 1.0 : 0.0)) / static_cast<double>(N));
      }
    }
  }
  r.loss = total / static_cast<double>(N);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(N);
  return r;
}

}  // namespace qforge::train
