// Optimizers with PyTorch semantics (torch.optim.SGD / AdamW), updating Parameter::value in place
// from Parameter::grad. The learning rate is passed per step (schedule.h gives it).
//   SGD:   g = grad + wd·p;  buf = momentum·buf + (1 - dampening)·g  (buf = g on the first step);
//          g = nesterov ? g + momentum·buf : buf (momentum > 0);  p -= lr·g
//   AdamW: p -= lr·wd·p;  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;
//          p -= lr · (m / (1-β1^t)) / (√(v / (1-β2^t)) + ε)
// Weight decay applies only to parameters with Parameter::decay.
#pragma once
#include <cstdint>
#include <vector>

#include "train/train_graph.h"

namespace qforge::train {

struct SgdOptions {
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

class Sgd {
 public:
  explicit Sgd(SgdOptions o = {}) : o_(o) {}
  void step(std::vector<Parameter>& params, double lr);

 private:
  SgdOptions o_;
  std::vector<std::vector<float>> buf_;  // momentum buffers, per parameter
};

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

class AdamW {
 public:
  explicit AdamW(AdamWOptions o = {}) : o_(o) {}
  void step(std::vector<Parameter>& params, double lr);
  int64_t steps() const { return t_; }

 private:
  AdamWOptions o_;
  int64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

}  // namespace qforge::train
