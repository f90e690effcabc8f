// The channels-last pass (runtime/lower/lower_layout.cpp) on small QDQ graphs: which values become
// [N,H,W,C] (the rule: a group of values joined through QLut / QAdd / QMul, all rank 4, no graph
// output, every producer and reader an NHWC-capable op through its data input / output), the
// attributes it sets, the renaming, and the outputs — bit for bit those of the same session without
// the pass, under every ISA.
#include <gtest/gtest.h>

#include "core/error.h"
#include "linear_test_util.h"
#include "qdq_test_util.h"
#include "runtime/lower/lower_qdq.h"

using namespace qforge;
using namespace qforge::qdq_test;

namespace {

runtime::SessionOptions layout_options(bool channels_last) {
  runtime::SessionOptions o = options(true);
  o.channels_last = channels_last;
  return o;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The lowered node that keeps the name of the builder's node producing `out` ("<name>_out").
const ir::Node& lowered(const runtime::Session& s, const std::string& out) {
  const std::string name = out.substr(0, out.size() - 4);
  for (const auto& n : s.graph().nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  static const ir::Node none;
  return none;
}

bool nhwc_in(const ir::Node& n) { return n.attr_i("qforge.nhwc_in", 0) != 0; }
bool nhwc_out(const ir::Node& n) { return n.attr_i("qforge.nhwc_out", 0) != 0; }

// DQ(h) → Conv k×k (pad k/2) → Relu → Q/DQ at scale 0.05; `node` gets the Conv's output name.
std::string conv(QdqBuilder& b, const std::string& h, float in_s, int64_t c, int64_t m, int64_t k, std::string* node,
                 int64_t group = 1) {
  const std::string w = b.weight({m, c / group, k, k}, 0);
  const std::string y = b.op("Conv", {h, w, b.bias(in_s)},
                             {ints("kernel_shape", {k, k}), ints("pads", {k / 2, k / 2, k / 2, k / 2}), int1("group", group)});
  if (node) *node = y;
  return b.qdq(b.op("Relu", {y}), 0.05f, 0);
}

// The graph outputs with and without the pass, under ref and every SIMD level, bit for bit.
void expect_same_without_pass(const ir::Model& m, const Tensor& x) {
  std::vector<Isa> isas = {Isa::ref};
  for (Isa i : linear_test::simd_levels()) isas.push_back(i);
  for (Isa isa : isas) {
    linear_test::IsaScope scope(isa);
    runtime::Session on(m, layout_options(true)), off(m, layout_options(false));
    const auto a = on.run({x}), b = off.run({x});
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bit_equal(b[i])) << "output " << i << " isa " << isa_name(isa);
  }
}

TEST(LowerLayout, ChainConvConvHandsOnChannelsLast) {
  QdqBuilder b({2, 3, 8, 8}, 3);
  std::string c1, c2;
  std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 8, 3, &c1);
  h = conv(b, h, 0.05f, 8, 8, 1, &c2);
  b.output(h);
  runtime::Session on(b.m, layout_options(true)), off(b.m, layout_options(false));
  EXPECT_EQ(on.lowered_nodes(), off.lowered_nodes());
  const ir::Node &a = lowered(on, c1), &z = lowered(on, c2);
  EXPECT_FALSE(nhwc_in(a));  // reads the graph input's QuantizeLinear
  EXPECT_TRUE(nhwc_out(a));
  EXPECT_TRUE(nhwc_in(z));
  EXPECT_FALSE(nhwc_out(z));  // read by the output's DequantizeLinear
  EXPECT_TRUE(ends_with(z.input(0), ".nhwc")) << z.input(0);
  EXPECT_EQ(a.outputs[0], z.input(0));
  // The value keeps no old name: fetching it is an error, not a wrong layout.
  const std::string old = lowered(off, c2).input(0);
  const Tensor x = b.random_input(4);
  EXPECT_THROW(on.run({x}, {old}), InputError);
  const auto fetched = on.run({x}, {z.input(0)});
  EXPECT_EQ(fetched[0].shape(), (Shape{2, 8, 8, 8}));  // [N,H,W,C]
  expect_same_without_pass(b.m, x);
}

TEST(LowerLayout, ResidualAddAndLutJoinTheGroup) {
  // conv1 → {conv2, Add}; conv2 → Add → Sigmoid (QLut) → conv3 → output
  QdqBuilder b({1, 4, 9, 9}, 5);
  std::string c1, c2, c3;
  const std::string h1 = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 4, 8, 3, &c1);
  const std::string h2 = conv(b, h1, 0.05f, 8, 8, 3, &c2, 8);  // depthwise
  const std::string add = b.op("Add", {h1, h2});
  const std::string s = b.op("Sigmoid", {b.qdq(add, 0.07f, 10)});
  b.output(conv(b, b.qdq(s, 1.f / 255, 0), 1.f / 255, 8, 5, 1, &c3));
  runtime::Session on(b.m, layout_options(true));
  const ir::Node &n1 = lowered(on, c1), &n2 = lowered(on, c2), &n3 = lowered(on, c3);
  const ir::Node &q_add = lowered(on, add), &lut = lowered(on, s);
  EXPECT_EQ(q_add.op_type, "QAdd");
  EXPECT_EQ(lut.op_type, "QLut");
  EXPECT_TRUE(nhwc_out(n1) && nhwc_in(n2) && nhwc_out(n2) && nhwc_in(n3));
  EXPECT_FALSE(nhwc_in(n1) || nhwc_out(n3));
  EXPECT_FALSE(q_add.has_attr("qforge.nhwc_in") || lut.has_attr("qforge.nhwc_in"));  // agnostic: no attribute
  EXPECT_TRUE(ends_with(q_add.input(0), ".nhwc") && ends_with(q_add.input(3), ".nhwc"));
  EXPECT_TRUE(ends_with(lut.input(0), ".nhwc") && ends_with(lut.outputs[0], ".nhwc"));
  expect_same_without_pass(b.m, b.random_input(6));
}

TEST(LowerLayout, FlattenExitKeepsNchwAndGlobalPoolIsTheExit) {
  {  // conv → Flatten → Gemm: nothing changes
    QdqBuilder b({2, 3, 4, 4}, 7);
    std::string c1;
    const std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 4, 3, &c1);
    const std::string f = b.qdq(b.op("Flatten", {h}, {int1("axis", 1)}), 0.05f, 0);
    b.output(b.qdq(b.op("Gemm", {f, b.weight({5, 64}, 0), b.bias(0.05f)}, {int1("transB", 1)}), 0.1f, 128));
    runtime::Session on(b.m, layout_options(true));
    EXPECT_FALSE(nhwc_out(lowered(on, c1)));
    for (const auto& n : on.graph().nodes)
      for (const auto& v : n.outputs) EXPECT_FALSE(ends_with(v, ".nhwc")) << v;
    expect_same_without_pass(b.m, b.random_input(8));
  }
  {  // conv → MaxPool → conv → GlobalAveragePool → Flatten → Gemm
    QdqBuilder b({2, 3, 8, 8}, 9);
    std::string c1, c2;
    std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 8, 3, &c1);
    const std::string mp = b.op("MaxPool", {h}, {ints("kernel_shape", {2, 2}), ints("strides", {2, 2})});
    h = conv(b, b.qdq(mp, 0.05f, 0), 0.05f, 8, 16, 3, &c2);
    const std::string gap = b.op("GlobalAveragePool", {h});
    const std::string f = b.qdq(b.op("Flatten", {b.qdq(gap, 0.02f, 0)}, {int1("axis", 1)}), 0.02f, 0);
    b.output(b.qdq(b.op("Gemm", {f, b.weight({5, 16}, 0), b.bias(0.02f)}, {int1("transB", 1)}), 0.1f, 128));
    runtime::Session on(b.m, layout_options(true));
    const ir::Node &n1 = lowered(on, c1), &pool = lowered(on, mp), &n2 = lowered(on, c2), &g = lowered(on, gap);
    EXPECT_EQ(pool.op_type, "QMaxPool");
    EXPECT_EQ(g.op_type, "QAvgPool");
    EXPECT_TRUE(nhwc_out(n1) && nhwc_in(pool) && nhwc_out(pool) && nhwc_in(n2) && nhwc_out(n2) && nhwc_in(g));
    EXPECT_FALSE(nhwc_out(g));  // [N,C,1,1] for the Flatten
    expect_same_without_pass(b.m, b.random_input(10));
  }
}

TEST(LowerLayout, GraphOutputStaysNchw) {
  // conv1's quantized output is also a graph output: it keeps its name and layout.
  QdqBuilder b({1, 3, 6, 6}, 11);
  std::string c1, c2;
  const std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 6, 3, &c1);
  b.output(conv(b, h, 0.05f, 6, 6, 3, &c2));
  std::string q1;
  for (const auto& n : b.m.graph.nodes)
    if (n.outputs[0] == h) q1 = n.input(0);  // the Q output the DQ reads
  ir::ValueInfo o;
  o.name = q1;
  o.dtype = DType::u8;
  b.m.graph.outputs.push_back(o);
  runtime::Session on(b.m, layout_options(true));
  EXPECT_FALSE(nhwc_out(lowered(on, c1)));
  EXPECT_FALSE(nhwc_in(lowered(on, c2)));
  EXPECT_EQ(lowered(on, c2).input(0), q1);
  expect_same_without_pass(b.m, b.random_input(12));
}

TEST(LowerLayout, MixedConsumersKeepTheValueNchw) {
  // conv1 → {conv2, Flatten → Gemm}; conv2 → conv3 → output
  QdqBuilder b({2, 2, 5, 5}, 13);
  std::string c1, c2, c3;
  const std::string h1 = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 2, 4, 3, &c1);
  const std::string f = b.qdq(b.op("Flatten", {h1}, {int1("axis", 1)}), 0.05f, 0);
  b.output(b.qdq(b.op("Gemm", {f, b.weight({3, 100}, 0), b.bias(0.05f)}, {int1("transB", 1)}), 0.1f, 128));
  const std::string h2 = conv(b, h1, 0.05f, 4, 4, 1, &c2);
  b.output(conv(b, h2, 0.05f, 4, 3, 3, &c3));
  runtime::Session on(b.m, layout_options(true));
  const ir::Node &n1 = lowered(on, c1), &n2 = lowered(on, c2), &n3 = lowered(on, c3);
  EXPECT_FALSE(nhwc_out(n1) || nhwc_in(n2));
  EXPECT_TRUE(nhwc_out(n2) && nhwc_in(n3));
  EXPECT_FALSE(nhwc_out(n3));
  expect_same_without_pass(b.m, b.random_input(14));
}

TEST(LowerLayout, FloatFallbackReaderKeepsTheValueNchw) {
  // conv1 → {conv2, Softmax (float, between a DQ and a Q)}
  QdqBuilder b({1, 3, 6, 6}, 15);
  std::string c1, c2;
  const std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 4, 3, &c1);
  b.output(b.qdq(b.op("Softmax", {h}, {int1("axis", 1)}), 1.f / 256, 0));
  b.output(conv(b, h, 0.05f, 4, 4, 3, &c2));
  runtime::Session on(b.m, layout_options(true));
  ASSERT_EQ(on.fallbacks().size(), 1u);
  EXPECT_FALSE(nhwc_out(lowered(on, c1)));
  EXPECT_FALSE(nhwc_in(lowered(on, c2)));
  expect_same_without_pass(b.m, b.random_input(16));
}

TEST(LowerLayout, HandWrittenLayoutAttributesAreLeftAlone) {
  // A lowered graph whose QConv already declares its input channels-last: the pass does not touch it.
  QdqBuilder b({1, 3, 6, 6}, 17);
  std::string c1, c2;
  const std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 4, 3, &c1);
  b.output(conv(b, h, 0.05f, 4, 4, 3, &c2));
  ir::Graph g = b.m.graph;
  runtime::lower_qdq(g, {.channels_last = false});
  for (auto& n : g.nodes)
    if (n.name + "_out" == c2) n.set_attr(int1("qforge.nhwc_out", 0));
  EXPECT_EQ(runtime::lower_layout(g), 0);  // conv1's output is read by a node the pass leaves alone
}

TEST(LowerLayout, GraphOutputNoNodeTouches) {
  // An initializer that is also a graph output, read by no node: the rule ignores it.
  QdqBuilder b({1, 3, 6, 6}, 19);
  std::string c1, c2;
  const std::string h = conv(b, b.qdq("x", 0.03f, 128), 0.03f, 3, 4, 3, &c1);
  b.output(conv(b, h, 0.05f, 4, 4, 3, &c2));
  ir::Graph g = b.m.graph;
  runtime::lower_qdq(g, {.channels_last = false});
  g.add_initializer("constant_out", Tensor::from_vector<float>(DType::f32, {2}, {1.f, 2.f}));
  ir::ValueInfo o;
  o.name = "constant_out";
  o.dtype = DType::f32;
  g.outputs.push_back(o);
  EXPECT_EQ(runtime::lower_layout(g), 1);  // conv1 → conv2
}

}  // namespace
