// Session runs whose input shapes or shape-setting values change from run to run: the output
// types recorded by an earlier run (reused while the input shapes are unchanged) never leak into a
// run that needs others. Expected values by hand.
#include <gtest/gtest.h>

#include "runtime/session.h"

using namespace qforge;

namespace {

ir::ValueInfo value(const std::string& name, DType t, bool has_shape, std::vector<ir::Dim> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = t;
  v.has_shape = has_shape;
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

}  // namespace

TEST(SessionShapes, BatchChangesBetweenRuns) {
  // x[N,4] → a = x + c → y = Relu(a) · a, with c = [1, -2, 3, -4]
  ir::Model m;
  m.opsets = {{"", 17}};
  ir::Graph& g = m.graph;
  g.inputs = {value("x", DType::f32, true, {ir::Dim::symbol("N"), ir::Dim::known(4)})};
  g.outputs = {value("y", DType::f32, true, {ir::Dim::symbol("N"), ir::Dim::known(4)})};
  g.add_initializer("c", Tensor::from_vector<float>(DType::f32, {4}, {1, -2, 3, -4}));
  g.nodes = {node("add", "Add", {"x", "c"}, {"a"}), node("relu", "Relu", {"a"}, {"b"}),
             node("mul", "Mul", {"b", "a"}, {"y"})};
  runtime::Session s(m);
  const float c[4] = {1, -2, 3, -4};
  for (int64_t n : {2, 1, 3, 3, 2, 1}) {
    std::vector<float> xs(static_cast<size_t>(n * 4));
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 7) - 3.f + 0.5f * static_cast<float>(n);
    std::vector<Tensor> out = s.run({Tensor::from_vector<float>(DType::f32, {n, 4}, xs)});
    ASSERT_EQ(out[0].shape(), (Shape{n, 4})) << n;
    for (size_t i = 0; i < xs.size(); ++i) {
      const float a = xs[i] + c[i % 4];
      EXPECT_FLOAT_EQ(out[0].data<float>()[i], a > 0 ? a * a : 0.f) << n << " " << i;
    }
  }
}

TEST(SessionShapes, RuntimeShapeValueChangesBetweenRuns) {
  // y = Reshape(x, s) with s a graph input: same input shapes, different output shapes.
  ir::Model m;
  m.opsets = {{"", 17}};
  ir::Graph& g = m.graph;
  g.inputs = {value("x", DType::f32, true, {ir::Dim::known(2), ir::Dim::known(6)}),
              value("s", DType::s64, true, {ir::Dim::known(2)})};
  g.outputs = {value("y", DType::f32, false, {})};
  g.nodes = {node("reshape", "Reshape", {"x", "s"}, {"y"})};
  runtime::Session sess(m);
  std::vector<float> xs(12);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i);
  const Tensor x = Tensor::from_vector<float>(DType::f32, {2, 6}, xs);
  const std::vector<std::vector<int64_t>> shapes = {{3, 4}, {4, 3}, {4, 3}, {12, 1}, {3, 4}};
  for (const auto& want : shapes) {
    std::vector<Tensor> out = sess.run({x, Tensor::from_vector<int64_t>(DType::s64, {2}, want)});
    ASSERT_EQ(out[0].shape(), Shape(want.begin(), want.end()));
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(out[0].data<float>()[i], xs[i]);
  }
}
