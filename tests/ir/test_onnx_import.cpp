// ONNX import: every element type through raw_data and through the typed fields (expected bytes
// written by hand from the IEEE / two's-complement encodings and the ONNX int4 packing rule: element
// 2i in the low nibble), every attribute kind, opset canonicalisation, model fields, external data.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "core/file_io.h"
#include "onnx_test_util.h"

namespace qforge {
namespace {

using namespace qforge::test;
using TP = onnx::TensorProto;

std::string hex_bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

struct DTypeCase {
  const char* name;
  int code;
  DType dtype;
  std::vector<int64_t> dims;
  std::string raw;                            // little-endian, by hand
  std::function<void(TP&)> typed;             // the same values through the typed field
  std::vector<double> values;                 // at_f64 of each element
};

std::vector<DTypeCase> dtype_cases() {
  return {
      {"f32", TP::FLOAT, DType::f32, {2}, hex_bytes({0, 0, 0xC0, 0x3F, 0, 0, 0x10, 0xC0}),
       [](TP& t) { t.add_float_data(1.5f); t.add_float_data(-2.25f); }, {1.5, -2.25}},
      {"f64", TP::DOUBLE, DType::f64, {2}, hex_bytes({0, 0, 0, 0, 0, 0, 0x0C, 0x40, 0, 0, 0, 0, 0, 0, 0xC0, 0xBF}),
       [](TP& t) { t.add_double_data(3.5); t.add_double_data(-0.125); }, {3.5, -0.125}},
      {"f16", TP::FLOAT16, DType::f16, {2}, hex_bytes({0x00, 0x3C, 0x00, 0xC0}),
       [](TP& t) { t.add_int32_data(0x3C00); t.add_int32_data(0xC000); }, {1.0, -2.0}},
      {"bf16", TP::BFLOAT16, DType::bf16, {2}, hex_bytes({0x80, 0x3F, 0x00, 0xC0}),
       [](TP& t) { t.add_int32_data(0x3F80); t.add_int32_data(0xC000); }, {1.0, -2.0}},
      {"s8", TP::INT8, DType::s8, {3}, hex_bytes({0x80, 0x7F, 0x05}),
       [](TP& t) { t.add_int32_data(-128); t.add_int32_data(127); t.add_int32_data(5); }, {-128, 127, 5}},
      {"u8", TP::UINT8, DType::u8, {2}, hex_bytes({0x00, 0xFF}),
       [](TP& t) { t.add_int32_data(0); t.add_int32_data(255); }, {0, 255}},
      {"s16", TP::INT16, DType::s16, {2}, hex_bytes({0x00, 0x80, 0xD2, 0x04}),
       [](TP& t) { t.add_int32_data(-32768); t.add_int32_data(1234); }, {-32768, 1234}},
      {"u16", TP::UINT16, DType::u16, {2}, hex_bytes({0xFF, 0xFF, 0x07, 0x00}),
       [](TP& t) { t.add_int32_data(65535); t.add_int32_data(7); }, {65535, 7}},
      {"s32", TP::INT32, DType::s32, {2}, hex_bytes({0, 0, 0, 0x80, 0x2A, 0, 0, 0}),
       [](TP& t) { t.add_int32_data(INT32_MIN); t.add_int32_data(42); }, {-2147483648.0, 42}},
      {"s64", TP::INT64, DType::s64, {2}, hex_bytes({0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 0, 0, 0, 0, 0, 0, 0}),
       [](TP& t) { t.add_int64_data(-(int64_t{1} << 40)); t.add_int64_data(9); }, {-1099511627776.0, 9}},
      {"u32", TP::UINT32, DType::u32, {2}, hex_bytes({0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0}),
       [](TP& t) { t.add_uint64_data(4294967295u); t.add_uint64_data(1); }, {4294967295.0, 1}},
      {"u64", TP::UINT64, DType::u64, {2}, hex_bytes({1, 0, 0, 0, 0, 0, 0, 0x80, 2, 0, 0, 0, 0, 0, 0, 0}),
       [](TP& t) { t.add_uint64_data((uint64_t{1} << 63) + 1); t.add_uint64_data(2); }, {9223372036854775808.0, 2}},
      {"bool", TP::BOOL, DType::boolean, {3}, hex_bytes({1, 0, 1}),
       [](TP& t) { t.add_int32_data(1); t.add_int32_data(0); t.add_int32_data(1); }, {1, 0, 1}},
      // int4: [1, -2, 7] → bytes 0xE1 (1 low, -2 = 0xE high), 0x07.
      {"s4", 22, DType::s4, {3}, hex_bytes({0xE1, 0x07}),
       [](TP& t) { t.add_int32_data(0xE1); t.add_int32_data(0x07); }, {1, -2, 7}},
      {"u4", 21, DType::u4, {3}, hex_bytes({0xE1, 0x07}),
       [](TP& t) { t.add_int32_data(0xE1); t.add_int32_data(0x07); }, {1, 14, 7}},
  };
}

ir::Model import_one_initializer(const DTypeCase& c, bool raw) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  auto* t = g->add_initializer();
  t->set_name("w");
  t->set_data_type(c.code);
  for (auto d : c.dims) t->add_dims(d);
  if (raw) t->set_raw_data(c.raw);
  else c.typed(*t);
  g->add_output()->set_name("w");
  return parse(m);
}

void expect_tensor(const Tensor& t, const DTypeCase& c) {
  EXPECT_EQ(t.dtype(), c.dtype);
  EXPECT_EQ(t.shape(), c.dims);
  ASSERT_EQ(t.nbytes(), c.raw.size());
  EXPECT_EQ(std::string(static_cast<const char*>(t.raw()), t.nbytes()), c.raw);
  for (size_t i = 0; i < c.values.size(); ++i) EXPECT_EQ(t.at_f64(static_cast<int64_t>(i)), c.values[i]) << i;
}

TEST(OnnxImportDType, RawDataEveryType) {
  for (const auto& c : dtype_cases()) {
    SCOPED_TRACE(c.name);
    ir::Model m = import_one_initializer(c, true);
    ASSERT_NE(m.graph.initializer("w"), nullptr);
    expect_tensor(*m.graph.initializer("w"), c);
  }
}

TEST(OnnxImportDType, TypedFieldsEveryType) {
  for (const auto& c : dtype_cases()) {
    SCOPED_TRACE(c.name);
    ir::Model m = import_one_initializer(c, false);
    ASSERT_NE(m.graph.initializer("w"), nullptr);
    expect_tensor(*m.graph.initializer("w"), c);
  }
}

TEST(OnnxImportDType, TypedValueOutOfRangeIsRefused) {
  auto m = make_model(13);
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(TP::UINT8);
  t->add_dims(1);
  t->add_int32_data(300);
  m.mutable_graph()->add_output()->set_name("w");
  EXPECT_NE(input_error([&] { parse(m); }).find("out of range for u8"), std::string::npos);
}

TEST(OnnxImportDType, ScalarAndEmptyTensors) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_f32_init(g, "scalar", {}, {4.0f});
  add_raw_init(g, "empty", TP::FLOAT, {0, 3}, "");
  g->add_output()->set_name("scalar");
  ir::Model r = parse(m);
  EXPECT_EQ(r.graph.initializer("scalar")->shape(), Shape{});
  EXPECT_EQ(r.graph.initializer("scalar")->at_f64(0), 4.0);
  EXPECT_EQ(r.graph.initializer("empty")->numel(), 0);
  EXPECT_EQ(r.graph.initializer_order, (std::vector<std::string>{"scalar", "empty"}));
}

TEST(OnnxImportAttributes, EveryKind) {
  auto m = make_model(13);
  auto* dom = m.add_opset_import();
  dom->set_domain("test.domain");
  dom->set_version(1);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {2});
  add_output(g, "y", TP::FLOAT, {2});
  auto* n = add_node(g, "Foo", {"x"}, {"y"}, "foo");
  n->set_domain("test.domain");
  attr_f(n, "f", 0.5f);
  attr_i(n, "i", -7);
  attr_s(n, "s", "abc");
  fill_raw(add_attr(n, "t", onnx::AttributeProto::TENSOR)->mutable_t(), "", TP::FLOAT, {2},
           hex_bytes({0, 0, 0x80, 0x3F, 0, 0, 0, 0x40}));  // [1, 2]
  auto* ga = add_attr(n, "g", onnx::AttributeProto::GRAPH)->mutable_g();
  ga->set_name("body");
  add_input(ga, "a", TP::FLOAT, {2});
  add_output(ga, "b", TP::FLOAT, {2});
  add_node(ga, "Identity", {"a"}, {"b"}, "id");
  attr_floats(n, "floats", {1.0f, 2.5f});
  attr_ints(n, "ints", {1, -2, 3});
  auto* ss = add_attr(n, "strings", onnx::AttributeProto::STRINGS);
  ss->add_strings("p");
  ss->add_strings("q");
  auto* ts = add_attr(n, "tensors", onnx::AttributeProto::TENSORS);
  fill_raw(ts->add_tensors(), "", TP::INT64, {1}, hex_bytes({5, 0, 0, 0, 0, 0, 0, 0}));
  fill_raw(ts->add_tensors(), "", TP::INT8, {}, hex_bytes({0xFE}));
  auto* gs = add_attr(n, "graphs", onnx::AttributeProto::GRAPHS);
  gs->add_graphs()->set_name("g0");
  gs->add_graphs()->set_name("g1");
  auto* old = n->add_attribute();  // IR version 1 style: no type, the filled field tells
  old->set_name("old");
  old->set_f(3.0f);

  ir::Model r = parse(m);
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  const ir::Node& f = r.graph.nodes[0];
  EXPECT_EQ(f.domain, "test.domain");
  ASSERT_EQ(f.attrs.size(), 11u);
  EXPECT_EQ(f.attr("f")->kind, ir::AttrKind::f);
  EXPECT_EQ(f.attr_f("f", 0), 0.5f);
  EXPECT_EQ(f.attr_i("i", 0), -7);
  EXPECT_EQ(f.attr_s("s", ""), "abc");
  EXPECT_EQ(f.attr("t")->t.to_f32_vector(), (std::vector<float>{1, 2}));
  ASSERT_EQ(f.attr("g")->kind, ir::AttrKind::g);
  EXPECT_EQ(f.attr("g")->g->name, "body");
  ASSERT_EQ(f.attr("g")->g->nodes.size(), 1u);
  EXPECT_EQ(f.attr("g")->g->nodes[0].op_type, "Identity");
  EXPECT_EQ(f.attr("g")->g->inputs[0].name, "a");
  EXPECT_EQ(f.attr_floats("floats"), (std::vector<float>{1.0f, 2.5f}));
  EXPECT_EQ(f.attr_ints("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.attr("strings")->strings, (std::vector<std::string>{"p", "q"}));
  ASSERT_EQ(f.attr("tensors")->tensors.size(), 2u);
  EXPECT_EQ(f.attr("tensors")->tensors[0].at_i64(0), 5);
  EXPECT_EQ(f.attr("tensors")->tensors[1].at_i64(0), -2);
  ASSERT_EQ(f.attr("graphs")->graphs.size(), 2u);
  EXPECT_EQ(f.attr("graphs")->graphs[1]->name, "g1");
  EXPECT_EQ(f.attr("old")->kind, ir::AttrKind::f);
  EXPECT_EQ(f.attr_f("old", 0), 3.0f);
  ASSERT_EQ(r.opsets.size(), 2u);
  EXPECT_EQ(r.opset("test.domain"), 1);
}

TEST(OnnxImportAttributes, SparseTensorRefused) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_output(g, "y", TP::FLOAT, {2});
  auto* n = add_node(g, "Constant", {}, {"y"}, "c");
  add_attr(n, "sparse_value", onnx::AttributeProto::SPARSE_TENSOR);
  std::string e = input_error([&] { parse(m); });
  EXPECT_NE(e.find("model.onnx: failed to import node 'c' (Constant): attribute 'sparse_value': sparse"), std::string::npos) << e;
}

TEST(OnnxImportModel, FieldsValueInfoAndInitializerInputs) {
  auto m = make_model(17);
  m.set_doc_string("model doc");
  m.set_producer_version("1.2");
  m.set_domain("org.test");
  m.set_model_version(3);
  auto* kv = m.add_metadata_props();
  kv->set_key("author");
  kv->set_value("me");
  auto* ms = m.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  auto* g = m.mutable_graph();
  g->set_doc_string("graph doc");
  add_input(g, "x", TP::FLOAT, {"N", 3})->set_doc_string("input doc");
  add_input(g, "bias", TP::FLOAT, {3});  // an input with an initializer default
  add_f32_init(g, "bias", {3}, {1, 2, 3});
  add_output(g, "y", TP::FLOAT, {"N", 3});
  auto* vi = g->add_value_info();
  vi->set_name("t");
  set_type(vi, TP::FLOAT, {"N", 3});
  vi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim();  // unknown dim
  add_node(g, "Add", {"x", "bias"}, {"t"}, "add")->set_doc_string("node doc");
  add_node(g, "Relu", {"t"}, {"y"}, "relu");

  ir::Model r = parse(m);
  EXPECT_EQ(r.doc_string, "model doc");
  EXPECT_EQ(r.producer_name, "test");
  EXPECT_EQ(r.producer_version, "1.2");
  EXPECT_EQ(r.domain, "org.test");
  EXPECT_EQ(r.model_version, 3);
  EXPECT_EQ(r.ir_version, 8);
  ASSERT_EQ(r.metadata_props.size(), 1u);
  EXPECT_EQ(r.metadata_props[0], (std::pair<std::string, std::string>{"author", "me"}));
  EXPECT_EQ(r.opset(""), 17);
  EXPECT_EQ(r.opset("com.microsoft"), 1);
  EXPECT_EQ(r.graph.doc_string, "graph doc");
  ASSERT_EQ(r.graph.inputs.size(), 1u);  // 'bias' stays an initializer only
  EXPECT_EQ(r.graph.inputs[0].name, "x");
  EXPECT_EQ(r.graph.inputs[0].doc_string, "input doc");
  EXPECT_EQ(r.graph.inputs[0].dims, (std::vector<ir::Dim>{ir::Dim::symbol("N"), ir::Dim::known(3)}));
  ASSERT_NE(r.graph.initializer("bias"), nullptr);
  ASSERT_EQ(r.graph.value_info.size(), 1u);
  EXPECT_EQ(r.graph.value_info[0].dims,
            (std::vector<ir::Dim>{ir::Dim::symbol("N"), ir::Dim::known(3), ir::Dim{}}));
  EXPECT_EQ(r.graph.nodes[0].doc_string, "node doc");
}

TEST(OnnxImportModel, NodesAreSortedAndUnnamedNodesNamed) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {2});
  add_output(g, "y", TP::FLOAT, {2});
  add_node(g, "Relu", {"t"}, {"y"});        // out of order, no name
  add_node(g, "Neg", {"x"}, {"t"});         // no name
  add_node(g, "Abs", {"x"}, {"u"}, "Neg_1");  // takes the name "Neg_1" first
  ir::Model r = parse(m);
  ASSERT_EQ(r.graph.nodes.size(), 3u);
  EXPECT_EQ(r.graph.nodes[0].op_type, "Neg");
  EXPECT_EQ(r.graph.nodes[0].name, "Neg_1_1");
  EXPECT_EQ(r.graph.nodes[1].op_type, "Relu");
  EXPECT_EQ(r.graph.nodes[1].name, "Relu_0");
}

TEST(OnnxImportModel, ConstantNodeKeptAsIs) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_output(g, "c", TP::INT64, {2});
  attr_ints(add_node(g, "Constant", {}, {"c"}, "k"), "value_ints", {4, 5});
  ir::Model r = parse(m);
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  EXPECT_EQ(r.graph.nodes[0].op_type, "Constant");
  EXPECT_EQ(r.graph.nodes[0].attr_ints("value_ints"), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(r.graph.initializers.empty());
}

TEST(OnnxImportOpset, SupportedRange) {
  for (int64_t v : {10, 22}) {
    auto m = make_model(v);
    add_node(m.mutable_graph(), "Relu", {"x"}, {"y"}, "r");
    add_input(m.mutable_graph(), "x", TP::FLOAT, {1});
    std::string e = input_error([&] { parse(m); });
    EXPECT_NE(e.find("model.onnx: default-domain opset " + std::to_string(v) + " is not supported (supported: 11 to 21)"),
              std::string::npos) << e;
  }
}

// ---- canonical IR ----

ir::Model one_node(int64_t opset, const std::function<void(onnx::GraphProto*)>& build) {
  auto m = make_model(opset);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {2, 3, 4});
  build(g);
  return parse(m);
}

void expect_s64_init(const ir::Graph& g, const std::string& name, std::vector<int64_t> want) {
  const Tensor* t = g.initializer(name);
  ASSERT_NE(t, nullptr) << name;
  EXPECT_EQ(t->dtype(), DType::s64);
  EXPECT_EQ(t->to_i64_vector(), want);
}

TEST(OnnxImportCanonical, ReduceMeanAxesAttrBecomesInput) {
  ir::Model r = one_node(13, [](onnx::GraphProto* g) {
    auto* n = add_node(g, "ReduceMean", {"x"}, {"y"}, "rm");
    attr_ints(n, "axes", {1, -1});
    attr_i(n, "keepdims", 0);
    add_output(g, "y", TP::FLOAT, {2});
  });
  const ir::Node& n = r.graph.nodes[0];
  EXPECT_FALSE(n.has_attr("axes"));
  EXPECT_EQ(n.attr_i("keepdims", 1), 0);
  ASSERT_EQ(n.inputs, (std::vector<std::string>{"x", "rm_axes"}));
  expect_s64_init(r.graph, "rm_axes", {1, -1});
}

TEST(OnnxImportCanonical, ReduceSumOpset11AxesAttrBecomesInput) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    attr_ints(add_node(g, "ReduceSum", {"x"}, {"y"}, "rs"), "axes", {0});
    add_output(g, "y", TP::FLOAT, {});
  });
  ASSERT_EQ(r.graph.nodes[0].inputs, (std::vector<std::string>{"x", "rs_axes"}));
  expect_s64_init(r.graph, "rs_axes", {0});
}

TEST(OnnxImportCanonical, SqueezeUnsqueezeOpset11) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    attr_ints(add_node(g, "Unsqueeze", {"x"}, {"u"}, "us"), "axes", {0});
    attr_ints(add_node(g, "Squeeze", {"u"}, {"y"}, "sq"), "axes", {0});
    add_output(g, "y", TP::FLOAT, {2, 3, 4});
  });
  EXPECT_EQ(r.graph.nodes[0].inputs, (std::vector<std::string>{"x", "us_axes"}));
  EXPECT_EQ(r.graph.nodes[1].inputs, (std::vector<std::string>{"u", "sq_axes"}));
  EXPECT_FALSE(r.graph.nodes[1].has_attr("axes"));
  expect_s64_init(r.graph, "sq_axes", {0});
}

TEST(OnnxImportCanonical, SplitOpset11) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    auto* n = add_node(g, "Split", {"x"}, {"a", "b"}, "sp");
    attr_i(n, "axis", 2);
    attr_ints(n, "split", {1, 3});
    add_output(g, "a", TP::FLOAT, {2, 3, 1});
    add_output(g, "b", TP::FLOAT, {2, 3, 3});
  });
  const ir::Node& n = r.graph.nodes[0];
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "sp_split"}));
  EXPECT_EQ(n.attr_i("axis", 0), 2);
  EXPECT_FALSE(n.has_attr("split"));
  expect_s64_init(r.graph, "sp_split", {1, 3});
}

TEST(OnnxImportCanonical, SoftmaxBeforeOpset13GetsCoerce2d) {
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    ir::Model r = one_node(11, [&](onnx::GraphProto* g) {
      add_node(g, op, {"x"}, {"y"}, "sm");
      add_output(g, "y", TP::FLOAT, {2, 3, 4});
    });
    const ir::Node& n = r.graph.nodes[0];
    EXPECT_EQ(n.attr_i("qforge.coerce_2d", 0), 1) << op;
    EXPECT_EQ(n.attr_i("axis", -99), 1) << op;  // the opset < 13 default made explicit
  }
  ir::Model r13 = one_node(13, [](onnx::GraphProto* g) {
    add_node(g, "Softmax", {"x"}, {"y"}, "sm");
    add_output(g, "y", TP::FLOAT, {2, 3, 4});
  });
  EXPECT_TRUE(r13.graph.nodes[0].attrs.empty());
}

TEST(OnnxImportCanonical, ClipAttrsBecomeInputs) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    auto* n = add_node(g, "Clip", {"x"}, {"y"}, "clip");
    attr_f(n, "max", 6.0f);
    add_output(g, "y", TP::FLOAT, {2, 3, 4});
  });
  const ir::Node& n = r.graph.nodes[0];
  EXPECT_TRUE(n.attrs.empty());
  ASSERT_EQ(n.inputs, (std::vector<std::string>{"x", "", "clip_max"}));
  EXPECT_EQ(r.graph.initializer("clip_max")->dtype(), DType::f32);
  EXPECT_EQ(r.graph.initializer("clip_max")->at_f64(0), 6.0);
}

TEST(OnnxImportCanonical, DropoutRatioAttrBecomesInput) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    attr_f(add_node(g, "Dropout", {"x"}, {"y"}, "drop"), "ratio", 0.25f);
    add_output(g, "y", TP::FLOAT, {2, 3, 4});
  });
  EXPECT_EQ(r.graph.nodes[0].inputs, (std::vector<std::string>{"x", "drop_ratio"}));
  EXPECT_EQ(r.graph.initializer("drop_ratio")->at_f64(0), 0.25);
}

TEST(OnnxImportCanonical, UpsampleBecomesResize) {
  ir::Model r = one_node(11, [](onnx::GraphProto* g) {
    add_f32_init(g, "scales", {3}, {1, 2, 2});
    attr_s(add_node(g, "Upsample", {"x", "scales"}, {"y"}, "up"), "mode", "nearest");
    add_output(g, "y", TP::FLOAT, {2, 6, 8});
  });
  const ir::Node& n = r.graph.nodes[0];
  EXPECT_EQ(n.op_type, "Resize");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "", "scales"}));
  EXPECT_EQ(n.attr_s("mode", ""), "nearest");
  EXPECT_EQ(n.attr_s("coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_EQ(n.attr_s("nearest_mode", ""), "floor");
}

TEST(OnnxImportCanonical, BatchNormUnusedTrainingOutputsDropped) {
  auto build = [](bool use_mean) {
    auto m = make_model(11);
    auto* g = m.mutable_graph();
    add_input(g, "x", TP::FLOAT, {1, 2, 3});
    for (const char* p : {"s", "b", "m", "v"}) add_f32_init(g, p, {2}, {1, 1});
    add_node(g, "BatchNormalization", {"x", "s", "b", "m", "v"}, {"y", "rm", "rv"}, "bn");
    add_output(g, "y", TP::FLOAT, {1, 2, 3});
    if (use_mean) add_output(g, "rm", TP::FLOAT, {2});
    return m;
  };
  ir::Model r = parse(build(false));
  EXPECT_EQ(r.graph.nodes[0].outputs, (std::vector<std::string>{"y"}));
  std::string e = input_error([&] { parse(build(true)); });
  EXPECT_NE(e.find("failed to import node 'bn' (BatchNormalization): training output 'rm' is used"),
            std::string::npos) << e;
}

// ---- external data ----

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void set_external(TP* t, const std::string& location, const std::string& offset, const std::string& length) {
  t->set_data_location(TP::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  add("offset", offset);
  add("length", length);
}

TEST(OnnxImportExternal, RelativeFileWithOffsetAndLength) {
  TempDir dir;
  std::filesystem::create_directories(std::filesystem::path(dir.path()) / "data");
  // 5 junk bytes, then f32 [1.5, -2.25] at offset 5.
  write_bytes(dir.path("data/w.bin"), hex_bytes({9, 9, 9, 9, 9, 0, 0, 0xC0, 0x3F, 0, 0, 0x10, 0xC0, 7}));
  std::filesystem::create_symlink("w.bin", std::filesystem::path(dir.path()) / "data" / "alias.bin");  // stays inside: allowed
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  for (const char* name : {"w", "w2"}) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(TP::FLOAT);
    t->add_dims(2);
    set_external(t, std::string(name) == "w" ? "data/w.bin" : "data/alias.bin", "5", name == std::string("w") ? "8" : "");
    g->add_output()->set_name(name);
  }
  write_file_atomic(dir.path("model.onnx"), bytes_of(m));
  ir::Model r = ir::load_onnx(dir.path("model.onnx"));
  EXPECT_EQ(r.graph.initializer("w")->to_f32_vector(), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(r.graph.initializer("w2")->to_f32_vector(), (std::vector<float>{1.5f, -2.25f}));
}

}  // namespace
}  // namespace qforge
