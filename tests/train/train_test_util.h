// Helpers for the training tests: attribute builders, one-node models, seeded random tensors and
// the finite-difference gradient check (central differences of L = Σ R·Y for a random projection R,
// so every output element matters).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "train/train_graph.h"

namespace qforge::train_test {

inline ir::Attribute attr_i(const std::string& n, int64_t v) {
  ir::Attribute a;
  a.name = n, a.kind = ir::AttrKind::i, a.i = v;
  return a;
}
inline ir::Attribute attr_f(const std::string& n, float v) {
  ir::Attribute a;
  a.name = n, a.kind = ir::AttrKind::f, a.f = v;
  return a;
}
inline ir::Attribute attr_ints(const std::string& n, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = n, a.kind = ir::AttrKind::ints, a.ints = std::move(v);
  return a;
}

inline Tensor rand_tensor(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::f32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (auto& v : t.span<float>()) v = u(rng);
  return t;
}

// Values in [lo, hi) kept at least `gap` away from each kink.
inline Tensor rand_away_from(const Shape& shape, uint32_t seed, float lo, float hi,
                             std::vector<float> kinks, float gap = 0.05f) {
  Tensor t = rand_tensor(shape, seed, lo, hi);
  for (auto& v : t.span<float>())
    for (float k : kinks)
      if (std::fabs(v - k) < gap) v = v < k ? k - gap : k + gap;
  return t;
}

// Distinct values spaced 0.01 apart in random order (no near-ties for MaxPool).
inline Tensor rand_distinct(const Shape& shape, uint32_t seed) {
  Tensor t(DType::f32, shape);
  auto s = t.span<float>();
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.01f * static_cast<float>(i) - 0.005f * static_cast<float>(s.size());
  std::mt19937 rng(seed);
  std::shuffle(s.begin(), s.end(), rng);
  return t;
}

// A model with one node "n0" whose output is "y"; graph_inputs and inits name its inputs.
inline ir::Model one_node_model(const std::string& op, const std::vector<std::string>& node_inputs,
                                const std::vector<std::string>& graph_inputs,
                                const std::vector<std::pair<std::string, Tensor>>& inits,
                                std::vector<ir::Attribute> attrs = {}) {
  ir::Model m;
  ir::Node n;
  n.name = "n0", n.op_type = op, n.inputs = node_inputs, n.outputs = {"y"}, n.attrs = std::move(attrs);
  m.graph.nodes.push_back(n);
  for (const auto& gi : graph_inputs) m.graph.inputs.push_back({gi, DType::f32, false, {}, {}});
  for (const auto& [name, t] : inits) m.graph.add_initializer(name, t);
  m.graph.outputs.push_back({"y", DType::f32, false, {}, {}});
  return m;
}

inline double projected(const Tensor& y, const Tensor& r) {
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y.data<float>()[i]) * r.data<float>()[i];
  return s;
}

// ||analytic - numeric|| / max(||numeric||, 1e-3)
inline double rel_error(const std::vector<double>& a, const std::vector<double>& n) {
  double d = 0, nn = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - n[i]) * (a[i] - n[i]), nn += n[i] * n[i];
  return std::sqrt(d) / std::max(std::sqrt(nn), 1e-3);
}

// Checks d(Σ R·Y)/d(every graph input and every parameter) against central differences.
inline void grad_check(const ir::Model& model, std::vector<Tensor> inputs, double tol,
                       bool training = true, float eps = 1e-3f) {
  train::TrainGraph tg(model, {.input_grads = true});
  tg.set_training(training);
  const Tensor y = tg.forward(inputs)[0];
  const Tensor r = rand_tensor(y.shape(), 4242);
  tg.backward({r});
  auto loss = [&] { return projected(tg.forward(inputs)[0], r); };
  auto check = [&](const std::string& what, Tensor value, const Tensor& grad) {
    ASSERT_FALSE(grad.empty()) << "no gradient for " << what;
    ASSERT_EQ(grad.shape(), value.shape()) << what;
    std::vector<double> a, n;
    float* v = value.data<float>();
    for (int64_t i = 0; i < value.numel(); ++i) {
      const float old = v[i];
      v[i] = old + eps;
      const double lp = loss();
      v[i] = old - eps;
      const double lm = loss();
      v[i] = old;
      n.push_back((lp - lm) / (2.0 * eps));
      a.push_back(grad.data<float>()[i]);
    }
    const double e = rel_error(a, n);
    EXPECT_LE(e, tol) << "gradient of " << what << " (first element analytic " << a[0] << ", numeric " << n[0] << ")";
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = model.graph.inputs[i].name;
    check("input " + name, inputs[i], tg.grad(name));
  }
  // Gradients of the parameters: recompute after the input perturbations (same values restored).
  tg.forward(inputs);
  tg.backward({r});
  for (auto& p : tg.parameters()) {
    const Tensor g = p.grad.clone();
    check("parameter " + p.name, p.value, g);
  }
}

}  // namespace qforge::train_test
