// optimize_for_inference and its passes (BN folding, MatMul + Add, activation fusion): the rewritten
// graph has the expected nodes, and a Session gives the same outputs with optimize=false and
// optimize=true (within 1e-5), so the unfused ops are the oracle for the fused kernels.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "ir/passes/fusion.h"
#include "ir/passes/passes.h"
#include "runtime/session.h"

using namespace qforge;

namespace {

Tensor rand_tensor(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::f32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (auto& v : t.span<float>()) v = u(rng);
  return t;
}

ir::Node node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
              std::vector<ir::Attribute> attrs = {}) {
  ir::Node n;
  n.name = out[0] + "_node";
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  return n;
}

ir::Attribute ints(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name, a.kind = ir::AttrKind::ints, a.ints = std::move(v);
  return a;
}

ir::ValueInfo f32_value(const std::string& name, const Shape& s) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  for (int64_t d : s) v.dims.push_back(ir::Dim::known(d));
  return v;
}

ir::Model model_of(ir::Graph g) {
  ir::Model m;
  m.opsets.push_back({"", 17});
  m.graph = std::move(g);
  return m;
}

// Conv → BN → Relu → Conv(1x1) → Clip(0, 6) → Y, plus extra outputs when asked.
ir::Model conv_bn_relu_model(bool conv_output_is_graph_output) {
  ir::Graph g;
  g.inputs.push_back(f32_value("X", {2, 3, 9, 9}));
  g.add_initializer("W", rand_tensor({4, 3, 3, 3}, 1));
  g.add_initializer("B", rand_tensor({4}, 2));
  g.add_initializer("scale", rand_tensor({4}, 3, 0.5f, 2.f));
  g.add_initializer("bias", rand_tensor({4}, 4));
  g.add_initializer("mean", rand_tensor({4}, 5));
  g.add_initializer("var", rand_tensor({4}, 6, 0.1f, 2.f));
  g.add_initializer("W2", rand_tensor({2, 4, 1, 1}, 7));
  g.add_initializer("lo", Tensor::from_vector<float>(DType::f32, {}, {0.f}));
  g.add_initializer("hi", Tensor::from_vector<float>(DType::f32, {}, {0.5f}));
  g.nodes.push_back(node("Conv", {"X", "W", "B"}, {"c1"}, {ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(node("BatchNormalization", {"c1", "scale", "bias", "mean", "var"}, {"bn1"}));
  g.nodes.push_back(node("Relu", {"bn1"}, {"r1"}));
  g.nodes.push_back(node("Conv", {"r1", "W2"}, {"c2"}));
  g.nodes.push_back(node("Clip", {"c2", "lo", "hi"}, {"Y"}));
  g.outputs.push_back(f32_value("Y", {2, 2, 9, 9}));
  if (conv_output_is_graph_output) g.outputs.push_back(f32_value("c1", {2, 4, 9, 9}));
  return model_of(std::move(g));
}

void expect_same_outputs(const ir::Model& m, const std::vector<Tensor>& inputs) {
  runtime::Session plain(m, {.threads = 2, .fold_constants = true, .optimize = false});
  runtime::Session fused(m, {.threads = 2, .fold_constants = true, .optimize = true});
  const auto a = plain.run(inputs), b = fused.run(inputs);
  ASSERT_EQ(a.size(), b.size());
  for (size_t o = 0; o < a.size(); ++o) {
    ASSERT_EQ(a[o].shape(), b[o].shape());
    const auto av = a[o].to_f32_vector(), bv = b[o].to_f32_vector();
    for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-5f) << "output " << o << " [" << i << "]";
  }
}

std::vector<std::string> op_types(const ir::Graph& g) {
  std::vector<std::string> r;
  for (const auto& n : g.nodes) r.push_back(n.domain.empty() ? n.op_type : n.domain + "." + n.op_type);
  return r;
}

}  // namespace

TEST(Passes, ConvBnReluClipFoldsToTwoConvs) {
  const ir::Model m = conv_bn_relu_model(false);
  ir::Graph g = m.graph;
  ir::optimize_for_inference(g);
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"Conv", "Conv"}));
  EXPECT_EQ(g.nodes[0].attr_s("qforge.activation", ""), "Relu");
  EXPECT_EQ(g.nodes[1].attr_s("qforge.activation", ""), "Clip");
  EXPECT_EQ(g.nodes[1].attr_f("qforge.activation_max", 0), 0.5f);
  EXPECT_EQ(g.nodes[1].outputs[0], "Y");
  // The source model's weights are untouched (the fold writes new initializers).
  EXPECT_TRUE(m.graph.initializer("W")->bit_equal(*m.graph.initializer("W")));
  EXPECT_NE(g.nodes[0].inputs[1], "W");
  expect_same_outputs(m, {rand_tensor({2, 3, 9, 9}, 11)});
}

TEST(Passes, KeepsValuesThatAreGraphOutputs) {
  const ir::Model m = conv_bn_relu_model(true);
  ir::Graph g = m.graph;
  ir::optimize_for_inference(g);
  // c1 is a graph output: the BN stays; its Relu has no fusable producer; the second Conv takes the Clip.
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"Conv", "BatchNormalization", "Relu", "Conv"}));
  expect_same_outputs(m, {rand_tensor({2, 3, 9, 9}, 12)});
}

// SessionOptions::preserve: a preserved value bounds fusion like a graph output yet is not an output.
// bn1 is still computed (the BN folds into its Conv, which now writes bn1) but the Relu can no longer
// fuse into that Conv; c2 keeps its Clip apart. A hook sees both with the unoptimized session's values
// (within the BN fold's rounding), and the output is unchanged.
TEST(Passes, SessionPreservesValuesAHookObserves) {
  const ir::Model m = conv_bn_relu_model(false);
  runtime::Session plain(m, {.threads = 2, .optimize = false});
  runtime::Session kept(m, {.threads = 2, .optimize = true, .preserve = {"bn1", "c2"}});
  EXPECT_EQ(op_types(kept.graph()), (std::vector<std::string>{"Conv", "Relu", "Conv", "Clip"}));
  EXPECT_EQ(kept.graph().nodes[0].outputs[0], "bn1");
  ASSERT_EQ(kept.outputs().size(), 1u);
  EXPECT_EQ(kept.outputs()[0].name, "Y");
  std::map<std::string, std::vector<float>> want, got;
  plain.set_value_hook([&](const std::string& n, const Tensor& t) { want[n] = t.to_f32_vector(); });
  kept.set_value_hook([&](const std::string& n, const Tensor& t) { got[n] = t.to_f32_vector(); });
  const Tensor x = rand_tensor({2, 3, 9, 9}, 13);
  const auto a = plain.run({x}), b = kept.run({x});
  ASSERT_EQ(b.size(), 1u);
  got["Y"] = b[0].to_f32_vector();
  want["Y"] = a[0].to_f32_vector();
  for (const char* v : {"bn1", "c2", "Y"}) {
    ASSERT_EQ(got.count(v), 1u) << v;
    ASSERT_EQ(got[v].size(), want[v].size()) << v;
    for (size_t i = 0; i < got[v].size(); ++i) EXPECT_NEAR(got[v][i], want[v][i], 1e-5f) << v << " [" << i << "]";
  }
}

TEST(Passes, MatMulAddReluBecomesMatMulBias) {
  ir::Graph g;
  g.inputs.push_back(f32_value("X", {2, 5, 8}));
  g.add_initializer("W", rand_tensor({8, 6}, 1));
  g.add_initializer("b", rand_tensor({6}, 2));
  g.nodes.push_back(node("MatMul", {"X", "W"}, {"mm"}));
  g.nodes.push_back(node("Add", {"b", "mm"}, {"add"}));
  g.nodes.push_back(node("Relu", {"add"}, {"Y"}));
  g.outputs.push_back(f32_value("Y", {2, 5, 6}));
  const ir::Model m = model_of(g);
  ir::optimize_for_inference(g);
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"qforge.MatMulBias"}));
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"X", "W", "b"}));
  expect_same_outputs(m, {rand_tensor({2, 5, 8}, 3)});
}

TEST(Passes, LeakyReluIntoGemmAndNonConstantClipStays) {
  ir::Graph g;
  g.inputs.push_back(f32_value("X", {4, 8}));
  g.inputs.push_back(f32_value("lo", {}));
  g.add_initializer("W", rand_tensor({8, 6}, 1));
  g.add_initializer("C", rand_tensor({6}, 2));
  ir::Attribute alpha;
  alpha.name = "alpha", alpha.kind = ir::AttrKind::f, alpha.f = 0.2f;
  g.nodes.push_back(node("Gemm", {"X", "W", "C"}, {"gm"}));
  g.nodes.push_back(node("LeakyRelu", {"gm"}, {"lr"}, {alpha}));
  g.nodes.push_back(node("MatMul", {"lr", "W2"}, {"mm"}));
  g.add_initializer("W2", rand_tensor({6, 3}, 3));
  g.nodes.push_back(node("Clip", {"mm", "lo"}, {"Y"}));  // min is a graph input: not fusable
  g.outputs.push_back(f32_value("Y", {4, 3}));
  const ir::Model m = model_of(g);
  ir::optimize_for_inference(g);
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"Gemm", "MatMul", "Clip"}));
  EXPECT_EQ(g.nodes[0].attr_s("qforge.activation", ""), "LeakyRelu");
  EXPECT_FLOAT_EQ(g.nodes[0].attr_f("qforge.activation_alpha", 0), 0.2f);
  expect_same_outputs(m, {rand_tensor({4, 8}, 4), Tensor::from_vector<float>(DType::f32, {}, {-0.1f})});
}

TEST(Passes, SharedProducerOutputIsNotFused) {
  ir::Graph g;
  g.inputs.push_back(f32_value("X", {1, 2, 5, 5}));
  g.add_initializer("W", rand_tensor({2, 2, 3, 3}, 1));
  g.nodes.push_back(node("Conv", {"X", "W"}, {"c"}));
  g.nodes.push_back(node("Relu", {"c"}, {"r"}));
  g.nodes.push_back(node("Add", {"c", "r"}, {"Y"}));
  g.outputs.push_back(f32_value("Y", {1, 2, 3, 3}));
  const ir::Model m = model_of(g);
  ir::optimize_for_inference(g);
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"Conv", "Relu", "Add"}));
  expect_same_outputs(m, {rand_tensor({1, 2, 5, 5}, 2)});
}
