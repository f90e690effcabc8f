// ONNX export: import → export → import gives the same IR (nodes, attributes, initializers bit-equal,
// inputs/outputs, value_info, opsets, metadata); export is deterministic; the canonical IR is lowered
// to the target opset's forms and qforge.* attributes never reach the file.
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "onnx_test_util.h"

namespace qforge {
namespace {

using namespace qforge::test;
using TP = onnx::TensorProto;

onnx::ModelProto rich_model(int64_t opset) {
  auto m = make_model(opset);
  m.set_doc_string("doc");
  m.set_producer_version("9.9");
  m.set_domain("org.example");
  m.set_model_version(42);
  auto* kv = m.add_metadata_props();
  kv->set_key("license");
  kv->set_value("MIT");
  auto* ms = m.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);

  auto* g = m.mutable_graph();
  g->set_doc_string("main graph");
  add_input(g, "x", TP::FLOAT, {"N", 3, 8, 8})->set_doc_string("image");
  add_f32_init(g, "w", {4, 3, 3, 3}, std::vector<float>(108, 0.25f));
  add_raw_init(g, "b", TP::FLOAT, {4}, std::string("\0\0\x80\x3f\0\0\0\x40\0\0\x40\x40\0\0\x80\x40", 16));
  add_raw_init(g, "h", TP::FLOAT16, {2}, std::string("\x00\x3c\x00\xc0", 4));
  add_raw_init(g, "bh", TP::BFLOAT16, {1}, std::string("\x80\x3f", 2));
  add_raw_init(g, "q4", 22, {3}, std::string("\xe1\x07", 2));
  add_raw_init(g, "u4", 21, {5}, std::string("\x21\x43\x05", 3));
  add_raw_init(g, "i8", TP::INT8, {2}, std::string("\x80\x7f", 2));
  add_raw_init(g, "big", TP::UINT64, {1}, std::string("\x01\0\0\0\0\0\0\x80", 8));
  add_raw_init(g, "flag", TP::BOOL, {1}, std::string("\x01", 1));
  add_raw_init(g, "d", TP::DOUBLE, {1}, std::string("\0\0\0\0\0\0\x0c\x40", 8));
  add_i64_init(g, "split", {2}, {2, 2});

  auto* conv = add_node(g, "Conv", {"x", "w", "b"}, {"c"}, "conv1");
  conv->set_doc_string("first conv");
  attr_ints(conv, "pads", {1, 1, 1, 1});
  attr_ints(conv, "strides", {1, 1});
  attr_ints(conv, "kernel_shape", {3, 3});
  attr_s(conv, "auto_pad", "NOTSET");
  add_node(g, "Relu", {"c"}, {"r"}, "relu1");
  auto* rm = add_node(g, "ReduceMean", {"r"}, {"m"}, "rm");
  attr_ints(rm, "axes", {2, 3});
  attr_i(rm, "keepdims", 1);
  auto* split = add_node(g, "Split", {"m", "split"}, {"s0", "s1"}, "split1");
  attr_i(split, "axis", 1);
  attr_i(add_node(g, "Softmax", {"s0"}, {"p"}, "sm"), "axis", 1);
  attr_ints(add_node(g, "Constant", {}, {"k"}, "const1"), "value_ints", {1, 2});

  auto* custom = add_node(g, "FusedThing", {"p", "s1"}, {"y"}, "custom");
  custom->set_domain("com.microsoft");
  attr_f(custom, "alpha", 0.125f);
  attr_floats(custom, "fs", {1.5f, -0.0f});
  auto* strs = add_attr(custom, "names", onnx::AttributeProto::STRINGS);
  strs->add_strings("a");
  strs->add_strings("");
  fill_raw(add_attr(custom, "table", onnx::AttributeProto::TENSOR)->mutable_t(), "", TP::UINT8, {3}, "\x01\x02\x03");
  auto* ts = add_attr(custom, "tables", onnx::AttributeProto::TENSORS);
  fill_raw(ts->add_tensors(), "", TP::INT16, {1}, std::string("\xff\x7f", 2));
  auto* body = add_attr(custom, "body", onnx::AttributeProto::GRAPH)->mutable_g();
  body->set_name("body");
  add_input(body, "bi", TP::FLOAT, {1});
  add_raw_init(body, "one", TP::FLOAT, {1}, std::string("\0\0\x80\x3f", 4));
  add_node(body, "Add", {"bi", "one"}, {"bo"}, "body_add");
  add_output(body, "bo", TP::FLOAT, {1});
  auto* gs = add_attr(custom, "branches", onnx::AttributeProto::GRAPHS);
  gs->add_graphs()->set_name("br0");
  auto* tp = add_attr(custom, "out_type", onnx::AttributeProto::TYPE_PROTO)->mutable_tp();
  tp->mutable_tensor_type()->set_elem_type(TP::FLOAT);

  auto* vi = g->add_value_info();
  vi->set_name("c");
  set_type(vi, TP::FLOAT, {"N", 4, 8, 8});
  add_output(g, "y", TP::FLOAT, {"N", 2, 1, 1});
  add_output(g, "k", TP::INT64, {2});
  return m;
}

TEST(OnnxRoundTrip, ImportExportImportIsIdentity) {
  for (int64_t opset : {13, 17}) {
    SCOPED_TRACE(opset);
    ir::Model a = parse(rich_model(opset));
    std::string bytes = ir::serialize_onnx(a);
    ir::Model b = ir::parse_onnx(bytes, "exported.onnx", "");
    expect_model_equal(a, b);
    EXPECT_EQ(b.opset(""), opset);
    // Deterministic, and a fixed point after one round.
    EXPECT_EQ(ir::serialize_onnx(a), bytes);
    EXPECT_EQ(ir::serialize_onnx(b), bytes);
  }
}

TEST(OnnxRoundTrip, InitializersAreRawDataInFileOrder) {
  ir::Model a = parse(rich_model(13));
  onnx::ModelProto p;
  ASSERT_TRUE(p.ParseFromString(ir::serialize_onnx(a)));
  std::vector<std::string> names;
  for (const auto& t : p.graph().initializer()) {
    names.push_back(t.name());
    EXPECT_TRUE(t.has_raw_data()) << t.name();
    EXPECT_EQ(t.float_data_size(), 0) << t.name();
  }
  // ReduceMean's axes went back into an attribute at opset 13, so 'rm_axes' is not written.
  EXPECT_EQ(names, (std::vector<std::string>{"w", "b", "h", "bh", "q4", "u4", "i8", "big", "flag", "d", "split"}));
  EXPECT_EQ(p.graph().initializer(4).raw_data(), std::string("\xe1\x07", 2));
  EXPECT_EQ(p.graph().initializer(7).raw_data(), std::string("\x01\0\0\0\0\0\0\x80", 8));
}

const onnx::NodeProto* find_node(const onnx::ModelProto& p, const std::string& name) {
  for (const auto& n : p.graph().node())
    if (n.name() == name) return &n;
  return nullptr;
}

TEST(OnnxRoundTrip, ReduceAxesFollowTheTargetOpset) {
  ir::Model a = parse(rich_model(13));
  ASSERT_EQ(a.graph.nodes[2].inputs, (std::vector<std::string>{"r", "rm_axes"}));
  onnx::ModelProto p13, p18;
  ASSERT_TRUE(p13.ParseFromString(ir::serialize_onnx(a)));
  const onnx::NodeProto* rm = find_node(p13, "rm");
  ASSERT_NE(rm, nullptr);
  EXPECT_EQ(rm->input_size(), 1);
  ASSERT_EQ(rm->attribute_size(), 2);
  EXPECT_EQ(rm->attribute(1).name(), "axes");
  EXPECT_EQ(std::vector<int64_t>(rm->attribute(1).ints().begin(), rm->attribute(1).ints().end()),
            (std::vector<int64_t>{2, 3}));

  ASSERT_TRUE(p18.ParseFromString(ir::serialize_onnx(a, {.opset = 18})));
  rm = find_node(p18, "rm");
  ASSERT_EQ(rm->input_size(), 2);
  EXPECT_EQ(rm->input(1), "rm_axes");
  EXPECT_EQ(rm->attribute_size(), 1);
  EXPECT_EQ(p18.graph().initializer(p18.graph().initializer_size() - 1).name(), "rm_axes");
  // Split at 18 with an explicit split input keeps it and gains no num_outputs.
  EXPECT_EQ(find_node(p18, "split1")->attribute_size(), 1);
}

TEST(OnnxRoundTrip, IrVersionAndOpsetChoice) {
  ir::Model a = parse(rich_model(13));
  auto exported = [&](int64_t opset) {
    onnx::ModelProto p;
    EXPECT_TRUE(p.ParseFromString(ir::serialize_onnx(a, {.opset = opset})));
    return p;
  };
  // The graph holds int4 initializers, which need IR version 10 whatever the opset.
  EXPECT_EQ(exported(13).ir_version(), 10);
  ir::Model plain = parse(rich_model(13));
  for (const char* n : {"q4", "u4"}) plain.graph.remove_initializer(n);
  auto ir_of = [&](int64_t opset) {
    onnx::ModelProto p;
    EXPECT_TRUE(p.ParseFromString(ir::serialize_onnx(plain, {.opset = opset})));
    EXPECT_EQ(p.opset_import(0).domain(), "");
    EXPECT_EQ(p.opset_import(0).version(), opset);
    return p.ir_version();
  };
  // Its Softmax over axis 1 of a 3-D value has no opset-11 form (that opset flattens to 2-D).
  EXPECT_NE(input_error([&] { ir::serialize_onnx(plain, {.opset = 11}); }).find("needs opset 13"),
            std::string::npos);
  EXPECT_EQ(ir_of(13), 8);
  EXPECT_EQ(ir_of(18), 8);
  EXPECT_EQ(ir_of(19), 9);
  EXPECT_EQ(ir_of(20), 9);
  EXPECT_EQ(ir_of(21), 10);
  EXPECT_NE(input_error([&] { ir::serialize_onnx(plain, {.opset = 22}); }).find("cannot export at opset 22"),
            std::string::npos);
  EXPECT_NE(input_error([&] { ir::serialize_onnx(plain, {.opset = 10}); }).find("cannot export at opset 10"),
            std::string::npos);
}

ir::Model softmax_model(int64_t axis, bool with_shape) {
  auto m = make_model(11);
  auto* g = m.mutable_graph();
  if (with_shape) add_input(g, "x", TP::FLOAT, {2, 3, 4});
  else g->add_input()->set_name("x");
  attr_i(add_node(g, "Softmax", {"x"}, {"y"}, "sm"), "axis", axis);
  g->add_output()->set_name("y");
  return parse(m);
}

TEST(OnnxRoundTrip, Softmax2dCoercionLowered) {
  // At the model's own opset 11 the coerced form is native: one node, axis kept, no qforge attribute.
  for (auto [axis, shape] : {std::pair{int64_t{1}, true}, {int64_t{-1}, false}}) {
    std::string bytes = ir::serialize_onnx(softmax_model(axis, shape));
    onnx::ModelProto p;
    ASSERT_TRUE(p.ParseFromString(bytes));
    ASSERT_EQ(p.graph().node_size(), 1);
    EXPECT_EQ(p.opset_import(0).version(), 11);
    EXPECT_EQ(p.graph().node(0).attribute(0).i(), axis);
    EXPECT_EQ(bytes.find("qforge."), std::string::npos);
  }
  // At opset 13, the last axis means the same; the qforge attribute is dropped.
  for (auto [axis, shape] : {std::pair{int64_t{2}, true}, {int64_t{-1}, false}}) {
    onnx::ModelProto p;
    std::string bytes = ir::serialize_onnx(softmax_model(axis, shape), {.opset = 13});
    ASSERT_TRUE(p.ParseFromString(bytes));
    ASSERT_EQ(p.graph().node_size(), 1);
    EXPECT_EQ(p.graph().node(0).attribute_size(), 1);
    EXPECT_EQ(p.graph().node(0).attribute(0).i(), axis);
    EXPECT_EQ(bytes.find("qforge."), std::string::npos);
  }
  // Otherwise: Flatten at axis → Softmax over the last axis → Reshape back to Shape(x).
  for (bool shape : {true, false}) {
    onnx::ModelProto p;
    std::string bytes = ir::serialize_onnx(softmax_model(1, shape), {.opset = 13});
    ASSERT_TRUE(p.ParseFromString(bytes));
    EXPECT_EQ(bytes.find("qforge."), std::string::npos);
    std::vector<std::string> ops;
    for (const auto& n : p.graph().node()) ops.push_back(n.op_type());
    EXPECT_EQ(ops, (std::vector<std::string>{"Flatten", "Softmax", "Shape", "Reshape"}));
    EXPECT_EQ(p.graph().node(0).attribute(0).i(), 1);
    EXPECT_EQ(p.graph().node(1).attribute(0).i(), -1);
    EXPECT_EQ(p.graph().node(3).output(0), "y");
    ir::Model back = ir::parse_onnx(bytes, "e.onnx", "");  // valid, sorted, opset 13
    EXPECT_EQ(back.graph.nodes.size(), 4u);
  }
}

TEST(OnnxRoundTrip, SplitNumOutputsBelowOpset18) {
  auto build = [](int64_t size) {
    auto m = make_model(18);
    auto* g = m.mutable_graph();
    add_input(g, "x", TP::FLOAT, {size, 2});
    attr_i(add_node(g, "Split", {"x"}, {"a", "b", "c"}, "sp"), "num_outputs", 3);
    for (const char* o : {"a", "b", "c"}) g->add_output()->set_name(o);
    return parse(m);
  };
  onnx::ModelProto p;
  ASSERT_TRUE(p.ParseFromString(ir::serialize_onnx(build(6), {.opset = 13})));
  EXPECT_EQ(p.graph().node(0).input_size(), 1);  // equal parts: nothing to say
  EXPECT_EQ(p.graph().node(0).attribute_size(), 0);
  ASSERT_TRUE(p.ParseFromString(ir::serialize_onnx(build(5), {.opset = 13})));
  ASSERT_EQ(p.graph().node(0).input_size(), 2);  // opset 18 rule: ceil(5/3) = 2 → [2, 2, 1]
  const auto& t = p.graph().initializer(0);
  EXPECT_EQ(t.name(), p.graph().node(0).input(1));
  EXPECT_EQ(t.raw_data(), std::string("\x02\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0", 24));
  ASSERT_TRUE(p.ParseFromString(ir::serialize_onnx(build(6), {.opset = 18})));
  EXPECT_EQ(p.graph().node(0).attribute(0).name(), "num_outputs");
}

TEST(OnnxRoundTrip, Opset11OnlyFormsAreRefusedClearly) {
  auto m = make_model(11);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {1, 1, 2, 2});
  add_f32_init(g, "scales", {4}, {1, 1, 2, 2});
  attr_s(add_node(g, "Resize", {"x", "", "scales"}, {"y"}, "rs"), "coordinate_transformation_mode", "tf_half_pixel_for_nn");
  g->add_output()->set_name("y");
  ir::Model a = parse(m);
  onnx::ModelProto p;  // at its own opset 11 the node is written as it is
  ASSERT_TRUE(p.ParseFromString(ir::serialize_onnx(a)));
  EXPECT_EQ(p.graph().node(0).attribute(0).s(), "tf_half_pixel_for_nn");
  EXPECT_EQ(input_error([&] { ir::serialize_onnx(a, {.opset = 13}); }),
            "cannot export node 'rs' (Resize) at opset 13: coordinate_transformation_mode 'tf_half_pixel_for_nn' exists only in opset 11");
}

TEST(OnnxRoundTrip, SaveRefusesToOverwriteTheInput) {
  TempDir dir;
  ir::Model a = parse(rich_model(13));
  std::string in = dir.path("in.onnx"), out = dir.path("out.onnx");
  ir::save_onnx(a, in);
  ir::Model loaded = ir::load_onnx(in);
  expect_model_equal(a, loaded);
  std::string e = input_error([&] { ir::save_onnx(loaded, in, {}, in); });
  EXPECT_NE(e.find("refusing to overwrite the input file"), std::string::npos) << e;
  ir::save_onnx(loaded, out, {}, in);
  EXPECT_EQ(read_file(out), read_file(in));
}

}  // namespace
}  // namespace qforge
