// Small FP32 models for the quantizer tests, built in code with fixed-seed weights:
//   tiny_cnn:  x [N,1,8,8] → conv1 (4×3×3, pad 1, bias) → bn1 → relu1 → pool1 (MaxPool 2×2) →
//              dw (depthwise 3×3, pad 1, bias) → clip (0, 6) → add (+ pool1) → gap → flat → fc (Gemm transB,
//              4 → 3) → logits
//   tiny_mlp:  x [N,16] → mm1 (MatMul [16,8]) → add1 (+ b1) → relu → fc2 (Gemm, B [8,4], C [4]) → y
#pragma once
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qforge::quant::testmodels {

inline ir::ValueInfo f32_value(const std::string& name, std::vector<ir::Dim> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

inline ir::Attribute ints_attr(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::ints;
  a.ints = std::move(v);
  return a;
}

inline ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

inline ir::Node make_node(const std::string& name, const std::string& op, std::vector<std::string> in,
                          std::vector<std::string> out, std::vector<ir::Attribute> attrs = {}) {
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  return n;
}

// Uniform values in [lo, hi) from a fixed seed.
inline Tensor uniform(Shape shape, float lo, float hi, uint32_t seed) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& v : t.span<float>()) v = d(rng);
  return t;
}

inline ir::Model tiny_cnn() {
  const ir::Dim N = ir::Dim::symbol("N");
  auto k = [](int64_t v) { return ir::Dim::known(v); };
  ir::Model m;
  m.opsets = {{"", 17}};
  m.graph.name = "tiny_cnn";
  m.graph.inputs = {f32_value("x", {N, k(1), k(8), k(8)})};
  m.graph.outputs = {f32_value("logits", {N, k(3)})};
  ir::Graph& g = m.graph;
  g.add_initializer("w1", uniform({4, 1, 3, 3}, -0.8f, 0.8f, 1));
  g.add_initializer("b1", uniform({4}, -0.1f, 0.1f, 2));
  g.add_initializer("bn_scale", uniform({4}, 0.5f, 1.5f, 3));
  g.add_initializer("bn_bias", uniform({4}, -0.2f, 0.2f, 4));
  g.add_initializer("bn_mean", uniform({4}, -0.1f, 0.1f, 5));
  g.add_initializer("bn_var", uniform({4}, 0.5f, 1.5f, 6));
  g.add_initializer("wdw", uniform({4, 1, 3, 3}, -0.6f, 0.6f, 7));
  g.add_initializer("bdw", uniform({4}, -0.1f, 0.1f, 8));
  g.add_initializer("clip_min", Tensor::from_vector<float>(DType::f32, {}, {0.0f}));
  g.add_initializer("clip_max", Tensor::from_vector<float>(DType::f32, {}, {6.0f}));
  g.add_initializer("wfc", uniform({3, 4}, -1.0f, 1.0f, 9));
  g.add_initializer("bfc", uniform({3}, -0.1f, 0.1f, 10));
  g.nodes = {
      make_node("conv1", "Conv", {"x", "w1", "b1"}, {"c1"}, {ints_attr("kernel_shape", {3, 3}), ints_attr("pads", {1, 1, 1, 1})}),
      make_node("bn1", "BatchNormalization", {"c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"bn1"}),
      make_node("relu1", "Relu", {"bn1"}, {"r1"}),
      make_node("pool1", "MaxPool", {"r1"}, {"p1"}, {ints_attr("kernel_shape", {2, 2}), ints_attr("strides", {2, 2})}),
      make_node("dw", "Conv", {"p1", "wdw", "bdw"}, {"d1"},
                {ints_attr("kernel_shape", {3, 3}), ints_attr("pads", {1, 1, 1, 1}), int_attr("group", 4)}),
      make_node("clip", "Clip", {"d1", "clip_min", "clip_max"}, {"r2"}),
      make_node("add", "Add", {"r2", "p1"}, {"a1"}),
      make_node("gap", "GlobalAveragePool", {"a1"}, {"g1"}),
      make_node("flat", "Flatten", {"g1"}, {"f1"}, {int_attr("axis", 1)}),
      make_node("fc", "Gemm", {"f1", "wfc", "bfc"}, {"logits"}, {int_attr("transB", 1)}),
  };
  return m;
}

inline ir::Model tiny_mlp() {
  const ir::Dim N = ir::Dim::symbol("N");
  auto k = [](int64_t v) { return ir::Dim::known(v); };
  ir::Model m;
  m.opsets = {{"", 17}};
  m.graph.name = "tiny_mlp";
  m.graph.inputs = {f32_value("x", {N, k(16)})};
  m.graph.outputs = {f32_value("y", {N, k(4)})};
  ir::Graph& g = m.graph;
  g.add_initializer("w1", uniform({16, 8}, -0.5f, 0.5f, 11));
  g.add_initializer("b1", uniform({8}, -0.1f, 0.1f, 12));
  g.add_initializer("w2", uniform({8, 4}, -0.5f, 0.5f, 13));
  g.add_initializer("b2", uniform({4}, -0.1f, 0.1f, 14));
  g.nodes = {
      make_node("mm1", "MatMul", {"x", "w1"}, {"h"}),
      make_node("add1", "Add", {"h", "b1"}, {"hb"}),
      make_node("relu", "Relu", {"hb"}, {"hr"}),
      make_node("fc2", "Gemm", {"hr", "w2", "b2"}, {"y"}),
  };
  return m;
}

}  // namespace qforge::quant::testmodels
