// SmoothQuant on MatMul / Gemm inputs with an outlier channel. Expected behaviour from the definition
// (Xiao et al. 2023 §4): the FP32 function is unchanged (run before/after), the activation that
// reaches the MatMul has flatter per-channel maxima (measured here), and a per-tensor int8 X·W computed
// in this file with quant::fake_quantize loses less SQNR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ptq_test_util.h"
#include "quant/smoothquant.h"

namespace qforge::quant {
namespace {

using namespace ptq_test;

constexpr int64_t kK = 8, kN = 5;

// Batches of x [16, 8] with channel 2 forty times larger than the others.
std::vector<Tensor> outlier_batches(int n = 3) {
  std::vector<Tensor> xs;
  for (int b = 0; b < n; ++b) {
    Tensor x = randn({16, kK}, 100 + b);
    for (int64_t r = 0; r < 16; ++r) x.data<float>()[r * kK + 2] *= 40.0f;
    xs.push_back(x);
  }
  return xs;
}

// x [N,8] → MatMul w [8,5] → y
ir::Model matmul_model() {
  ir::Model m = empty_model("mm");
  m.graph.inputs = {value("x", {-1, kK})};
  m.graph.outputs = {value("y", {-1, kN})};
  m.graph.add_initializer("w", randn({kK, kN}, 1, 0.5f));
  m.graph.nodes = {node("mm", "MatMul", {"x", "w"}, {"y"})};
  return m;
}

// Per-channel max |x| over the last axis.
std::vector<double> channel_max(const Tensor& x) {
  std::vector<double> m(static_cast<size_t>(x.dim(-1)), 0.0);
  for (int64_t i = 0; i < x.numel(); ++i)
    m[i % x.dim(-1)] = std::max(m[i % x.dim(-1)], std::fabs(static_cast<double>(x.data<float>()[i])));
  return m;
}

double spread(const std::vector<double>& m) {
  return *std::max_element(m.begin(), m.end()) / *std::min_element(m.begin(), m.end());
}

// SQNR of X·W with X fake-quantized u8 asymmetric per tensor and W s8 symmetric per tensor, against
// the float product (direct loops).
double int8_matmul_sqnr(const Tensor& x, const Tensor& w) {
  QScheme act;
  act.format = DType::u8;
  const Tensor xq = fake_quantize(x, choose_qparams_per_tensor(x, act, "x"));
  const Tensor wq = fake_quant_s8_per_tensor(w);
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(1);
  Tensor ref(DType::f32, {m, n}), got(DType::f32, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double a = 0, b = 0;
      for (int64_t p = 0; p < k; ++p) {
        a += static_cast<double>(x.data<float>()[i * k + p]) * w.data<float>()[p * n + j];
        b += static_cast<double>(xq.data<float>()[i * k + p]) * wq.data<float>()[p * n + j];
      }
      ref.data<float>()[i * n + j] = static_cast<float>(a);
      got.data<float>()[i * n + j] = static_cast<float>(b);
    }
  return sqnr_db(ref, got);
}

TEST(SmoothQuant, InsertsMulForGraphInputAndKeepsOutput) {
  const ir::Model before = matmul_model();
  ir::Model after = before;
  const std::vector<Tensor> xs = outlier_batches();
  const SmoothQuantReport rep = smooth_quant(after, batches_of(xs), 0.5, -1);
  EXPECT_EQ(rep.batches, 3);
  EXPECT_EQ(rep.samples, 48);
  ASSERT_EQ(rep.groups.size(), 1u);
  EXPECT_EQ(rep.groups[0].activation, "x");
  EXPECT_NE(rep.groups[0].folded_into.find("inserted Mul"), std::string::npos);
  EXPECT_GT(rep.groups[0].outlier_ratio_before, 10.0);
  EXPECT_LT(rep.groups[0].outlier_ratio_after, rep.groups[0].outlier_ratio_before);
  ASSERT_EQ(after.graph.nodes.size(), 2u);
  EXPECT_EQ(after.graph.nodes[0].op_type, "Mul");  // sorted before the MatMul
  const std::string smoothed = after.graph.nodes[1].inputs[0];
  EXPECT_NE(smoothed, "x");

  for (const Tensor& x : xs) EXPECT_LT(max_rel_diff(run(before, {x})[0], run(after, {x})[0]), 1e-5);

  // The activation the MatMul reads is flatter, and the per-tensor int8 product is more accurate.
  runtime::Session s(after);
  const Tensor xs_smoothed = s.run({xs[0]}, {smoothed})[0];
  EXPECT_LT(spread(channel_max(xs_smoothed)), spread(channel_max(xs[0])) / 3);
  const double before_db = int8_matmul_sqnr(xs[0], *before.graph.initializer("w"));
  const double after_db = int8_matmul_sqnr(xs_smoothed, *after.graph.initializer("w"));
  // Measured: 40.2 dB → 45.1 dB.
  EXPECT_GT(after_db, before_db + 3.0) << before_db << " dB → " << after_db << " dB";
}

TEST(SmoothQuant, ScalesFollowTheFormula) {
  // s_j = max|X_j|^α / max|W_j|^(1−α): W' row j = s_j · W row j. Check with α = 1 (s_j = max|X_j|).
  ir::Model m = matmul_model();
  const Tensor w = m.graph.initializer("w")->clone();
  const std::vector<Tensor> xs = outlier_batches(1);
  smooth_quant(m, batches_of(xs), 1.0, -1);
  const std::vector<double> xmax = channel_max(xs[0]);
  const Tensor& w2 = *m.graph.initializer("w");
  for (int64_t j = 0; j < kK; ++j)
    for (int64_t c = 0; c < kN; ++c)
      EXPECT_NEAR(w2.data<float>()[j * kN + c], w.data<float>()[j * kN + c] * xmax[j], 1e-4 * xmax[j]);
}

TEST(SmoothQuant, FoldsIntoLayerNormShared) {
  // x [N,8] → LayerNormalization (gamma with an outlier channel) → h → MatMul w [8,5] → y
  //                                                                  → Gemm(transB=1) w2 [3,8] + c → z
  ir::Model m = empty_model("ln");
  ir::Graph& g = m.graph;
  g.inputs = {value("x", {-1, kK})};
  g.outputs = {value("y", {-1, kN}), value("z", {-1, 3})};
  Tensor gamma = uniform({kK}, 3, 0.5f, 1.5f);
  gamma.data<float>()[5] = 30.0f;
  g.add_initializer("gamma", gamma);
  g.add_initializer("beta", randn({kK}, 4, 0.1f));
  g.add_initializer("w", randn({kK, kN}, 5));
  g.add_initializer("w2", randn({3, kK}, 6));
  g.add_initializer("c", randn({3}, 7));
  g.nodes = {node("ln", "LayerNormalization", {"x", "gamma", "beta"}, {"h"}, {int_attr("axis", -1)}),
             node("mm", "MatMul", {"h", "w"}, {"y"}),
             node("gemm", "Gemm", {"h", "w2", "c"}, {"z"}, {int_attr("transB", 1)})};
  const ir::Model before = m;
  const std::vector<Tensor> xs = {randn({32, kK}, 8)};
  const SmoothQuantReport rep = smooth_quant(m, batches_of(xs), 0.5, -1);
  ASSERT_EQ(rep.groups.size(), 1u);
  EXPECT_EQ(rep.groups[0].consumers.size(), 2u);
  EXPECT_EQ(rep.groups[0].folded_into, "LayerNormalization 'ln'");
  EXPECT_EQ(m.graph.nodes.size(), 3u);
  const std::vector<Tensor> y0 = run(before, xs), y1 = run(m, xs);
  EXPECT_LT(max_rel_diff(y0[0], y1[0]), 1e-5);
  EXPECT_LT(max_rel_diff(y0[1], y1[1]), 1e-5);
  runtime::Session s0(before), s1(m);
  EXPECT_LT(spread(channel_max(s1.run(xs, {"h"})[0])), spread(channel_max(s0.run(xs, {"h"})[0])) / 3);
}

TEST(SmoothQuant, BadInput) {
  ir::Model m = matmul_model();
  EXPECT_THROW(smooth_quant(m, batches_of(outlier_batches()), 1.5, -1), InputError);
  EXPECT_THROW(smooth_quant(m, batches_of({}), 0.5, -1), InputError);
  Tensor bad = outlier_batches(1)[0];
  bad.data<float>()[3] = std::nanf("");
  EXPECT_THROW(smooth_quant(m, batches_of({bad}), 0.5, -1), InputError);
  EXPECT_THROW(smooth_quant(m, batches_of({randn({2, 3}, 1)}), 0.5, -1), InputError);  // wrong shape
}

}  // namespace
}  // namespace qforge::quant
