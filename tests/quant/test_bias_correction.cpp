// Empirical bias correction on a hand-built QDQ model whose weights all round the same way (every
// weight is (k + 0.4) · s_w, so W_q = k · s_w and each weight errs by −0.4 · s_w): the quantized Conv
// outputs are biased. The expected outcome comes from the definition: after correction the per-channel
// mean of (quantized output − FP32 output) over the data, measured here by running both models, is
// near zero (the int32 bias step s_x · s_w bounds what remains); the FP32 model is untouched.
#include <gtest/gtest.h>

#include <cmath>

#include "ptq_test_util.h"
#include "quant/bias_correction.h"

namespace qforge::quant {
namespace {

using namespace ptq_test;

constexpr float kSx = 1.0f / 255, kSw = 0.05f, kSr = 0.05f;

// Weights (k + 0.4) · s_w with k from a fixed pattern in [-4, 4].
Tensor biased_weight(Shape shape, int seed) {
  Tensor w(DType::f32, shape);
  for (int64_t i = 0; i < w.numel(); ++i)
    w.data<float>()[i] = (static_cast<float>((i * 7 + seed) % 9 - 4) + 0.4f) * kSw;
  return w;
}

// x [N,2,4,4] → Conv 3×3 pad 1 (w1 [3,2,3,3], b1) → y1 → Relu → r → Conv 1×1 (w2 [2,3,1,1], no bias) → y2
ir::Model fp32_model() {
  ir::Model m = empty_model("bc");
  ir::Graph& g = m.graph;
  g.inputs = {value("x", {-1, 2, 4, 4})};
  g.outputs = {value("y2", {-1, 2, 4, 4})};
  g.add_initializer("w1", biased_weight({3, 2, 3, 3}, 1));
  g.add_initializer("b1", Tensor::from_vector<float>(DType::f32, {3}, {0.1f, -0.2f, 0.05f}));
  g.add_initializer("w2", biased_weight({2, 3, 1, 1}, 2));
  g.nodes = {node("conv1", "Conv", {"x", "w1", "b1"}, {"y1"}, {ints_attr("kernel_shape", {3, 3}), ints_attr("pads", {1, 1, 1, 1})}),
             node("relu", "Relu", {"y1"}, {"r"}),
             node("conv2", "Conv", {"r", "w2"}, {"y2"}, {ints_attr("kernel_shape", {1, 1})})};
  return m;
}

// The QDQ form of fp32_model(): x, r quantized u8; w1, w2 s8 per tensor; b1 int32 at s_x · s_w.
ir::Model qdq_model() {
  ir::Model m = fp32_model();
  ir::Graph& g = m.graph;
  quantize_activation(g, "r", kSr, 0);
  quantize_activation(g, "x", kSx, 0);
  quantize_weight(g, "w1", kSw);
  quantize_weight(g, "w2", kSw);
  quantize_bias(g, "b1", kSx * kSw);
  g.topo_sort();
  return m;
}

std::vector<Tensor> data() {
  std::vector<Tensor> xs;
  for (int b = 0; b < 4; ++b) xs.push_back(uniform({8, 2, 4, 4}, 200 + b, 0.0f, 1.0f));
  return xs;
}

// Per-channel (axis 1) mean of (quantized − FP32) of `value` over the data, by running both models.
std::vector<double> mean_error(const ir::Model& fp, const ir::Model& q, const std::string& value) {
  runtime::SessionOptions so;
  so.optimize = false;
  so.lower_qdq = false;  // the float QDQ semantics, every Conv output visible
  runtime::Session sf(fp, so), sq(q, so);
  std::vector<double> sum;
  int64_t per = 0;
  for (const Tensor& x : data()) {
    const Tensor a = sf.run({x}, {value})[0], b = sq.run({x}, {value})[0];
    const int64_t c = a.dim(1), inner = a.numel() / (a.dim(0) * c);
    sum.resize(static_cast<size_t>(c), 0.0);
    for (int64_t i = 0; i < a.numel(); ++i) sum[(i / inner) % c] += b.data<float>()[i] - a.data<float>()[i];
    per += a.numel() / c;
  }
  for (double& s : sum) s /= static_cast<double>(per);
  return sum;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

TEST(BiasCorrection, RemovesSystematicOutputShift) {
  const ir::Model fp = fp32_model();
  ir::Model q = qdq_model();
  const std::vector<double> e1 = mean_error(fp, q, "y1"), e2 = mean_error(fp, q, "y2");
  ASSERT_GT(max_abs(e1), 0.05);  // −0.4 · s_w per weight times Σx (≈ 18 · 0.5): a real shift
  ASSERT_GT(max_abs(e2), 0.004);  // 0.0057: over four times the int32 bias step that bounds the result

  const BiasCorrectionReport rep = correct_bias(fp, q, batches_of(data()), -1);
  EXPECT_EQ(rep.batches, 4);
  EXPECT_EQ(rep.samples, 32);
  EXPECT_EQ(rep.waves, 2);  // conv2 waits for conv1
  ASSERT_EQ(rep.nodes.size(), 2u);
  EXPECT_EQ(rep.nodes[0].node, "conv1");
  EXPECT_EQ(rep.nodes[0].bias_form, "int32");
  EXPECT_EQ(rep.nodes[0].wave, 1);
  EXPECT_NEAR(rep.nodes[0].max_abs_shift, max_abs(e1), 1e-6);
  EXPECT_EQ(rep.nodes[1].node, "conv2");
  EXPECT_EQ(rep.nodes[1].bias_form, "added int32");
  EXPECT_EQ(rep.saturated, 0);

  const std::vector<double> a1 = mean_error(fp, q, "y1"), a2 = mean_error(fp, q, "y2");
  // What remains is the bias rounding (half a step of s_x · s_w for conv1, of s_r · s_w for conv2).
  EXPECT_LE(max_abs(a1), 0.5 * kSx * kSw * 1.01 + 1e-6);
  EXPECT_LE(max_abs(a2), 0.5 * kSr * kSw * 1.01 + 1e-6);
  EXPECT_LT(max_abs(a1), max_abs(e1) / 50);

  // The added bias is the brief's QDQ form: int32 B_quantized at scale s_r · s_w behind a DequantizeLinear.
  const ir::Graph& g = q.graph;
  const ir::Node& conv2 = g.nodes[g.producer("y2")];
  ASSERT_EQ(conv2.inputs.size(), 3u);
  const ir::Node& dq = g.nodes[g.producer(conv2.inputs[2])];
  EXPECT_EQ(dq.op_type, "DequantizeLinear");
  EXPECT_EQ(g.initializer(dq.inputs[0])->dtype(), DType::s32);
  EXPECT_FLOAT_EQ(g.initializer(dq.inputs[1])->data<float>()[0], kSr * kSw);
}

TEST(BiasCorrection, LeavesFp32ModelUntouched) {
  const ir::Model fp = fp32_model();
  const ir::Model fresh = fp32_model();
  ir::Model q = qdq_model();
  correct_bias(fp, q, batches_of(data()), 2);
  ASSERT_EQ(fp.graph.nodes.size(), fresh.graph.nodes.size());
  for (const auto& [name, t] : fresh.graph.initializers) EXPECT_TRUE(fp.graph.initializer(name)->bit_equal(t)) << name;
}

TEST(BiasCorrection, BadInput) {
  const ir::Model fp = fp32_model();
  ir::Model q = qdq_model();
  EXPECT_THROW(correct_bias(fp, q, batches_of({}), -1), InputError);
  ir::Model other = fp32_model();
  other.graph.inputs[0].name = "image";
  other.graph.nodes[0].inputs[0] = "image";
  EXPECT_THROW(correct_bias(other, q, batches_of(data()), -1), InputError);
}

}  // namespace
}  // namespace qforge::quant
