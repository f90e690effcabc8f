// Small valid ONNX models built as protobuf (no gtest, no qforge IR): the seeds of the fuzz corpus
// (fuzz/make_corpus.cpp) and the originals of the mutated-model corpus (mutated_corpus.h). Weights
// come from a fixed-seed generator so the same build writes the same bytes.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace qforge::hardening {

struct SmallModel {
  std::string name;
  onnx::ModelProto proto;
  std::vector<int64_t> input_shape;  // the one f32 input, concrete
};

namespace detail {

using TP = onnx::TensorProto;

inline onnx::ModelProto model(int64_t opset, const std::string& name) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("qforge-hardening");
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  m.mutable_graph()->set_name(name);
  return m;
}

inline void value(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims,
                  bool symbolic_batch) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(TP::FLOAT);
  auto* s = tt->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i == 0 && symbolic_batch) s->add_dim()->set_dim_param("N");
    else s->add_dim()->set_dim_value(dims[i]);
  }
}

inline void f32(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims, std::mt19937& rng,
                float scale = 0.5f, bool raw = true) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(TP::FLOAT);
  int64_t n = 1;
  for (auto d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  if (raw) t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  else for (float x : v) t->add_float_data(x);
}

inline void i64(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(TP::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (auto v : values) t->add_int64_data(v);
}

inline onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> ins,
                             std::vector<std::string> outs) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(g->node_size()));
  for (auto& i : ins) n->add_input(i);
  for (auto& o : outs) n->add_output(o);
  return n;
}

inline void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void int1(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

}  // namespace detail

// x[N,16] → MatMul → Add → Relu → Gemm(transB) → Softmax → y[N,4]
inline SmallModel small_mlp() {
  using namespace detail;
  std::mt19937 rng(1);
  auto m = model(13, "small_mlp");
  auto* g = m.mutable_graph();
  value(g->add_input(), "x", {2, 16}, true);
  f32(g, "w1", {16, 8}, rng);
  f32(g, "b1", {8}, rng, 0.5f, false);
  f32(g, "w2", {4, 8}, rng);
  f32(g, "b2", {4}, rng);
  node(g, "MatMul", {"x", "w1"}, {"h0"});
  node(g, "Add", {"h0", "b1"}, {"h1"});
  node(g, "Relu", {"h1"}, {"h2"});
  int1(node(g, "Gemm", {"h2", "w2", "b2"}, {"logits"}), "transB", 1);
  int1(node(g, "Softmax", {"logits"}, {"y"}), "axis", -1);
  value(g->add_output(), "y", {2, 4}, true);
  return {"mlp", m, {2, 16}};
}

// x[N,1,8,8] → Conv 3x3 → BatchNormalization → Relu → MaxPool 2x2 → Conv 1x1 → GlobalAveragePool →
// Flatten → Gemm → y[N,3]
inline SmallModel small_cnn() {
  using namespace detail;
  std::mt19937 rng(2);
  auto m = model(17, "small_cnn");
  auto* g = m.mutable_graph();
  value(g->add_input(), "x", {1, 1, 8, 8}, true);
  f32(g, "c1_w", {4, 1, 3, 3}, rng);
  f32(g, "c1_b", {4}, rng);
  f32(g, "bn_s", {4}, rng);
  f32(g, "bn_b", {4}, rng);
  f32(g, "bn_m", {4}, rng);
  auto* var = g->add_initializer();
  var->set_name("bn_v");
  var->set_data_type(TP::FLOAT);
  var->add_dims(4);
  for (float v : {0.5f, 1.f, 1.5f, 2.f}) var->add_float_data(v);
  f32(g, "c2_w", {6, 4, 1, 1}, rng);
  f32(g, "fc_w", {6, 3}, rng);
  f32(g, "fc_b", {3}, rng);
  auto* c1 = node(g, "Conv", {"x", "c1_w", "c1_b"}, {"c1"});
  ints(c1, "kernel_shape", {3, 3});
  ints(c1, "pads", {1, 1, 1, 1});
  node(g, "BatchNormalization", {"c1", "bn_s", "bn_b", "bn_m", "bn_v"}, {"bn"});
  node(g, "Relu", {"bn"}, {"r1"});
  auto* mp = node(g, "MaxPool", {"r1"}, {"p1"});
  ints(mp, "kernel_shape", {2, 2});
  ints(mp, "strides", {2, 2});
  node(g, "Conv", {"p1", "c2_w"}, {"c2"});
  node(g, "GlobalAveragePool", {"c2"}, {"gap"});
  int1(node(g, "Flatten", {"gap"}, {"flat"}), "axis", 1);
  node(g, "Gemm", {"flat", "fc_w", "fc_b"}, {"y"});
  value(g->add_output(), "y", {1, 3}, true);
  return {"cnn", m, {1, 1, 8, 8}};
}

// MobileNet-like block: x[N,4,6,6] → pointwise Conv → Clip(0,6) → depthwise Conv (group 8) →
// Clip → pointwise Conv → Add(x) → AveragePool → Reshape → y[N,16]
inline SmallModel small_mobilenet() {
  using namespace detail;
  std::mt19937 rng(3);
  auto m = model(13, "small_mobilenet");
  auto* g = m.mutable_graph();
  value(g->add_input(), "x", {1, 4, 6, 6}, true);
  f32(g, "pw1", {8, 4, 1, 1}, rng);
  f32(g, "dw", {8, 1, 3, 3}, rng);
  f32(g, "dw_b", {8}, rng);
  f32(g, "pw2", {4, 8, 1, 1}, rng);
  auto* lo = g->add_initializer();
  lo->set_name("lo");
  lo->set_data_type(TP::FLOAT);
  lo->add_float_data(0.f);
  auto* hi = g->add_initializer();
  hi->set_name("hi");
  hi->set_data_type(TP::FLOAT);
  hi->add_float_data(6.f);
  i64(g, "shape", {-1, 16});
  node(g, "Conv", {"x", "pw1"}, {"e"});
  node(g, "Clip", {"e", "lo", "hi"}, {"e6"});
  auto* dw = node(g, "Conv", {"e6", "dw", "dw_b"}, {"d"});
  int1(dw, "group", 8);
  ints(dw, "pads", {1, 1, 1, 1});
  node(g, "Clip", {"d", "lo", "hi"}, {"d6"});
  node(g, "Conv", {"d6", "pw2"}, {"p"});
  node(g, "Add", {"p", "x"}, {"res"});
  auto* ap = node(g, "AveragePool", {"res"}, {"ap"});
  ints(ap, "kernel_shape", {3, 3});
  ints(ap, "strides", {3, 3});
  node(g, "Reshape", {"ap", "shape"}, {"y"});
  value(g->add_output(), "y", {1, 16}, true);
  return {"mobilenet", m, {1, 4, 6, 6}};
}

// Shape and data-movement ops: x[1,2,4,4] → Transpose → Concat(itself) → Slice → Resize (nearest,
// scales 2) → ReduceMean → Sigmoid → Mul → Shape/Gather/Concat/Reshape → y
inline SmallModel small_shapes() {
  using namespace detail;
  auto m = model(13, "small_shapes");
  auto* g = m.mutable_graph();
  value(g->add_input(), "x", {1, 2, 4, 4}, false);
  i64(g, "starts", {0});
  i64(g, "ends", {2});
  i64(g, "axes", {1});
  i64(g, "idx0", {0});
  i64(g, "minus1", {-1});
  auto* sc = g->add_initializer();
  sc->set_name("scales");
  sc->set_data_type(TP::FLOAT);
  sc->add_dims(4);
  for (float v : {1.f, 1.f, 2.f, 2.f}) sc->add_float_data(v);
  ints(node(g, "Transpose", {"x"}, {"t"}), "perm", {0, 1, 3, 2});
  int1(node(g, "Concat", {"t", "x"}, {"c"}), "axis", 1);
  node(g, "Slice", {"c", "starts", "ends", "axes"}, {"s"});
  auto* rs = node(g, "Resize", {"s", "", "scales"}, {"r"});
  auto* mode = rs->add_attribute();
  mode->set_name("mode");
  mode->set_type(onnx::AttributeProto::STRING);
  mode->set_s("nearest");
  ints(node(g, "ReduceMean", {"r"}, {"rm"}), "axes", {3});
  node(g, "Sigmoid", {"rm"}, {"sg"});
  node(g, "Mul", {"sg", "rm"}, {"mu"});
  node(g, "Shape", {"mu"}, {"sh"});
  node(g, "Gather", {"sh", "idx0"}, {"n"});
  int1(node(g, "Concat", {"n", "minus1"}, {"target"}), "axis", 0);
  node(g, "Reshape", {"mu", "target"}, {"y"});
  value(g->add_output(), "y", {1, 16}, false);
  return {"shapes", m, {1, 2, 4, 4}};
}

inline std::vector<SmallModel> small_models() { return {small_mlp(), small_cnn(), small_mobilenet(), small_shapes()}; }

}  // namespace qforge::hardening
