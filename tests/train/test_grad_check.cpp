// Every backward rule against central finite differences (train_test_util.h: grad_check), on tiny
// graphs with odd shapes. Bounds are the relative L2 error of the whole gradient tensor; float32
// forward passes with eps 1e-3 give errors near 1e-3, so 1e-2 is stated for every op below.
#include <gtest/gtest.h>

#include "runtime/op_registry.h"
#include "train/backward_rules.h"
#include "train/loss.h"
#include "train_test_util.h"

namespace qforge {
namespace {

using namespace train_test;
constexpr double kTol = 1e-2;

TEST(TrainGradCheck, ConvStridedPadded) {
  auto m = one_node_model("Conv", {"x", "w", "b"}, {"x"},
                          {{"w", rand_tensor({4, 3, 3, 3}, 2)}, {"b", rand_tensor({4}, 3)}},
                          {attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_tensor({2, 3, 5, 5}, 1)}, kTol);
}

TEST(TrainGradCheck, ConvDepthwise) {
  auto m = one_node_model("Conv", {"x", "w", "b"}, {"x"},
                          {{"w", rand_tensor({3, 1, 3, 3}, 5)}, {"b", rand_tensor({3}, 6)}},
                          {attr_i("group", 3), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_tensor({2, 3, 5, 5}, 4)}, kTol);
}

TEST(TrainGradCheck, ConvGroupedDilatedAsymmetric) {
  auto m = one_node_model("Conv", {"x", "w"}, {"x"}, {{"w", rand_tensor({6, 2, 3, 2}, 8)}},
                          {attr_i("group", 2), attr_ints("dilations", {2, 1}), attr_ints("strides", {1, 2}),
                           attr_ints("pads", {1, 0, 0, 1})});
  grad_check(m, {rand_tensor({1, 4, 7, 6}, 7)}, kTol);
}

TEST(TrainGradCheck, ConvSameUpper1D) {
  auto m = one_node_model("Conv", {"x", "w"}, {"x"}, {{"w", rand_tensor({2, 3, 3}, 10)}},
                          {attr_ints("strides", {2})});
  m.graph.nodes[0].set_attr([] { ir::Attribute a; a.name = "auto_pad", a.kind = ir::AttrKind::s, a.s = "SAME_UPPER"; return a; }());
  grad_check(m, {rand_tensor({2, 3, 8}, 9)}, kTol);
}

// Stride-1 Convs take dX from a forward Conv with flipped weights (train/kernels/conv_grad.h):
// wide enough for the runtime's direct kernel, narrow (im2col GEMM), grouped, pointwise.
TEST(TrainGradCheck, ConvStride1PaddedWide) {
  auto m = one_node_model("Conv", {"x", "w", "b"}, {"x"},
                          {{"w", rand_tensor({5, 3, 3, 3}, 62)}, {"b", rand_tensor({5}, 63)}},
                          {attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_tensor({2, 3, 3, 17}, 61)}, kTol);
}

TEST(TrainGradCheck, ConvStride1GroupedAsymmetricPads) {
  auto m = one_node_model("Conv", {"x", "w"}, {"x"}, {{"w", rand_tensor({4, 3, 2, 3}, 65)}},
                          {attr_i("group", 2), attr_ints("pads", {0, 2, 1, 1})});
  grad_check(m, {rand_tensor({2, 6, 4, 5}, 64)}, kTol);
}

TEST(TrainGradCheck, ConvPointwise) {
  auto m = one_node_model("Conv", {"x", "w", "b"}, {"x"},
                          {{"w", rand_tensor({7, 5, 1, 1}, 67)}, {"b", rand_tensor({7}, 68)}});
  grad_check(m, {rand_tensor({3, 5, 3, 4}, 66)}, kTol);
}

TEST(TrainGradCheck, ConvPointwiseStride2) {
  auto m = one_node_model("Conv", {"x", "w"}, {"x"}, {{"w", rand_tensor({4, 3, 1, 1}, 70)}},
                          {attr_ints("strides", {2, 2})});
  grad_check(m, {rand_tensor({2, 3, 5, 6}, 69)}, kTol);
}

TEST(TrainGradCheck, ConvDepthwiseMultiplierStride1) {
  auto m = one_node_model("Conv", {"x", "w", "b"}, {"x"},
                          {{"w", rand_tensor({6, 1, 3, 3}, 72)}, {"b", rand_tensor({6}, 73)}},
                          {attr_i("group", 3), attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_tensor({2, 3, 5, 6}, 71)}, kTol);
}

void gemm_case(int ta, int tb, Shape c_shape, uint32_t seed) {
  const Shape a = ta ? Shape{5, 3} : Shape{3, 5};
  const Shape b = tb ? Shape{7, 5} : Shape{5, 7};
  auto m = one_node_model("Gemm", {"a", "b", "c"}, {"a"},
                          {{"b", rand_tensor(b, seed + 1)}, {"c", rand_tensor(c_shape, seed + 2)}},
                          {attr_i("transA", ta), attr_i("transB", tb), attr_f("alpha", 0.7f), attr_f("beta", 1.3f)});
  grad_check(m, {rand_tensor(a, seed)}, kTol);
}
TEST(TrainGradCheck, GemmNN) { gemm_case(0, 0, {7}, 11); }
TEST(TrainGradCheck, GemmTN) { gemm_case(1, 0, {3, 7}, 14); }
TEST(TrainGradCheck, GemmNT) { gemm_case(0, 1, {3, 1}, 17); }
TEST(TrainGradCheck, GemmTT) { gemm_case(1, 1, {1, 7}, 20); }

TEST(TrainGradCheck, MatMul2D) {
  auto m = one_node_model("MatMul", {"a", "b"}, {"a"}, {{"b", rand_tensor({5, 7}, 24)}});
  grad_check(m, {rand_tensor({3, 5}, 23)}, kTol);
}

TEST(TrainGradCheck, MatMulBatchedBroadcast) {
  auto m = one_node_model("MatMul", {"a", "b"}, {"a", "b"}, {});
  grad_check(m, {rand_tensor({2, 1, 3, 4}, 25), rand_tensor({3, 4, 2}, 26)}, kTol);
}

TEST(TrainGradCheck, MatMulVectorOperands) {
  auto m = one_node_model("MatMul", {"a", "b"}, {"a", "b"}, {});
  grad_check(m, {rand_tensor({4}, 27), rand_tensor({2, 4, 3}, 28)}, kTol);
}

void binary_case(const std::string& op, Shape a, Shape b, uint32_t seed) {
  auto m = one_node_model(op, {"a", "b"}, {"a", "b"}, {});
  grad_check(m, {rand_tensor(a, seed), rand_tensor(b, seed + 1)}, kTol);
}
TEST(TrainGradCheck, AddBroadcast) { binary_case("Add", {2, 3, 4}, {3, 1}, 30); }
TEST(TrainGradCheck, AddBothBroadcast) { binary_case("Add", {2, 1, 4}, {3, 1}, 32); }
TEST(TrainGradCheck, SubBroadcast) { binary_case("Sub", {3, 1}, {2, 3, 4}, 34); }
TEST(TrainGradCheck, MulBroadcast) { binary_case("Mul", {2, 3, 4}, {3, 1}, 36); }
TEST(TrainGradCheck, MulSameShape) { binary_case("Mul", {2, 3, 5}, {2, 3, 5}, 38); }

TEST(TrainGradCheck, Relu) {
  auto m = one_node_model("Relu", {"x"}, {"x"}, {});
  grad_check(m, {rand_away_from({2, 3, 5}, 40, -1, 1, {0})}, kTol);
}

TEST(TrainGradCheck, ClipRelu6) {
  auto m = one_node_model("Clip", {"x", "lo", "hi"}, {"x"},
                          {{"lo", Tensor::from_vector<float>(DType::f32, {}, {0.f})},
                           {"hi", Tensor::from_vector<float>(DType::f32, {}, {6.f})}});
  grad_check(m, {rand_away_from({2, 3, 5}, 41, -2, 8, {0, 6})}, kTol);
}

TEST(TrainGradCheck, HardSwish) {
  auto m = one_node_model("HardSwish", {"x"}, {"x"}, {});
  grad_check(m, {rand_away_from({2, 3, 7}, 42, -5, 5, {-3, 3})}, kTol);
}

TEST(TrainGradCheck, Sigmoid) {
  auto m = one_node_model("Sigmoid", {"x"}, {"x"}, {});
  grad_check(m, {rand_tensor({2, 3, 5}, 43, -3, 3)}, kTol);
}

ir::Model bn_model(int64_t c) {
  Tensor var = rand_tensor({c}, 47, 0.5f, 1.5f);
  return one_node_model("BatchNormalization", {"x", "s", "b", "m", "v"}, {"x"},
                        {{"s", rand_tensor({c}, 44, 0.5f, 1.5f)}, {"b", rand_tensor({c}, 45)},
                         {"m", rand_tensor({c}, 46)}, {"v", var}},
                        {attr_f("epsilon", 1e-3f)});
}

TEST(TrainGradCheck, BatchNormTraining) { grad_check(bn_model(3), {rand_tensor({2, 3, 4, 5}, 48, -2, 2)}, kTol); }
TEST(TrainGradCheck, BatchNormInference) {
  grad_check(bn_model(3), {rand_tensor({2, 3, 4, 5}, 49, -2, 2)}, kTol, /*training=*/false);
}

TEST(TrainGradCheck, MaxPool) {
  auto m = one_node_model("MaxPool", {"x"}, {"x"}, {},
                          {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_distinct({2, 3, 5, 5}, 50)}, kTol);
}

TEST(TrainGradCheck, MaxPool2x2NoPad) {  // the in-bounds fast path, odd size (last row/column unused)
  auto m = one_node_model("MaxPool", {"x"}, {"x"}, {}, {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})});
  grad_check(m, {rand_distinct({2, 3, 5, 7}, 74)}, kTol);
}

TEST(TrainGradCheck, AveragePoolExcludePad) {
  auto m = one_node_model("AveragePool", {"x"}, {"x"}, {},
                          {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})});
  grad_check(m, {rand_tensor({2, 3, 5, 5}, 51)}, kTol);
}

TEST(TrainGradCheck, AveragePoolIncludePadCeil) {
  auto m = one_node_model("AveragePool", {"x"}, {"x"}, {},
                          {attr_ints("kernel_shape", {3, 2}), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 0, 1, 1}),
                           attr_i("count_include_pad", 1), attr_i("ceil_mode", 1)});
  grad_check(m, {rand_tensor({2, 3, 5, 6}, 52)}, kTol);
}

TEST(TrainGradCheck, GlobalAveragePool) {
  auto m = one_node_model("GlobalAveragePool", {"x"}, {"x"}, {});
  grad_check(m, {rand_tensor({2, 3, 5, 4}, 53)}, kTol);
}

TEST(TrainGradCheck, Flatten) {
  auto m = one_node_model("Flatten", {"x"}, {"x"}, {}, {attr_i("axis", 2)});
  grad_check(m, {rand_tensor({2, 3, 5}, 54)}, kTol);
}

TEST(TrainGradCheck, Reshape) {
  auto m = one_node_model("Reshape", {"x", "s"}, {"x"}, {{"s", Tensor::from_vector<int64_t>(DType::s64, {2}, {5, -1})}});
  grad_check(m, {rand_tensor({2, 3, 5}, 55)}, kTol);
}

TEST(TrainGradCheck, Concat) {
  auto m = one_node_model("Concat", {"a", "b", "c"}, {"a", "b", "c"}, {}, {attr_i("axis", -2)});
  grad_check(m, {rand_tensor({2, 1, 3}, 56), rand_tensor({2, 4, 3}, 57), rand_tensor({2, 2, 3}, 58)}, kTol);
}

TEST(TrainGradCheck, SoftmaxCrossEntropy) {
  Tensor z = rand_tensor({3, 5}, 60, -2, 2);
  const std::vector<int64_t> labels = {4, 0, 2};
  Tensor dz;
  train::softmax_cross_entropy(z, labels, &dz);
  const float eps = 1e-3f;
  std::vector<double> a, n;
  for (int64_t i = 0; i < z.numel(); ++i) {
    float& v = z.data<float>()[i];
    const float old = v;
    v = old + eps;
    const double lp = train::softmax_cross_entropy(z, labels, nullptr).loss;
    v = old - eps;
    const double lm = train::softmax_cross_entropy(z, labels, nullptr).loss;
    v = old;
    n.push_back((lp - lm) / (2 * eps));
    a.push_back(dz.data<float>()[i]);
  }
  EXPECT_LE(rel_error(a, n), kTol);
}

TEST(TrainLoss, ValueByHand) {
  // Row 0: logits (0, ln 3) → p = (1/4, 3/4), label 1: -ln(3/4). Row 1: (0, 0), label 0: ln 2.
  Tensor z = Tensor::from_vector<float>(DType::f32, {2, 2}, {0.f, std::log(3.f), 0.f, 0.f});
  const train::StepResult r = train::softmax_cross_entropy(z, std::vector<int64_t>{1, 0}, nullptr);
  EXPECT_NEAR(r.loss, (-std::log(0.75) + std::log(2.0)) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);  // row 1 is a tie: the first maximum (class 0) wins
  EXPECT_THROW(train::softmax_cross_entropy(z, std::vector<int64_t>{2, 0}, nullptr), InputError);
}

TEST(TrainGraph, OpWithoutBackwardRuleIsNamed) {
  ir::Model m = one_node_model("Erf", {"h"}, {"x"}, {});
  ir::Node mm;
  mm.name = "mm", mm.op_type = "MatMul", mm.inputs = {"x", "w"}, mm.outputs = {"h"};
  m.graph.nodes.insert(m.graph.nodes.begin(), mm);
  m.graph.nodes[1].name = "x_erf";
  m.graph.add_initializer("w", rand_tensor({3, 3}, 1));
  try {
    train::TrainGraph tg(m);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "node 'x_erf' (Erf): no backward rule for op Erf");
  }
}

TEST(TrainGraph, EveryRuleHasARuntimeOp) {
  for (const auto& r : train::backward_rules()) EXPECT_NE(runtime::find_op(r.domain, r.op_type), nullptr) << r.op_type;
}

}  // namespace
}  // namespace qforge
