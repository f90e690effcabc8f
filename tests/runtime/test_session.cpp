// Session planning and execution: unsupported ops reported before running, constant folding,
// buffer reuse that never corrupts values, input validation, value hook, fetching intermediates.
#include <gtest/gtest.h>

#include <map>

#include "runtime/session.h"

using namespace qforge;

namespace {

ir::ValueInfo f32_value(const std::string& name, std::vector<ir::Dim> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

ir::Node node(const std::string& name, const std::string& op, std::vector<std::string> in,
              std::vector<std::string> out) {
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// x[N,4] → a = x + c (c = w * 2, an initializer-only subgraph) → b = Relu(a) → y = b * a
ir::Model chain_model() {
  ir::Model m;
  m.opsets = {{"", 17}};
  ir::Graph& g = m.graph;
  g.inputs = {f32_value("x", {ir::Dim::symbol("N"), ir::Dim::known(4)})};
  g.outputs = {f32_value("y", {ir::Dim::symbol("N"), ir::Dim::known(4)})};
  g.add_initializer("w", Tensor::from_vector<float>(DType::f32, {4}, {1, -2, 3, -4}));
  g.add_initializer("two", Tensor::from_vector<float>(DType::f32, {}, {2}));
  g.nodes = {node("fold", "Mul", {"w", "two"}, {"c"}), node("add", "Add", {"x", "c"}, {"a"}),
             node("relu", "Relu", {"a"}, {"b"}), node("mul", "Mul", {"b", "a"}, {"y"})};
  return m;
}

}  // namespace

TEST(Session, UnsupportedOpNamedBeforeExecution) {
  ir::Model m = chain_model();
  m.graph.nodes[2].op_type = "FancyOp";
  try {
    runtime::Session s(m);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("unsupported op 'FancyOp'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("opset 17"), std::string::npos) << msg;
    EXPECT_NE(msg.find("node 'relu'"), std::string::npos) << msg;
  }
}

TEST(Session, FoldsInitializerOnlySubgraph) {
  runtime::Session s(chain_model());
  EXPECT_EQ(s.graph().nodes.size(), 3u);  // Mul(w, two) became a constant
  EXPECT_NE(s.graph().initializer("c"), nullptr);
  EXPECT_EQ(s.graph().initializer("w"), nullptr);  // no longer read by any node
}

TEST(Session, ChainValuesAndBufferReuse) {
  runtime::Session s(chain_model());
  // c = [2, -4, 6, -8]; y = relu(x + c) * (x + c), computed by hand per element.
  std::vector<float> xs = {0.5f, 1, -7, 2, 3, 3, 3, 3};
  Tensor x = Tensor::from_vector<float>(DType::f32, {2, 4}, xs);
  const float c[4] = {2, -4, 6, -8};
  for (int rep = 0; rep < 3; ++rep) {  // repeated runs reuse pooled buffers
    std::vector<Tensor> out = s.run({x});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (Shape{2, 4}));
    for (int i = 0; i < 8; ++i) {
      float a = xs[i] + c[i % 4];
      EXPECT_FLOAT_EQ(out[0].data<float>()[i], a > 0 ? a * a : 0.0f) << i;
    }
  }
}

TEST(Session, FetchIntermediateAndHook) {
  runtime::Session s(chain_model());
  std::map<std::string, Shape> seen;
  s.set_value_hook([&](const std::string& name, const Tensor& t) { seen[name] = t.shape(); });
  Tensor x = Tensor::from_vector<float>(DType::f32, {1, 4}, {1, 1, 1, 1});
  std::vector<Tensor> got = s.run({x}, {"a", "b"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FLOAT_EQ(got[0].data<float>()[1], -3.0f);  // 1 + (-4)
  EXPECT_FLOAT_EQ(got[1].data<float>()[1], 0.0f);
  EXPECT_EQ(seen.count("x"), 1u);
  EXPECT_EQ(seen.count("a"), 1u);
  EXPECT_EQ(seen.count("y"), 1u);
  EXPECT_THROW(s.run({x}, {"nosuch"}), InputError);
}

// Steady state: a run allocates only the buffer of what leaves the session (the graph output); every
// intermediate reuses a pooled buffer. x[2,4096] → Relu → a → Relu → b → MatMul(w[4096,1]) → y[2,1].
// (A pooled buffer handed to the output would leave with it, and the next run would allocate again.)
TEST(Session, SteadyStateRunsAllocateOnlyTheOutputs) {
  ir::Model m;
  m.opsets = {{"", 17}};
  ir::Graph& g = m.graph;
  g.inputs = {f32_value("x", {ir::Dim::known(2), ir::Dim::known(4096)})};
  g.outputs = {f32_value("y", {ir::Dim::known(2), ir::Dim::known(1)})};
  g.add_initializer("w", Tensor(DType::f32, {4096, 1}));
  g.nodes = {node("r1", "Relu", {"x"}, {"a"}), node("r2", "Relu", {"a"}, {"b"}), node("mm", "MatMul", {"b", "w"}, {"y"})};
  runtime::Session s(m, {.threads = 1});
  const Tensor x(DType::f32, {2, 4096});
  for (int run = 0; run < 2; ++run) ASSERT_EQ(s.run({x})[0].shape(), (Shape{2, 1}));  // warm the pool
  const size_t before = s.allocated_bytes();
  for (int run = 0; run < 3; ++run) s.run({x});
  EXPECT_EQ(s.allocated_bytes() - before, 3u * 64) << "each run: one 64-byte buffer for y, nothing else";
}

TEST(Session, RejectsInputsThatDoNotFit) {
  runtime::Session s(chain_model());
  EXPECT_THROW(s.run({Tensor(DType::f32, {2, 5})}), InputError);   // wrong dim
  EXPECT_THROW(s.run({Tensor(DType::f32, {4})}), InputError);      // wrong rank
  EXPECT_THROW(s.run({Tensor(DType::s64, {2, 4})}), InputError);   // wrong dtype
  EXPECT_THROW(s.run({}), InputError);                             // missing
  try {
    s.run({Tensor(DType::f32, {2, 5})});
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("input 'x'"), std::string::npos) << e.what();
  }
}
