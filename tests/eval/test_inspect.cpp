// summarize_model / dims_str / summarize_tensor on hand-built models and tensors.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "eval/inspect.h"
#include "tiny_model.h"

namespace qforge::eval {
namespace {

TEST(InspectModel, HistogramParametersAndBytesByDtype) {
  ir::Model m = testing_models::flatten_bias_classifier();
  // Two more Add nodes, a custom-domain node and an s8 initializer of 10 elements.
  for (int i = 0; i < 2; ++i) {
    ir::Node n = m.graph.nodes[1];
    n.name = "add" + std::to_string(i);
    m.graph.nodes.push_back(n);
  }
  ir::Node custom;
  custom.name = "c";
  custom.op_type = "NoSuchOp";
  custom.domain = "com.example";
  m.graph.nodes.push_back(custom);
  m.graph.add_initializer("q", Tensor(DType::s8, {2, 5}));

  ModelSummary s = summarize_model(m);
  EXPECT_EQ(s.nodes, 5);
  ASSERT_EQ(s.ops.size(), 3u);
  EXPECT_EQ(s.ops[0].op_type, "Add");  // most frequent first
  EXPECT_EQ(s.ops[0].count, 3);
  EXPECT_EQ(s.ops[1].op_type, "Flatten");  // then by domain and name: "" < "com.example"
  EXPECT_EQ(s.ops[2].op_type, "NoSuchOp");
  EXPECT_EQ(s.ops[2].domain, "com.example");
  EXPECT_FALSE(s.ops[2].supported);
  EXPECT_EQ(s.unsupported_nodes, 1);
  EXPECT_EQ(s.parameters, 4);  // floating initializers only
  EXPECT_EQ(s.initializers, 2);
  ASSERT_EQ(s.bytes_by_dtype.size(), 2u);
  EXPECT_EQ(s.bytes_by_dtype[0].dtype, DType::f32);  // by ONNX dtype code: f32=1, s8=3
  EXPECT_EQ(s.bytes_by_dtype[0].bytes, 16);
  EXPECT_EQ(s.bytes_by_dtype[1].dtype, DType::s8);
  EXPECT_EQ(s.bytes_by_dtype[1].elements, 10);
  EXPECT_EQ(s.bytes_by_dtype[1].bytes, 10);
  EXPECT_EQ(s.total_bytes, 26);
  ASSERT_EQ(s.inputs.size(), 1u);  // initializers are not data inputs
  EXPECT_EQ(s.inputs[0].name, "x");
  EXPECT_EQ(s.producer_name, "qforge-tests");
  ASSERT_EQ(s.opsets.size(), 1u);
  EXPECT_EQ(s.opsets[0].version, 17);
}

TEST(InspectModel, InitializerListedAsGraphInputIsNotADataInput) {
  ir::Model m = testing_models::flatten_bias_classifier();
  m.graph.inputs.push_back(testing_models::value("bias", {ir::Dim::known(4)}));
  ModelSummary s = summarize_model(m);
  ASSERT_EQ(s.inputs.size(), 1u);
  EXPECT_EQ(s.inputs[0].name, "x");
}

TEST(InspectModel, DimsPrintSymbolsByName) {
  ir::ValueInfo v = testing_models::value("x", {ir::Dim::symbol("batch"), ir::Dim::known(3), ir::Dim{}});
  EXPECT_EQ(dims_str(v), "[batch,3,?]");
  v.dims.clear();
  EXPECT_EQ(dims_str(v), "[]");
  v.has_shape = false;
  EXPECT_EQ(dims_str(v), "unknown");
}

TEST(InspectTensor, MinMaxMeanSkipNaN) {
  Tensor t = Tensor::from_vector<float>(DType::f32, {2, 2}, {1.0f, -3.0f, std::nanf(""), 5.0f});
  TensorSummary s = summarize_tensor(t);
  EXPECT_TRUE(s.has_stats);
  EXPECT_EQ(s.elements, 4);
  EXPECT_EQ(s.nan_count, 1);
  EXPECT_DOUBLE_EQ(s.min, -3.0);
  EXPECT_DOUBLE_EQ(s.max, 5.0);
  EXPECT_DOUBLE_EQ(s.mean, 1.0);  // (1 - 3 + 5) / 3
}

TEST(InspectTensor, IntegerAndEmptyTensors) {
  Tensor t = Tensor::from_vector<int64_t>(DType::s64, {3}, {4, -2, 7});
  TensorSummary s = summarize_tensor(t);
  EXPECT_DOUBLE_EQ(s.min, -2.0);
  EXPECT_DOUBLE_EQ(s.max, 7.0);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  TensorSummary e = summarize_tensor(Tensor(DType::f32, {0, 3}));
  EXPECT_FALSE(e.has_stats);
  EXPECT_EQ(e.elements, 0);
}

}  // namespace
}  // namespace qforge::eval

// ---- the integer-runtime plan of a quantized model (fallbacks listed with their reasons) ----

#include "../runtime/qdq_test_util.h"

namespace qforge::eval {
namespace {

TEST(InspectModel, QuantizedModelListsIntegerNodesAndFallbacks) {
  using qdq_test::ints;
  qdq_test::QdqBuilder b({1, 3, 8, 8}, 29);
  std::string h = b.qdq("x", 0.03f, 128);
  h = b.op("Conv", {h, b.weight({6, 3, 3, 3}, 0), b.bias(0.03f)}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1})});
  h = b.qdq(h, 0.05f, 128);
  h = b.qdq(b.op("Softmax", {h}, {qdq_test::int1("axis", 1)}), 1.f / 256, 0);  // no integer kernel
  b.output(h);
  const ModelSummary s = summarize_model(b.m);
  ASSERT_TRUE(s.integer.quantized);
  EXPECT_EQ(s.integer.error, "");
  EXPECT_EQ(s.integer.integer_nodes, 1);
  ASSERT_EQ(s.integer.fallbacks.size(), 1u);
  EXPECT_EQ(s.integer.fallbacks[0].op_type, "Softmax");
  EXPECT_NE(s.integer.fallbacks[0].reason.find("no integer kernel for Softmax"), std::string::npos);
  // A scale of zero: the plan carries the error a Session would raise, the summary still comes.
  for (auto& [name, t] : b.m.graph.initializers)
    if (name.rfind("scale", 0) == 0) t.data<float>()[0] = 0;
  const ModelSummary bad = summarize_model(b.m);
  EXPECT_NE(bad.integer.error.find("scale"), std::string::npos) << bad.integer.error;
  // An FP32 model has no plan.
  EXPECT_FALSE(summarize_model(testing_models::flatten_bias_classifier()).integer.quantized);
}

}  // namespace
}  // namespace qforge::eval
