// Helpers for the Conv / Gemm / MatMul / pool tests: seeded random tensors, attribute builders,
// running one op through the registry (infer → prepare → compute), the normalised-MSE comparison,
// and an ISA guard that restores the level after a test pins one.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "runtime/session.h"

namespace qforge::linear_test {

inline Tensor rand_tensor(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::f32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (auto& v : t.span<float>()) v = u(rng);
  return t;
}

inline Tensor f32(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector(DType::f32, shape, v); }

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
inline ir::Attribute attr_s(const std::string& n, const std::string& v) {
  ir::Attribute a;
  a.name = n, a.kind = ir::AttrKind::s, a.s = v;
  return a;
}
inline ir::Attribute attr_ints(const std::string& n, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = n, a.kind = ir::AttrKind::ints, a.ints = std::move(v);
  return a;
}

// Runs op_type on the inputs (an empty Tensor marks an omitted optional input). With
// prepare_constants, every input from index 1 on is offered to the op's PrepareFn as a constant
// (weight packing path); otherwise none is.
inline std::vector<Tensor> run_op(const std::string& op_type, const std::vector<Tensor>& inputs,
                                  const std::vector<ir::Attribute>& attrs = {}, int outputs = 1,
                                  bool prepare_constants = true, const std::string& domain = "",
                                  int threads = 2) {
  ir::Node node;
  node.name = "n0";
  node.op_type = op_type;
  node.domain = domain;
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].empty() ? "" : "in" + std::to_string(i));
  for (int i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attrs = attrs;
  const runtime::OpDef* op = runtime::find_op(domain, op_type);
  EXPECT_NE(op, nullptr) << op_type;
  std::shared_ptr<void> state;
  if (op->prepare) {
    std::vector<const Tensor*> consts;
    for (size_t i = 0; i < inputs.size(); ++i)
      consts.push_back(prepare_constants && i > 0 && !inputs[i].empty() ? &inputs[i] : nullptr);
    state = op->prepare(node, consts);
  }
  return runtime::execute_node(node, *op, inputs, state.get(), threads);
}

struct Diff {
  double nmse = 0, max_rel = 0;  // Σ(a−b)² / Σb²; max |a−b| / max(|b|, 1e-2 · max|b|): the floor keeps sums that cancel to ~0 from dominating
};

inline Diff diff(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  Diff d;
  if (got.shape() != want.shape()) {
    d.nmse = d.max_rel = INFINITY;
    return d;
  }
  const auto g = got.span<float>(), w = want.span<float>();
  double num = 0, den = 0, wmax = 0;
  for (float v : w) wmax = std::max(wmax, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < w.size(); ++i) {
    const double e = static_cast<double>(g[i]) - w[i];
    num += e * e;
    den += static_cast<double>(w[i]) * w[i];
    d.max_rel = std::max(d.max_rel, std::fabs(e) / std::max(std::fabs(static_cast<double>(w[i])), 1e-2 * wmax + 1e-30));
  }
  d.nmse = den > 0 ? num / den : num;
  return d;
}

// Pins an ISA level for the scope (clamped to what the CPU has); restores the previous level after.
class IsaScope {
 public:
  explicit IsaScope(Isa isa) : prev_(active_isa()), got_(set_isa(isa)) {}
  ~IsaScope() { set_isa(prev_); }
  Isa got() const { return got_; }

 private:
  Isa prev_, got_;
};

// The SIMD levels this CPU runs (avx2, avx512 where present).
inline std::vector<Isa> simd_levels() {
  std::vector<Isa> r;
  for (Isa i : {Isa::avx2, Isa::avx512}) {
    IsaScope s(i);
    if (s.got() == i) r.push_back(i);
  }
  return r;
}

inline std::vector<float> values(const Tensor& t) { return t.to_f32_vector(); }

}  // namespace qforge::linear_test
