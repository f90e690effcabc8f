// quantize_model / quantize_pipeline on the tiny models of quantizer_test_models.h: the QDQ structure
// each mode writes (the brief's "QDQ form"), weight and bias parameters checked against values worked
// out here from the definitions (absmax / 127 of the BN-folded weights, s_in · s_w), exclusions, bias
// overflow handling, byte-identical outputs. Numerical agreement with ONNX Runtime is the oracle test's
// job (tests/oracle/quantize_oracle.py).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ir/onnx_io.h"
#include "quant/quantize_pipeline.h"
#include "quantizer_test_models.h"
#include "runtime/session.h"

namespace qforge::quant {
namespace {

using testmodels::tiny_cnn;
using testmodels::tiny_mlp;
using testmodels::uniform;

BatchSourceFactory random_batches(Shape sample, int batches, float lo, float hi) {
  return [=]() -> BatchSource {
    auto i = std::make_shared<int>(0);
    return [=]() -> std::vector<Tensor> {
      if (*i >= batches) return {};
      Shape s = sample;
      s.insert(s.begin(), 8);
      return {uniform(s, lo, hi, static_cast<uint32_t>(100 + (*i)++))};
    };
  };
}

QuantizeResult quantize_cnn(const Recipe& r) {
  const BatchSourceFactory data = random_batches({1, 8, 8}, 3, 0.0f, 1.0f);
  return quantize_pipeline(tiny_cnn(), r, &data, nullptr, 1).result;
}

const ir::Node* producer(const ir::Graph& g, const std::string& v) {
  const int i = g.producer(v);
  return i < 0 ? nullptr : &g.nodes[i];
}

const ir::Node* by_name(const ir::Graph& g, const std::string& name) {
  for (const auto& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

const NodeReport& report_of(const QuantReport& r, const std::string& node) {
  for (const auto& n : r.nodes)
    if (n.node == node) return n;
  static NodeReport none;
  ADD_FAILURE() << "no report for " << node;
  return none;
}

// The DequantizeLinear feeding input `i` of node `n`, or nullptr.
const ir::Node* dq_of(const ir::Graph& g, const ir::Node& n, size_t i) {
  const ir::Node* p = producer(g, n.input(i));
  return p && p->op_type == "DequantizeLinear" ? p : nullptr;
}

float scalar(const ir::Graph& g, const std::string& name) { return g.initializer(name)->data<float>()[0]; }

TEST(Quantizer, Int8StaticWritesTheQdqForm) {
  const QuantizeResult res = quantize_cnn(recipe_from_preset("int8"));
  const ir::Graph& g = res.model.graph;
  for (const auto& n : g.nodes) EXPECT_NE(n.op_type, "BatchNormalization") << "BN must be folded";
  EXPECT_EQ(res.report.batch_norms_folded, 1);
  // Every Conv / Gemm / Add / GlobalAveragePool reads only DequantizeLinear outputs.
  for (const char* name : {"conv1", "dw", "fc", "add", "gap"}) {
    const ir::Node* n = by_name(g, name);
    ASSERT_NE(n, nullptr) << name;
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (!n->inputs[i].empty() && !(n->op_type == "Clip" && i > 0))
        EXPECT_NE(dq_of(g, *n, i), nullptr) << name << " input " << i << " " << n->inputs[i];
    EXPECT_EQ(report_of(res.report, name).status, NodeStatus::quantized) << name;
  }
  // The Q/DQ pair of x, named per the contract.
  const ir::Node* conv1 = by_name(g, "conv1");
  EXPECT_EQ(conv1->inputs[0], "x_dq");
  const ir::Node* q = by_name(g, "x_Q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->inputs[0], "x");
  EXPECT_EQ(q->outputs[0], "x_q");
  EXPECT_EQ(g.initializer("x_zp")->dtype(), DType::u8);
  // conv1 → relu1 is fused: the Conv output (bn1 after folding) has no Q; relu1's output does.
  EXPECT_EQ(conv1->outputs[0], "bn1");
  EXPECT_EQ(report_of(res.report, "relu1").status, NodeStatus::fused);
  EXPECT_EQ(report_of(res.report, "clip").status, NodeStatus::fused);
  EXPECT_EQ(by_name(g, "bn1_Q"), nullptr);
  ASSERT_NE(by_name(g, "r1_Q"), nullptr);
  // MaxPool and Flatten pass integers through: their outputs share the input's parameters.
  EXPECT_EQ(scalar(g, "p1_scale"), scalar(g, "r1_scale"));
  EXPECT_EQ(scalar(g, "f1_scale"), scalar(g, "g1_scale"));
  EXPECT_EQ(by_name(g, "pool1")->inputs[0], "r1_dq");
  // The graph output keeps its name: the DQ writes it, the Gemm writes logits_QuantizeLinear_Input.
  EXPECT_EQ(by_name(g, "fc")->outputs[0], "logits_QuantizeLinear_Input");
  EXPECT_EQ(producer(g, "logits")->op_type, "DequantizeLinear");
  // Every FP32 value name other than the folded BN input still exists.
  std::set<std::string> values;
  for (const auto& n : g.nodes) values.insert(n.outputs.begin(), n.outputs.end());
  for (const char* v : {"bn1", "r1", "p1", "d1", "r2", "a1", "g1", "f1", "logits"}) EXPECT_TRUE(values.count(v)) << v;
  // Metadata carries the recipe.
  ASSERT_EQ(res.model.metadata_props.size(), 1u);
  EXPECT_EQ(res.model.metadata_props[0].first, "qforge.recipe");
  EXPECT_EQ(recipe_from_json(nlohmann::ordered_json::parse(res.model.metadata_props[0].second), "meta"),
            recipe_from_preset("int8"));
  EXPECT_EQ(res.report.opset, 17);
}

TEST(Quantizer, ConvWeightsPerChannelAndInt32BiasFromTheFoldedConv) {
  const QuantizeResult res = quantize_cnn(recipe_from_preset("int8"));
  const ir::Graph& g = res.model.graph;
  const ir::Model fp = tiny_cnn();
  const ir::Graph& f = fp.graph;
  // BN folding by hand: s = gamma / sqrt(var + 1e-5); W' = W s; B' = (B - mean) s + beta.
  const ir::Node* wdq = dq_of(g, *by_name(g, "conv1"), 1);
  ASSERT_NE(wdq, nullptr);
  EXPECT_EQ(wdq->attr_i("axis", 1), 0);
  const Tensor& wq = *g.initializer(wdq->inputs[0]);
  const Tensor& ws = *g.initializer(wdq->inputs[1]);
  EXPECT_EQ(wdq->inputs.size(), 2u) << "symmetric s8 weight: no zero-point input (0 by the spec)";
  EXPECT_EQ(wdq->inputs[0], "w1_bnfold_q");  // the BN-folded weight
  EXPECT_EQ(wdq->name, "w1_bnfold_DQ");
  ASSERT_EQ(wq.dtype(), DType::s8);
  ASSERT_EQ(ws.shape(), Shape{4});
  const ir::Node* bdq = dq_of(g, *by_name(g, "conv1"), 2);
  ASSERT_NE(bdq, nullptr);
  const Tensor& bq = *g.initializer(bdq->inputs[0]);
  const Tensor& bs = *g.initializer(bdq->inputs[1]);
  EXPECT_EQ(bdq->inputs.size(), 2u) << "int32 bias: no zero-point input (0 by the spec)";
  ASSERT_EQ(bq.dtype(), DType::s32);
  const float sx = scalar(g, "x_scale");
  for (int c = 0; c < 4; ++c) {
    const double s = f.initializer("bn_scale")->data<float>()[c] / std::sqrt(f.initializer("bn_var")->data<float>()[c] + 1e-5);
    double absmax = 0;
    for (int k = 0; k < 9; ++k) absmax = std::max(absmax, std::fabs(f.initializer("w1")->data<float>()[c * 9 + k] * s));
    EXPECT_NEAR(ws.data<float>()[c], absmax / 127, 1e-6 * absmax) << c;
    int max_code = 0;
    for (int k = 0; k < 9; ++k) max_code = std::max(max_code, std::abs(int{wq.data<int8_t>()[c * 9 + k]}));
    EXPECT_EQ(max_code, 127) << "symmetric per channel: the largest weight maps to ±127";
    EXPECT_EQ(bs.data<float>()[c], sx * ws.data<float>()[c]) << "bias scale = s_in · s_w";
    const double b = (f.initializer("b1")->data<float>()[c] - f.initializer("bn_mean")->data<float>()[c]) * s +
                     f.initializer("bn_bias")->data<float>()[c];
    EXPECT_NEAR(bq.data<int32_t>()[c], b / bs.data<float>()[c], 0.51) << c;
  }
}

TEST(Quantizer, PerTensorGivesOneWeightScale) {
  Recipe r = recipe_from_preset("int8");
  r.weights.granularity = QGranularity::per_tensor;
  const QuantizeResult res = quantize_cnn(r);
  const ir::Node* wdq = dq_of(res.model.graph, *by_name(res.model.graph, "conv1"), 1);
  EXPECT_EQ(res.model.graph.initializer(wdq->inputs[1])->numel(), 1);
  EXPECT_FALSE(wdq->has_attr("axis"));
  EXPECT_EQ(report_of(res.report, "conv1").weights, "s8 per-tensor");
}

TEST(Quantizer, ExclusionsByNameOpTypeAndFirstLast) {
  Recipe r = recipe_from_preset("int8");
  r.exclude = {"fc", "GlobalAveragePool"};
  QuantizeResult res = quantize_cnn(r);
  EXPECT_EQ(report_of(res.report, "fc").status, NodeStatus::float_);
  EXPECT_EQ(report_of(res.report, "fc").reason, "excluded by name ('fc')");
  EXPECT_EQ(report_of(res.report, "gap").reason, "excluded by op type ('GlobalAveragePool')");
  EXPECT_EQ(by_name(res.model.graph, "fc")->inputs[1], "wfc") << "an excluded node keeps its float weight";
  EXPECT_EQ(report_of(res.report, "flat").status, NodeStatus::float_) << "nothing to pass through";

  r = recipe_from_preset("int8");
  r.exclude_first_last = true;
  res = quantize_cnn(r);
  EXPECT_EQ(report_of(res.report, "conv1").status, NodeStatus::float_);
  EXPECT_EQ(report_of(res.report, "fc").status, NodeStatus::float_);
  EXPECT_EQ(report_of(res.report, "dw").status, NodeStatus::quantized);
  EXPECT_EQ(report_of(res.report, "relu1").status, NodeStatus::float_) << "its input is not quantized";

  r = recipe_from_preset("int8");
  r.overrides["dw"] = NodeOverride{false, WeightSpec{DType::s8, QGranularity::per_tensor, 0, true}};
  r.overrides["fc"] = NodeOverride{true, std::nullopt};
  res = quantize_cnn(r);
  EXPECT_EQ(report_of(res.report, "dw").weights, "s8 per-tensor");
  EXPECT_EQ(report_of(res.report, "conv1").weights, "s8 per-channel");
  EXPECT_EQ(report_of(res.report, "fc").status, NodeStatus::float_);

  for (const char* bad : {"nosuchnode", "Softmax"}) {
    r = recipe_from_preset("int8");
    r.exclude = {bad};
    EXPECT_THROW(quantize_cnn(r), InputError) << bad;
  }
}

TEST(Quantizer, BiasThatWouldOverflowInt32EnlargesTheWeightScale) {
  ir::Model m = tiny_mlp();
  m.graph.initializers["b2"].data<float>()[1] = 3.0e6f;  // b / (s_x · s_w) far beyond 2^31
  CalibTable t;
  for (const char* v : {"x", "hr", "y"}) t.tensors[v] = CalibEntry{{0.0f, 1e-3f}, "minmax", 1};
  t.tensors["x"].range = {-1e-3f, 1e-3f};
  t.tensors["h"] = CalibEntry{{-1.0f, 1.0f}, "minmax", 1};
  t.tensors["hb"] = CalibEntry{{-1.0f, 1.0f}, "minmax", 1};
  t.tensors["y"].range = {-1.0f, 4.0e6f};
  const QuantizeResult res = quantize_model(m, recipe_from_preset("int8"), &t);
  ASSERT_EQ(res.report.bias_adjustments.size(), 1u);
  EXPECT_EQ(res.report.bias_adjustments[0].node, "fc2");
  EXPECT_EQ(res.report.bias_adjustments[0].channels, 1);
  EXPECT_GT(res.report.bias_adjustments[0].max_ratio, 1.0);
  const ir::Graph& g = res.model.graph;
  const ir::Node* bdq = dq_of(g, *by_name(g, "fc2"), 2);
  ASSERT_NE(bdq, nullptr);
  const double scale = g.initializer(bdq->inputs[1])->data<float>()[1];
  const int32_t q = g.initializer(bdq->inputs[0])->data<int32_t>()[1];
  EXPECT_LT(std::abs(static_cast<double>(q)), 2147483647.0);
  EXPECT_NEAR(q * scale, 3.0e6, 3.0e6 * 1e-6) << "the bias survives within rounding";
}

TEST(Quantizer, SameInputsGiveTheSameBytes) {
  for (const char* preset : {"int8", "w4a8", "int8-dynamic", "w4a16", "nf4", "fp16"}) {
    const std::string a = ir::serialize_onnx(quantize_cnn(recipe_from_preset(preset)).model);
    const std::string b = ir::serialize_onnx(quantize_cnn(recipe_from_preset(preset)).model);
    EXPECT_EQ(a, b) << preset;
  }
}

TEST(Quantizer, DynamicWritesMatMulIntegerForMatMulAndGemm) {
  const QuantizeResult res = quantize_model(tiny_mlp(), recipe_from_preset("int8-dynamic"), nullptr);
  const ir::Graph& g = res.model.graph;
  std::multiset<std::string> ops;
  for (const auto& n : g.nodes) ops.insert(n.op_type);
  EXPECT_EQ(ops.count("DynamicQuantizeLinear"), 2u);
  EXPECT_EQ(ops.count("MatMulInteger"), 2u);
  EXPECT_EQ(ops.count("Cast"), 2u);
  EXPECT_EQ(ops.count("Mul"), 4u);
  EXPECT_EQ(ops.count("Add"), 2u) << "add1 stays, fc2's bias is added after the scales";
  const ir::Node* mmi = producer(g, producer(g, producer(g, "h")->inputs[0])->inputs[0]);
  ASSERT_EQ(mmi->op_type, "MatMulInteger");
  EXPECT_EQ(g.initializer(mmi->inputs[1])->shape(), (Shape{16, 8}));
  EXPECT_EQ(g.initializer(mmi->inputs[3])->shape(), (Shape{8}));
  EXPECT_EQ(report_of(res.report, "add1").status, NodeStatus::float_);
  // Runs in qforge close to FP32.
  runtime::Session fp(tiny_mlp()), q(res.model);
  const Tensor x = uniform({5, 16}, -1, 1, 7);
  const Tensor a = fp.run({x})[0], b = q.run({x})[0];
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 0.03);
}

TEST(Quantizer, WeightOnlyInt4PerGroupUsesBlockedDequantizeLinear) {
  Recipe r = recipe_from_preset("w4a16");
  r.weights.group_size = 4;
  const QuantizeResult res = quantize_model(tiny_mlp(), r, nullptr);
  const ir::Graph& g = res.model.graph;
  EXPECT_EQ(res.report.opset, 21);
  const ir::Node* dq = dq_of(g, *by_name(g, "mm1"), 1);
  ASSERT_NE(dq, nullptr);
  EXPECT_EQ(dq->attr_i("block_size", 0), 4);
  EXPECT_EQ(dq->attr_i("axis", 1), 0) << "blocks run along K, MatMul's axis 0";
  EXPECT_EQ(g.initializer(dq->inputs[0])->dtype(), DType::s4);
  EXPECT_EQ(g.initializer(dq->inputs[1])->shape(), (Shape{4, 8}));
  EXPECT_EQ(dq_of(g, *by_name(g, "mm1"), 0), nullptr) << "activations stay float";
  runtime::Session fp(tiny_mlp()), q(res.model);
  const Tensor x = uniform({5, 16}, -1, 1, 7);
  const Tensor a = fp.run({x})[0], b = q.run({x})[0];
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 0.1);
}

TEST(Quantizer, Nf4UsesMatMulBnb4WithHighNibbleFirst) {
  ir::Model m = tiny_mlp();
  // w1 [16, 8]: column 0 (W^T row 0 → the first 16 codes) holds ±1 in a pattern with known NF4 codes.
  Tensor& w = m.graph.initializers["w1"];
  for (int k = 0; k < 16; ++k) w.data<float>()[k * 8] = (k % 2 == 0) ? 1.0f : -1.0f;
  Recipe r = recipe_from_preset("nf4");
  r.weights.group_size = 16;
  const QuantizeResult res = quantize_model(m, r, nullptr);
  const ir::Graph& g = res.model.graph;
  const ir::Node* bnb = producer(g, "h");
  ASSERT_EQ(bnb->op_type, "MatMulBnb4");
  EXPECT_EQ(bnb->domain, "com.microsoft");
  EXPECT_EQ(bnb->attr_i("K", 0), 16);
  EXPECT_EQ(bnb->attr_i("N", 0), 8);
  EXPECT_EQ(bnb->attr_i("quant_type", 0), 1);
  const Tensor& packed = *g.initializer(bnb->inputs[1]);
  EXPECT_EQ(packed.numel(), 64);
  EXPECT_EQ(packed.data<uint8_t>()[0], 0xF0) << "+1 → code 15 in the high nibble, -1 → code 0 in the low one";
  EXPECT_EQ(g.initializer(bnb->inputs[2])->data<float>()[0], 1.0f);
  const ir::Node* fc2 = producer(g, "y");
  EXPECT_EQ(fc2->op_type, "Add") << "Gemm → MatMulBnb4 + Add(bias)";
  runtime::Session fp(m), q(res.model);
  const Tensor x = uniform({3, 16}, -1, 1, 9);
  const Tensor a = fp.run({x})[0], b = q.run({x})[0];
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 0.3);
}

TEST(Quantizer, Fp16StoresHalfWeightsBehindCasts) {
  const QuantizeResult res = quantize_model(tiny_mlp(), recipe_from_preset("fp16"), nullptr);
  const ir::Graph& g = res.model.graph;
  const ir::Node* cast = producer(g, "w1");
  ASSERT_NE(cast, nullptr);
  EXPECT_EQ(cast->op_type, "Cast");
  EXPECT_EQ(g.initializer(cast->inputs[0])->dtype(), DType::f16);
  EXPECT_EQ(g.initializer("w1"), nullptr);
  EXPECT_EQ(g.inputs[0].dtype, DType::f32);
  runtime::Session fp(tiny_mlp()), q(res.model);
  const Tensor x = uniform({3, 16}, -1, 1, 9);
  const Tensor a = fp.run({x})[0], b = q.run({x})[0];
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 2e-3);
}

TEST(Quantizer, BadInputsAreInputErrors) {
  // Nothing to quantize.
  ir::Model relu_only = tiny_mlp();
  relu_only.graph.nodes = {testmodels::make_node("relu", "Relu", {"x"}, {"y"})};
  relu_only.graph.initializers.clear();
  relu_only.graph.initializer_order.clear();
  EXPECT_THROW(quantize_model(relu_only, recipe_from_preset("int8-dynamic"), nullptr), InputError);
  // Static without a table, and a table without a needed tensor.
  EXPECT_THROW(quantize_model(tiny_mlp(), recipe_from_preset("int8"), nullptr), InputError);
  CalibTable t;
  t.tensors["x"] = CalibEntry{{-1, 1}, "minmax", 1};
  try {
    quantize_model(tiny_mlp(), recipe_from_preset("int8"), &t);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no range for tensor"), std::string::npos) << e.what();
  }
  // Already quantized.
  const QuantizeResult q = quantize_model(tiny_mlp(), recipe_from_preset("int8-dynamic"), nullptr);
  EXPECT_THROW(quantize_model(q.model, recipe_from_preset("int8-dynamic"), nullptr), InputError);
  // An opset below what the export needs.
  Recipe r = recipe_from_preset("w4a16");
  r.opset = 17;
  EXPECT_THROW(quantize_model(tiny_mlp(), r, nullptr), InputError);
}

TEST(Quantizer, CalibrationTensorsFollowTheAutoMethod) {
  const std::map<std::string, std::string> t = calibration_tensors(tiny_cnn(), recipe_from_preset("int8"));
  EXPECT_EQ(t.at("x"), "minmax");
  EXPECT_EQ(t.at("logits"), "minmax");
  EXPECT_EQ(t.at("r1"), "percentile");
  EXPECT_EQ(t.at("r2"), "minmax") << "Clip(0, 6): bounded by the op";
  EXPECT_EQ(t.count("p1"), 0u) << "shares r1's parameters";
  EXPECT_EQ(t.count("bn1"), 0u) << "fused into relu1";
  Recipe e = recipe_from_preset("int8");
  e.activations.method = "entropy";
  const std::map<std::string, std::string> te = calibration_tensors(tiny_cnn(), e);
  EXPECT_EQ(te.at("r1"), "entropy");
  EXPECT_EQ(te.at("a1"), "entropy");
  EXPECT_EQ(te.at("r2"), "minmax");
  EXPECT_EQ(te.at("logits"), "minmax");
  e.activations.method = "mse";
  EXPECT_EQ(calibration_tensors(tiny_cnn(), e).at("r2"), "mse");
}

}  // namespace
}  // namespace qforge::quant
