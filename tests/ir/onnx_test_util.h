// Builders for ONNX ModelProto fixtures in C++ and an IR equality check, shared by the ONNX
// import/export and shape-inference tests.
#pragma once
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "../temp_dir.h"
#include "ir/onnx_io.h"

namespace qforge::test {

// A dim: a number or a symbolic name.
struct D {
  D(int64_t v) : value(v) {}  // NOLINT: implicit for brace lists
  D(const char* p) : param(p) {}  // NOLINT
  int64_t value = -1;
  std::string param;
};

inline onnx::ModelProto make_model(int64_t opset) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("test");
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  m.mutable_graph()->set_name("g");
  return m;
}

inline void set_type(onnx::ValueInfoProto* v, int elem, std::initializer_list<D> dims) {
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* s = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dp = s->add_dim();
    if (d.param.empty()) dp->set_dim_value(d.value);
    else dp->set_dim_param(d.param);
  }
}

inline onnx::ValueInfoProto* add_input(onnx::GraphProto* g, const std::string& name, int elem,
                                       std::initializer_list<D> dims) {
  auto* v = g->add_input();
  v->set_name(name);
  set_type(v, elem, dims);
  return v;
}

inline onnx::ValueInfoProto* add_output(onnx::GraphProto* g, const std::string& name, int elem,
                                        std::initializer_list<D> dims) {
  auto* v = g->add_output();
  v->set_name(name);
  set_type(v, elem, dims);
  return v;
}

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> ins,
                                 std::vector<std::string> outs, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  if (!name.empty()) n->set_name(name);
  for (const auto& i : ins) n->add_input(i);
  for (const auto& o : outs) n->add_output(o);
  return n;
}

inline onnx::AttributeProto* add_attr(onnx::NodeProto* n, const std::string& name,
                                      onnx::AttributeProto::AttributeType type) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
inline void attr_i(onnx::NodeProto* n, const std::string& name, int64_t v) {
  add_attr(n, name, onnx::AttributeProto::INT)->set_i(v);
}
inline void attr_f(onnx::NodeProto* n, const std::string& name, float v) {
  add_attr(n, name, onnx::AttributeProto::FLOAT)->set_f(v);
}
inline void attr_s(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  add_attr(n, name, onnx::AttributeProto::STRING)->set_s(v);
}
inline void attr_ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void attr_floats(onnx::NodeProto* n, const std::string& name, std::vector<float> v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::FLOATS);
  for (auto x : v) a->add_floats(x);
}

// A tensor with raw_data `bytes` (little-endian, written by hand in the tests).
inline void fill_raw(onnx::TensorProto* t, const std::string& name, int dtype, std::vector<int64_t> dims,
                     const std::string& bytes) {
  if (!name.empty()) t->set_name(name);
  t->set_data_type(dtype);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(bytes);
}

inline onnx::TensorProto* add_raw_init(onnx::GraphProto* g, const std::string& name, int dtype,
                                       std::vector<int64_t> dims, const std::string& bytes) {
  auto* t = g->add_initializer();
  fill_raw(t, name, dtype, std::move(dims), bytes);
  return t;
}

inline onnx::TensorProto* add_f32_init(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims,
                                       std::vector<float> values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_float_data(v);
  return t;
}

inline onnx::TensorProto* add_i64_init(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims,
                                       std::vector<int64_t> values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_int64_data(v);
  return t;
}

inline std::string bytes_of(const onnx::ModelProto& m) {
  std::string s;
  EXPECT_TRUE(m.SerializeToString(&s));
  return s;
}

inline ir::Model parse(const onnx::ModelProto& m, const std::string& base_dir = "",
                       const ir::ImportOptions& opts = {}) {
  return ir::parse_onnx(bytes_of(m), "model.onnx", base_dir, opts);
}

// The InputError message of `f`, or "" (with a test failure) when it does not throw one.
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing thrown";
  return "";
}

using qforge::testing::TempDir;  // tests/temp_dir.h

// ---- IR equality (field by field, tensors bit-equal) ----

inline void expect_graph_equal(const ir::Graph& a, const ir::Graph& b, const std::string& where = "graph");

inline void expect_attr_equal(const ir::Attribute& a, const ir::Attribute& b, const std::string& where) {
  SCOPED_TRACE(where + " attribute " + a.name);
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.doc_string, b.doc_string);
  switch (a.kind) {
    case ir::AttrKind::f: EXPECT_EQ(a.f, b.f); break;
    case ir::AttrKind::i: EXPECT_EQ(a.i, b.i); break;
    case ir::AttrKind::s: case ir::AttrKind::type_proto: EXPECT_EQ(a.s, b.s); break;
    case ir::AttrKind::t: EXPECT_TRUE(a.t.bit_equal(b.t)); break;
    case ir::AttrKind::g: expect_graph_equal(*a.g, *b.g, where + "/" + a.name); break;
    case ir::AttrKind::floats: EXPECT_EQ(a.floats, b.floats); break;
    case ir::AttrKind::ints: EXPECT_EQ(a.ints, b.ints); break;
    case ir::AttrKind::strings: EXPECT_EQ(a.strings, b.strings); break;
    case ir::AttrKind::tensors:
      ASSERT_EQ(a.tensors.size(), b.tensors.size());
      for (size_t i = 0; i < a.tensors.size(); ++i) EXPECT_TRUE(a.tensors[i].bit_equal(b.tensors[i]));
      break;
    case ir::AttrKind::graphs:
      ASSERT_EQ(a.graphs.size(), b.graphs.size());
      for (size_t i = 0; i < a.graphs.size(); ++i) expect_graph_equal(*a.graphs[i], *b.graphs[i], where + "/" + a.name);
      break;
  }
}

inline void expect_graph_equal(const ir::Graph& a, const ir::Graph& b, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.doc_string, b.doc_string);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.value_info, b.value_info);
  EXPECT_EQ(a.initializer_order, b.initializer_order);
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, t] : a.initializers) {
    const Tensor* u = b.initializer(name);
    ASSERT_NE(u, nullptr) << name;
    EXPECT_TRUE(t.bit_equal(*u)) << name;
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const ir::Node& x = a.nodes[i];
    const ir::Node& y = b.nodes[i];
    SCOPED_TRACE("node " + x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    EXPECT_EQ(x.doc_string, y.doc_string);
    ASSERT_EQ(x.attrs.size(), y.attrs.size());
    for (size_t j = 0; j < x.attrs.size(); ++j) expect_attr_equal(x.attrs[j], y.attrs[j], where);
  }
}

inline void expect_model_equal(const ir::Model& a, const ir::Model& b) {
  EXPECT_EQ(a.opsets, b.opsets);
  EXPECT_EQ(a.producer_name, b.producer_name);
  EXPECT_EQ(a.producer_version, b.producer_version);
  EXPECT_EQ(a.domain, b.domain);
  EXPECT_EQ(a.model_version, b.model_version);
  EXPECT_EQ(a.doc_string, b.doc_string);
  EXPECT_EQ(a.metadata_props, b.metadata_props);
  expect_graph_equal(a.graph, b.graph);
}

}  // namespace qforge::test
