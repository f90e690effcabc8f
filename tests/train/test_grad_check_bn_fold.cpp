// The backward rules QAT with BatchNormalization statistics adds (Div, Sqrt; train/backward_elementwise.cpp)
// and the whole Conv → BN chain of train/qat.h without its FakeQuant, against central finite differences
// (train_test_util.h: grad_check; relative L2 error of each gradient tensor, 1e-2 as in test_grad_check.cpp).
#include <gtest/gtest.h>

#include "train/backward_rules.h"
#include "train_test_util.h"

namespace qforge {
namespace {

using namespace train_test;
constexpr double kTol = 1e-2;

void div_case(Shape a, Shape b, uint32_t seed) {
  auto m = one_node_model("Div", {"a", "b"}, {"a", "b"}, {});
  grad_check(m, {rand_tensor(a, seed), rand_tensor(b, seed + 1, 0.5f, 1.5f)}, kTol);
}
TEST(TrainGradCheckBnFold, DivBroadcastDivisor) { div_case({2, 3, 4, 5}, {1, 3, 1, 1}, 80); }
TEST(TrainGradCheckBnFold, DivBroadcastDividend) { div_case({3, 1}, {2, 3, 4}, 82); }
TEST(TrainGradCheckBnFold, DivSameShape) { div_case({2, 3, 5}, {2, 3, 5}, 84); }
TEST(TrainGradCheckBnFold, DivNegativeDivisor) {
  auto m = one_node_model("Div", {"a", "b"}, {"a", "b"}, {});
  grad_check(m, {rand_tensor({2, 7}, 86), rand_tensor({7}, 87, -1.5f, -0.5f)}, kTol);
}

TEST(TrainGradCheckBnFold, Sqrt) {
  auto m = one_node_model("Sqrt", {"x"}, {"x"}, {});
  grad_check(m, {rand_tensor({2, 3, 5}, 88, 0.2f, 3.f)}, kTol);
}

// The training graph qat.h builds for one Conv → BN (FakeQuant left out: its STE rule is tested in
// test_fake_quant.cpp): sf = γ / Sqrt(var + ε); BN(Conv(x, W · sf) / sf + b, γ, β, mean, var).
// x, W, γ, β (and b when `check_bias`) are graph inputs, all checked; the running statistics are initializers.
ir::Model conv_bn_chain(bool check_bias) {
  ir::Model m;
  auto add = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    ir::Node n;
    n.name = out, n.op_type = op, n.inputs = std::move(in), n.outputs = {out};
    m.graph.nodes.push_back(std::move(n));
  };
  const int64_t c = 3;
  add("Add", {"var", "eps"}, "var_eps");
  add("Sqrt", {"var_eps"}, "std");
  add("Div", {"gamma", "std"}, "sf");
  add("Reshape", {"sf", "shape_w"}, "sf_w");
  add("Mul", {"w", "sf_w"}, "w_scaled");
  add("Conv", {"x", "w_scaled"}, "conv");
  m.graph.nodes.back().attrs = {attr_ints("pads", {1, 1, 1, 1})};
  add("Reshape", {"sf", "shape_y"}, "sf_y");
  add("Div", {"conv", "sf_y"}, "unscaled");
  add("Reshape", {"b", "shape_y"}, "b_y");
  add("Add", {"unscaled", "b_y"}, "biased");
  add("BatchNormalization", {"biased", "gamma", "beta", "mean", "var"}, "y");
  m.graph.nodes.back().attrs = {attr_f("epsilon", 1e-3f)};
  for (const char* in : {"x", "w", "gamma", "beta"}) m.graph.inputs.push_back({in, DType::f32, false, {}, {}});
  if (check_bias) m.graph.inputs.push_back({"b", DType::f32, false, {}, {}});
  else m.graph.add_initializer("b", rand_tensor({c}, 89));
  m.graph.outputs.push_back({"y", DType::f32, false, {}, {}});
  m.graph.add_initializer("mean", rand_tensor({c}, 90));
  m.graph.add_initializer("var", rand_tensor({c}, 91, 0.5f, 1.5f));
  m.graph.add_initializer("eps", Tensor::from_vector<float>(DType::f32, {}, {1e-3f}));
  m.graph.add_initializer("shape_w", Tensor::from_vector<int64_t>(DType::s64, {4}, {-1, 1, 1, 1}));
  m.graph.add_initializer("shape_y", Tensor::from_vector<int64_t>(DType::s64, {4}, {1, -1, 1, 1}));
  return m;
}

std::vector<Tensor> conv_bn_inputs(uint32_t seed, bool bias) {
  std::vector<Tensor> in = {rand_tensor({2, 2, 4, 5}, seed), rand_tensor({3, 2, 3, 3}, seed + 1),
                            rand_tensor({3}, seed + 3, 0.5f, 1.5f), rand_tensor({3}, seed + 4)};
  if (bias) in.push_back(rand_tensor({3}, seed + 2));
  return in;
}

// Batch statistics: the output does not depend on sf (Conv(x, W·sf)/sf = Conv(x, W)), so the running
// variance, which the forward updates in place, moves nothing but rounding between the evaluations.
// The bias is not checked here: batch normalization removes it, its gradient is 0 and the central
// differences are float32 noise (rel_error has no meaning for a zero gradient).
TEST(TrainGradCheckBnFold, ConvBnChainBatchStatistics) {
  grad_check(conv_bn_chain(false), conv_bn_inputs(92, false), kTol);
}

// Running statistics (frozen BN): the chain is the folded conv; γ gets gradient through sf and BN.
TEST(TrainGradCheckBnFold, ConvBnChainRunningStatistics) {
  grad_check(conv_bn_chain(true), conv_bn_inputs(97, true), kTol, /*training=*/false);
}

TEST(TrainGradCheckBnFold, RulesAreRegistered) {
  EXPECT_NE(train::find_backward_rule("", "Div"), nullptr);
  EXPECT_NE(train::find_backward_rule("", "Sqrt"), nullptr);
}

}  // namespace
}  // namespace qforge
