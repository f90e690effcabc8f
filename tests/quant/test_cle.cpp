// Cross-layer equalization on a depthwise-separable model whose depthwise channels have very different
// ranges. Expected behaviour from the definition (Nagel et al. 2019 §4.1): the FP32 function is
// unchanged (compared by running the model before and after), each equalized pair ends with equal
// per-channel ranges r1_i = r2_i (measured here on the weights), and per-tensor int8 weight quantization
// (quant::fake_quantize, not the code under test) loses less output SQNR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ptq_test_util.h"
#include "quant/cle.h"

namespace qforge::quant {
namespace {

using namespace ptq_test;

constexpr int64_t kC = 6;  // depthwise channels

// x [N,6,8,8] → dw 3×3 (group 6, pad 1) + b → Relu (or `act`) → pw 1×1 6→6 + b → Relu → pw 1×1 6→4 + b → y
ir::Model dw_separable(const std::string& act = "Relu") {
  ir::Model m = empty_model("dw_separable");
  ir::Graph& g = m.graph;
  g.inputs = {value("x", {-1, kC, 8, 8})};
  g.outputs = {value("y", {-1, 4, 8, 8})};
  Tensor w1 = randn({kC, 1, 3, 3}, 1);
  const float ch_scale[kC] = {0.02f, 0.1f, 1.0f, 5.0f, 20.0f, 0.5f};  // wildly different channel ranges
  for (int64_t c = 0; c < kC; ++c)
    for (int k = 0; k < 9; ++k) w1.data<float>()[c * 9 + k] *= ch_scale[c];
  g.add_initializer("w1", w1);
  g.add_initializer("b1", randn({kC}, 2, 0.1f));
  g.add_initializer("w2", randn({kC, kC, 1, 1}, 3));
  g.add_initializer("b2", randn({kC}, 4, 0.1f));
  g.add_initializer("w3", randn({4, kC, 1, 1}, 5));
  g.add_initializer("b3", randn({4}, 6, 0.1f));
  std::vector<std::string> act_in = {"c1"};
  if (act == "Clip") {
    g.add_initializer("lo", Tensor::from_vector<float>(DType::f32, {}, {0.0f}));
    g.add_initializer("hi", Tensor::from_vector<float>(DType::f32, {}, {6.0f}));
    act_in = {"c1", "lo", "hi"};
  }
  g.nodes = {
      node("dw", "Conv", {"x", "w1", "b1"}, {"c1"},
           {int_attr("group", kC), ints_attr("kernel_shape", {3, 3}), ints_attr("pads", {1, 1, 1, 1})}),
      node("act1", act, act_in, {"r1"}),
      node("pw1", "Conv", {"r1", "w2", "b2"}, {"c2"}, {ints_attr("kernel_shape", {1, 1})}),
      node("act2", "Relu", {"c2"}, {"r2"}),
      node("pw2", "Conv", {"r2", "w3", "b3"}, {"y"}, {ints_attr("kernel_shape", {1, 1})}),
  };
  return m;
}

// The model with every Conv weight fake-quantized to s8 per tensor.
ir::Model with_per_tensor_weights(ir::Model m) {
  for (const char* w : {"w1", "w2", "w3"}) m.graph.add_initializer(w, fake_quant_s8_per_tensor(*m.graph.initializer(w)));
  return m;
}

double output_sqnr_per_tensor_int8(const ir::Model& m, const Tensor& x) {
  return sqnr_db(run(m, {x})[0], run(with_per_tensor_weights(m), {x})[0]);
}

TEST(Cle, KeepsFp32OutputAndBalancesChannelRanges) {
  const ir::Model before = dw_separable();
  ir::Model after = before;
  const CleReport rep = equalize_cross_layer(after);
  ASSERT_EQ(rep.pairs.size(), 2u);
  EXPECT_EQ(rep.pairs[0].first, "dw");
  EXPECT_EQ(rep.pairs[0].second, "pw1");
  EXPECT_EQ(rep.pairs[0].through, "Relu");
  EXPECT_EQ(rep.pairs[1].first, "pw1");
  EXPECT_EQ(rep.pairs[1].second, "pw2");
  EXPECT_GT(rep.rounds, 1);  // the chain shares pw1 between the pairs
  EXPECT_GT(rep.pairs[0].balance_after, rep.pairs[0].balance_before);

  const Tensor x = randn({2, kC, 8, 8}, 7);
  EXPECT_LT(max_rel_diff(run(before, {x})[0], run(after, {x})[0]), 1e-5);

  // r1_i = max|w1[i]|, r2_i = max_o |w2[o, i]|: equal after equalization (the last round moved s by < 1e-4,
  // and the following pair's step changes pw1's input side only).
  const Tensor& w1 = *after.graph.initializer("w1");
  const Tensor& w2 = *after.graph.initializer("w2");
  for (int64_t i = 0; i < kC; ++i) {
    double r1 = 0, r2 = 0;
    for (int k = 0; k < 9; ++k) r1 = std::max(r1, std::fabs(static_cast<double>(w1.data<float>()[i * 9 + k])));
    for (int64_t o = 0; o < kC; ++o) r2 = std::max(r2, std::fabs(static_cast<double>(w2.data<float>()[o * kC + i])));
    EXPECT_NEAR(r1 / r2, 1.0, 2e-3) << "channel " << i;
  }
  // The original model's tensors are untouched (new buffers under the same names).
  EXPECT_FALSE(before.graph.initializer("w1")->bit_equal(w1));
  EXPECT_TRUE(before.graph.initializer("w1")->bit_equal(*dw_separable().graph.initializer("w1")));
}

TEST(Cle, ReducesPerTensorInt8Error) {
  const ir::Model before = dw_separable();
  ir::Model after = before;
  equalize_cross_layer(after);
  const Tensor x = randn({4, kC, 8, 8}, 8);
  const double sqnr_before = output_sqnr_per_tensor_int8(before, x);
  const double sqnr_after = output_sqnr_per_tensor_int8(after, x);
  // Depthwise channels at 0.02 of the largest lose almost all their codes per tensor before CLE
  // (measured: 34.2 dB → 40.4 dB on this model).
  EXPECT_GT(sqnr_after, sqnr_before + 4.0) << sqnr_before << " dB → " << sqnr_after << " dB";
  // The depthwise weight alone, per-tensor int8: SQNR of the tensor against itself quantized.
  const auto wsqnr = [](const ir::Model& m) {
    const Tensor& w = *m.graph.initializer("w1");
    return sqnr_db(w, fake_quant_s8_per_tensor(w));
  };
  EXPECT_GT(wsqnr(after), wsqnr(before));
}

TEST(Cle, SkipsRelu6UnlessAskedToReplaceIt) {
  ir::Model m = dw_separable("Clip");
  const ir::Model orig = m;
  const CleReport rep = equalize_cross_layer(m);
  ASSERT_EQ(rep.pairs.size(), 1u);  // pw1 → pw2 only
  EXPECT_EQ(rep.pairs[0].first, "pw1");
  ASSERT_EQ(rep.skipped.size(), 1u);
  EXPECT_EQ(rep.skipped[0].first, "dw");
  EXPECT_EQ(rep.skipped[0].second, "pw1");
  EXPECT_NE(rep.skipped[0].reason.find("ReLU6"), std::string::npos) << rep.skipped[0].reason;
  EXPECT_TRUE(m.graph.initializer("w1")->bit_equal(*orig.graph.initializer("w1")));

  ir::Model r = dw_separable("Clip");
  CleOptions o;
  o.relu6_as_relu = true;
  const CleReport rep2 = equalize_cross_layer(r, o);
  EXPECT_EQ(rep2.pairs.size(), 2u);
  EXPECT_EQ(rep2.relu6_replaced, 1);
  EXPECT_EQ(r.graph.nodes[1].op_type, "Relu");
  EXPECT_EQ(r.graph.nodes[1].inputs.size(), 1u);
}

TEST(Cle, GemmPairsAndSharedWeightsSkipped) {
  // x [N,5] → Gemm(transB=1) 5→3 → Relu → MatMul [3,2] → y; and a second Gemm sharing w1.
  ir::Model m = empty_model("gemm_pair");
  ir::Graph& g = m.graph;
  g.inputs = {value("x", {-1, 5})};
  g.outputs = {value("y", {-1, 2})};
  Tensor w1 = randn({3, 5}, 11);
  for (int k = 0; k < 5; ++k) w1.data<float>()[k] *= 30.0f;  // output channel 0 is large
  g.add_initializer("w1", w1);
  g.add_initializer("b1", randn({3}, 12));
  g.add_initializer("w2", randn({3, 2}, 13));
  g.nodes = {node("g1", "Gemm", {"x", "w1", "b1"}, {"h"}, {int_attr("transB", 1)}),
             node("relu", "Relu", {"h"}, {"r"}), node("mm", "MatMul", {"r", "w2"}, {"y"})};
  const ir::Model before = m;
  const CleReport rep = equalize_cross_layer(m);
  ASSERT_EQ(rep.pairs.size(), 1u);
  EXPECT_EQ(rep.pairs[0].channels, 3);
  const Tensor x = randn({4, 5}, 14);
  EXPECT_LT(max_rel_diff(run(before, {x})[0], run(m, {x})[0]), 1e-5);

  ir::Model shared = before;
  shared.graph.outputs.push_back(value("z", {-1, 3}));
  shared.graph.nodes.push_back(node("g2", "Gemm", {"x", "w1"}, {"z"}, {int_attr("transB", 1)}));
  const CleReport rep2 = equalize_cross_layer(shared);
  EXPECT_TRUE(rep2.pairs.empty());
  EXPECT_TRUE(shared.graph.initializer("w1")->bit_equal(*before.graph.initializer("w1")));
}

}  // namespace
}  // namespace qforge::quant
