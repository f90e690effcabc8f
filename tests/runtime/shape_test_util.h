// One-node models for the shape / reduce / normalisation / resize op tests: build a graph around a
// single node, run it through runtime::Session, or call the op's shape inference directly.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"

namespace qforge::shape_test {

// A node input: a graph input fed at run time, an initializer (constant), or omitted (name "").
struct In {
  std::string name;
  Tensor value;
  bool constant = false;
};
inline In feed(std::string name, Tensor t) { return {std::move(name), std::move(t), false}; }
inline In konst(std::string name, Tensor t) { return {std::move(name), std::move(t), true}; }
inline In omitted() { return {"", Tensor(), false}; }

inline ir::Attribute attr_i(std::string n, int64_t v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::i; a.i = v; return a; }
inline ir::Attribute attr_f(std::string n, float v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::f; a.f = v; return a; }
inline ir::Attribute attr_s(std::string n, std::string v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::s; a.s = std::move(v); return a; }
inline ir::Attribute attr_ints(std::string n, std::vector<int64_t> v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::ints; a.ints = std::move(v); return a; }
inline ir::Attribute attr_floats(std::string n, std::vector<float> v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::floats; a.floats = std::move(v); return a; }
inline ir::Attribute attr_t(std::string n, Tensor v) { ir::Attribute a; a.name = std::move(n); a.kind = ir::AttrKind::t; a.t = std::move(v); return a; }

inline Tensor f32(Shape s, std::vector<float> v) { return Tensor::from_vector(DType::f32, std::move(s), v); }
inline Tensor s64(Shape s, std::vector<int64_t> v) { return Tensor::from_vector(DType::s64, std::move(s), v); }
inline Tensor s32(Shape s, std::vector<int32_t> v) { return Tensor::from_vector(DType::s32, std::move(s), v); }
inline Tensor ints(std::vector<int64_t> v) { return s64({static_cast<int64_t>(v.size())}, v); }
// f32 tensor with values start, start+1, ...
inline Tensor iota_f32(const Shape& s, float start = 0) {
  Tensor t(DType::f32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}

inline ir::Model one_node_model(const std::string& op, const std::vector<In>& inputs,
                                const std::vector<ir::Attribute>& attrs, int num_outputs) {
  ir::Model m;
  m.opsets.push_back({"", 21});
  ir::Node n;
  n.name = "n0";
  n.op_type = op;
  for (const In& in : inputs) {
    n.inputs.push_back(in.name);
    if (in.name.empty()) continue;
    if (in.constant) {
      m.graph.add_initializer(in.name, in.value);
    } else {
      ir::ValueInfo vi;
      vi.name = in.name;
      vi.dtype = in.value.dtype();
      vi.has_shape = true;
      for (int64_t d : in.value.shape()) vi.dims.push_back(ir::Dim::known(d));
      m.graph.inputs.push_back(vi);
    }
  }
  for (int i = 0; i < num_outputs; ++i) {
    n.outputs.push_back("y" + std::to_string(i));
    ir::ValueInfo vi;
    vi.name = n.outputs.back();
    m.graph.outputs.push_back(vi);
  }
  n.attrs = attrs;
  m.graph.nodes.push_back(n);
  return m;
}

// Runs the node; returns its outputs.
inline std::vector<Tensor> run_node(const std::string& op, const std::vector<In>& inputs,
                                    const std::vector<ir::Attribute>& attrs = {}, int num_outputs = 1) {
  ir::Model m = one_node_model(op, inputs, attrs, num_outputs);
  runtime::SessionOptions o;
  o.threads = 2;
  runtime::Session s(m, o);
  std::vector<Tensor> feeds;
  for (const In& in : inputs)
    if (!in.name.empty() && !in.constant) feeds.push_back(in.value);
  return s.run(feeds);
}

inline Tensor run1(const std::string& op, const std::vector<In>& inputs, const std::vector<ir::Attribute>& attrs = {}) {
  return run_node(op, inputs, attrs, 1).at(0);
}

// Static shape inference of one node: inputs given as TypeShapes, values (nullptr = unknown).
inline std::vector<runtime::TypeShape> infer_node(const std::string& op, const std::vector<runtime::TypeShape>& types,
                                                  const std::vector<const Tensor*>& values,
                                                  const std::vector<ir::Attribute>& attrs = {}, int num_outputs = 1) {
  ir::Node n;
  n.name = "n0";
  n.op_type = op;
  for (size_t i = 0; i < types.size(); ++i)
    n.inputs.push_back(types[i].dtype == DType::undefined ? "" : "x" + std::to_string(i));
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  n.attrs = attrs;
  const runtime::OpDef* def = runtime::find_op("", op);
  EXPECT_NE(def, nullptr) << op;
  runtime::InferCtx c{n, types, values};
  return def->infer(c);
}

inline runtime::TypeShape ts(DType t, std::vector<ir::Dim> dims) { return runtime::TypeShape{t, true, std::move(dims)}; }
inline ir::Dim K(int64_t v) { return ir::Dim::known(v); }
inline ir::Dim S(const std::string& s) { return ir::Dim::symbol(s); }

inline std::string dims_string(const runtime::TypeShape& t) {
  if (!t.has_shape) return "?rank";
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); ++i)
    s += (i ? "," : "") + (t.dims[i].is_known() ? std::to_string(t.dims[i].value)
                                                 : (t.dims[i].param.empty() ? "?" : t.dims[i].param));
  return s + "]";
}

inline void expect_f32(const Tensor& got, const Shape& shape, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.dtype(), DType::f32);
  ASSERT_EQ(got.shape(), shape) << shape_str(got.shape());
  ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data<float>()[i], want[i], tol * std::max(1.f, std::abs(want[i]))) << "at " << i;
}

inline void expect_i64(const Tensor& got, const Shape& shape, const std::vector<int64_t>& want) {
  ASSERT_EQ(got.dtype(), DType::s64);
  ASSERT_EQ(got.shape(), shape) << shape_str(got.shape());
  ASSERT_EQ(got.to_i64_vector(), want);
}

}  // namespace qforge::shape_test
