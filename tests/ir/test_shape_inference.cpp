// Static shape inference over whole graphs. Expected shapes come from the ONNX operator specs by
// hand (Conv: out = (in + pads - kernel) / stride + 1; Flatten; Gemm; Reshape with -1). Tests that
// need ops another part registers skip (with a message) while those ops are missing.
#include <gtest/gtest.h>

#include "ir/shape_inference.h"
#include "onnx_test_util.h"
#include "runtime/op_registry.h"

namespace qforge {
namespace {

using namespace qforge::test;
using TP = onnx::TensorProto;

bool have_ops(std::initializer_list<const char*> ops, std::string* missing) {
  for (const char* op : ops)
    if (!runtime::find_op("", op)) {
      *missing = op;
      return false;
    }
  return true;
}

#define REQUIRE_OPS(...)                                                         \
  do {                                                                           \
    std::string missing_;                                                        \
    ASSERT_TRUE(have_ops({__VA_ARGS__}, &missing_)) << "op " << missing_ << " is not registered"; \
  } while (0)

const ir::ValueInfo& info(const ir::Model& m, const std::string& name) {
  const ir::ValueInfo* v = m.graph.find_value_info(name);
  if (!v) throw std::runtime_error("no value_info for " + name);
  return *v;
}

std::vector<ir::Dim> dims(std::initializer_list<D> ds) {
  std::vector<ir::Dim> r;
  for (const auto& d : ds) r.push_back(d.param.empty() ? ir::Dim::known(d.value) : ir::Dim::symbol(d.param));
  return r;
}

TEST(ShapeInference, UnsupportedOpNamesOpDomainOpsetAndNode) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {1});
  add_node(g, "NoSuchOp", {"x"}, {"y"}, "weird");
  add_output(g, "y", TP::FLOAT, {1});
  ir::Model r = parse(m);
  EXPECT_EQ(input_error([&] { ir::infer_shapes(r); }),
            "node 'weird' (NoSuchOp): operator NoSuchOp (domain 'ai.onnx', opset 13) is not supported");
}

TEST(ShapeInference, ConstantNodesNeedNoRegistry) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  attr_ints(add_node(g, "Constant", {}, {"k"}, "k"), "value_ints", {1, 2, 3});
  g->add_output()->set_name("k");
  ir::Model r = parse(m);
  ir::infer_shapes(r);
  EXPECT_EQ(r.graph.outputs[0].dtype, DType::s64);
  EXPECT_TRUE(r.graph.outputs[0].has_shape);
  EXPECT_EQ(r.graph.outputs[0].dims, dims({3}));
}

TEST(ShapeInference, ConvReluFlattenGemmKeepsSymbolicBatch) {
  REQUIRE_OPS("Conv", "Relu", "Flatten", "Gemm");
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {"N", 3, 8, 8});
  add_f32_init(g, "w", {4, 3, 3, 3}, std::vector<float>(108, 0.0f));
  add_f32_init(g, "fc", {10, 64}, std::vector<float>(640, 0.0f));
  auto* conv = add_node(g, "Conv", {"x", "w"}, {"c"}, "conv");
  attr_ints(conv, "kernel_shape", {3, 3});
  attr_ints(conv, "strides", {2, 2});
  attr_ints(conv, "pads", {1, 1, 1, 1});
  add_node(g, "Relu", {"c"}, {"r"}, "relu");
  add_node(g, "Flatten", {"r"}, {"f"}, "flat");
  attr_i(add_node(g, "Gemm", {"f", "fc"}, {"y"}, "gemm"), "transB", 1);
  g->add_output()->set_name("y");
  auto* stale = g->add_value_info();  // replaced by what inference finds
  stale->set_name("c");
  set_type(stale, TP::FLOAT, {1, 1});
  ir::Model r = parse(m);
  ir::infer_shapes(r);
  // (8 + 2 - 3) / 2 + 1 = 4
  EXPECT_EQ(info(r, "c").dims, dims({"N", 4, 4, 4}));
  EXPECT_EQ(info(r, "r").dims, dims({"N", 4, 4, 4}));
  EXPECT_EQ(info(r, "f").dims, dims({"N", 64}));  // Flatten at axis 1: [N, 4*4*4]
  EXPECT_EQ(r.graph.outputs[0].dtype, DType::f32);
  ASSERT_TRUE(r.graph.outputs[0].has_shape);
  EXPECT_EQ(r.graph.outputs[0].dims, dims({"N", 10}));
  EXPECT_EQ(r.graph.value_info.size(), 3u);  // c, r, f; 'y' is a graph output
}

TEST(ShapeInference, ShapeGatherConcatReshapeResolves) {
  REQUIRE_OPS("Shape", "Gather", "Concat", "Reshape", "Unsqueeze");
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {2, 3, 4, 5});
  add_i64_init(g, "zero", {}, {0});
  add_i64_init(g, "axes0", {1}, {0});
  add_i64_init(g, "minus1", {1}, {-1});
  add_node(g, "Shape", {"x"}, {"s"}, "shape");
  attr_i(add_node(g, "Gather", {"s", "zero"}, {"b"}, "gather"), "axis", 0);
  add_node(g, "Unsqueeze", {"b", "axes0"}, {"b1"}, "unsq");
  attr_i(add_node(g, "Concat", {"b1", "minus1"}, {"target"}, "concat"), "axis", 0);
  add_node(g, "Reshape", {"x", "target"}, {"y"}, "reshape");
  g->add_output()->set_name("y");
  ir::Model r = parse(m);
  ir::infer_shapes(r);
  EXPECT_EQ(info(r, "s").dims, dims({4}));
  EXPECT_EQ(info(r, "target").dims, dims({2}));
  EXPECT_EQ(r.graph.outputs[0].dims, dims({2, 60}));
}

TEST(ShapeInference, AddBroadcastAndReshapeWithSymbolicBatch) {
  REQUIRE_OPS("Add", "Reshape");
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {"N", 3, 4});
  add_f32_init(g, "bias", {4}, {1, 2, 3, 4});
  add_i64_init(g, "target", {2}, {0, -1});
  add_node(g, "Add", {"x", "bias"}, {"a"}, "add");
  add_node(g, "Reshape", {"a", "target"}, {"y"}, "reshape");
  add_output(g, "y", TP::FLOAT, {"N", 12});
  ir::Model r = parse(m);
  ir::infer_shapes(r);
  EXPECT_EQ(info(r, "a").dims, dims({"N", 3, 4}));
  EXPECT_EQ(r.graph.outputs[0].dims, dims({"N", 12}));  // declared, kept
}

}  // namespace
}  // namespace qforge
