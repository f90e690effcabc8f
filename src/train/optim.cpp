#include "train/optim.h"

#include <cmath>

namespace qforge::train {

void Sgd::step(std::vector<Parameter>& params, double lr) {
  const bool first = buf_.empty();
  if (first) buf_.resize(params.size());
  QF_CHECK(buf_.size() == params.size(), "parameter list changed between steps");
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter& p = params[i];
    float* w = p.value.data<float>();
    const float* gr = p.grad.data<float>();
    const int64_t n = p.value.numel();
    const double wd = p.decay ? o_.weight_decay : 0;
    if (o_.momentum != 0 && buf_[i].empty()) buf_[i].assign(static_cast<size_t>(n), 0.f);
    for (int64_t k = 0; k < n; ++k) {
      double g = gr[k] + wd * w[k];
      if (o_.momentum != 0) {
        float& b = buf_[i][k];
        b = static_cast<float>(first ? g : o_.momentum * b + (1 - o_.dampening) * g);
        g = o_.nesterov ? g + o_.momentum * b : b;
      }
      w[k] = static_cast<float>(w[k] - lr * g);
    }
  }
}

void AdamW::step(std::vector<Parameter>& params, double lr) {
  if (m_.empty()) {
    m_.resize(params.size());
    v_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      m_[i].assign(static_cast<size_t>(params[i].value.numel()), 0.f);
      v_[i].assign(static_cast<size_t>(params[i].value.numel()), 0.f);
    }
  }
  QF_CHECK(m_.size() == params.size(), "parameter list changed between steps");
  ++t_;
  const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(t_));
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter& p = params[i];
    float* w = p.value.data<float>();
    const float* gr = p.grad.data<float>();
    const double wd = p.decay ? o_.weight_decay : 0;
    for (int64_t k = 0, n = p.value.numel(); k < n; ++k) {
      double x = w[k] * (1 - lr * wd);
      const double g = gr[k];
      m_[i][k] = static_cast<float>(o_.beta1 * m_[i][k] + (1 - o_.beta1) * g);
      v_[i][k] = static_cast<float>(o_.beta2 * v_[i][k] + (1 - o_.beta2) * g * g);
      x -= lr * (m_[i][k] / bc1) / (std::sqrt(v_[i][k] / bc2) + o_.eps);
      w[k] = static_cast<float>(x);
    }
  }
}

}  // namespace qforge::train
