// eval::analyze on a two-layer Gemm classifier and its hand-built QDQ twin. Every expected number
// (SQNR, cosine, accuracy, agreement, sensitivity) is computed in this file by direct loops over the
// ONNX definitions of Gemm / Relu / Add and of QuantizeLinear / DequantizeLinear (round half to even,
// saturate), never by the runtime or the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../quant/ptq_test_util.h"
#include "eval/analyze.h"

namespace qforge::eval {
namespace {

using namespace ptq_test;

constexpr int64_t kN = 40, kIn = 4, kHid = 3, kOut = 3;
constexpr float kSx = 0.1f, kSw1 = 0.1f, kSr = 0.15f, kSw2 = 0.2f;

// An in-memory labelled dataset of rows of x.
class MemDataset : public data::Dataset {
 public:
  MemDataset(Tensor x, std::vector<int32_t> labels, int classes)
      : x_(std::move(x)), labels_(std::move(labels)), classes_(classes) {}
  int64_t size() const override { return x_.dim(0); }
  Shape sample_shape() const override { return Shape(x_.shape().begin() + 1, x_.shape().end()); }
  bool has_labels() const override { return !labels_.empty(); }
  int num_classes() const override { return classes_; }
  data::Batch read(int64_t begin, int64_t n) override {
    n = std::min(n, size() - begin);
    const int64_t row = x_.numel() / x_.dim(0);
    Shape s = x_.shape();
    s[0] = n;
    data::Batch b{Tensor(DType::f32, s), {}};
    std::copy(x_.data<float>() + begin * row, x_.data<float>() + (begin + n) * row, b.x.data<float>());
    if (!labels_.empty()) b.labels.assign(labels_.begin() + begin, labels_.begin() + begin + n);
    return b;
  }
  std::string describe() const override { return "memory"; }

 private:
  Tensor x_;
  std::vector<int32_t> labels_;
  int classes_;
};

Tensor w1() { return randn({kHid, kIn}, 21, 0.7f); }
Tensor b1() { return Tensor::from_vector<float>(DType::f32, {kHid}, {0.1f, -0.05f, 0.2f}); }
Tensor w2() { return randn({kOut, kHid}, 22, 0.9f); }
Tensor b2() { return Tensor::from_vector<float>(DType::f32, {kOut}, {0.0f, 0.1f, -0.1f}); }
Tensor addc() { return Tensor::from_vector<float>(DType::f32, {kOut}, {0.3f, 0.0f, -0.3f}); }

// x [N,4] → Gemm1 (w1ᵀ, b1) → h → Relu → r → Gemm2 (w2ᵀ, b2) → g2 → Add(c) → y [N,3]
ir::Model fp32_model() {
  ir::Model m = empty_model("two_gemm");
  ir::Graph& g = m.graph;
  g.inputs = {value("x", {-1, kIn})};
  g.outputs = {value("y", {-1, kOut})};
  g.add_initializer("w1", w1());
  g.add_initializer("b1", b1());
  g.add_initializer("w2", w2());
  g.add_initializer("b2", b2());
  g.add_initializer("c", addc());
  g.nodes = {node("gemm1", "Gemm", {"x", "w1", "b1"}, {"h"}, {int_attr("transB", 1)}),
             node("relu", "Relu", {"h"}, {"r"}),
             node("gemm2", "Gemm", {"r", "w2", "b2"}, {"g2"}, {int_attr("transB", 1)}),
             node("add", "Add", {"g2", "c"}, {"y"})};
  return m;
}

// x, r quantized u8 (zero point 0); w1, w2 s8 per tensor; b1 int32 at s_x·s_w1; b2 and the Add stay float.
ir::Model qdq_model() {
  ir::Model m = fp32_model();
  ir::Graph& g = m.graph;
  quantize_activation(g, "r", kSr, 0);
  quantize_activation(g, "x", kSx, 0);
  quantize_weight(g, "w1", kSw1);
  quantize_weight(g, "w2", kSw2);
  quantize_bias(g, "b1", kSx * kSw1);
  g.topo_sort();
  return m;
}

// ---- the reference computation ----

// QuantizeLinear (one float32 division, round half to even, saturate) then DequantizeLinear.
double fq(double v, float s, double lo, double hi) {
  return std::clamp(static_cast<double>(std::nearbyint(static_cast<float>(v) / s)), lo, hi) * s;
}
double fq_u8(double v, float s) { return fq(v, s, 0, 255); }
double fq_s8(double v, float s) { return fq(v, s, -128, 127); }

struct Flags {
  bool x = false, w1 = false, b1 = false, r = false, w2 = false;
};

// y for one row of x with the chosen tensors quantized; also returns the intermediates.
struct Row {
  std::vector<double> h, r, g2, y;
};
Row forward(const float* x, const Flags& f) {
  const Tensor W1 = w1(), B1 = b1(), W2 = w2(), B2 = b2(), C = addc();
  Row row;
  for (int64_t j = 0; j < kHid; ++j) {
    double a = f.b1 ? std::nearbyint(B1.data<float>()[j] / (kSx * kSw1)) * (kSx * kSw1) : B1.data<float>()[j];
    for (int64_t k = 0; k < kIn; ++k) {
      const double xv = f.x ? fq_u8(x[k], kSx) : x[k];
      const double wv = f.w1 ? fq_s8(W1.data<float>()[j * kIn + k], kSw1) : W1.data<float>()[j * kIn + k];
      a += xv * wv;
    }
    row.h.push_back(a);
    row.r.push_back(std::max(a, 0.0));
  }
  for (int64_t o = 0; o < kOut; ++o) {
    double a = B2.data<float>()[o];
    for (int64_t j = 0; j < kHid; ++j) {
      const double rv = f.r ? fq_u8(row.r[j], kSr) : row.r[j];
      const double wv = f.w2 ? fq_s8(W2.data<float>()[o * kHid + j], kSw2) : W2.data<float>()[o * kHid + j];
      a += rv * wv;
    }
    row.g2.push_back(a);
    row.y.push_back(a + C.data<float>()[o]);
  }
  return row;
}

double sqnr(const std::vector<double>& x, const std::vector<double>& y) {
  double s = 0, e = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    s += x[i] * x[i];
    e += (x[i] - y[i]) * (x[i] - y[i]);
  }
  return 10 * std::log10(s / e);
}

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

Tensor inputs() { return uniform({kN, kIn}, 5, 0.0f, 1.0f); }

// Labels: the FP32 prediction, except every 5th sample gets the next class.
std::vector<int32_t> labels() {
  const Tensor x = inputs();
  std::vector<int32_t> l;
  for (int64_t i = 0; i < kN; ++i) {
    const int p = argmax(forward(x.data<float>() + i * kIn, {}).y);
    l.push_back(i % 5 == 0 ? (p + 1) % kOut : p);
  }
  return l;
}

// Concatenated `what` of every row, FP32 and with `f` quantized.
std::pair<std::vector<double>, std::vector<double>> values(const Flags& f, std::vector<double> Row::*what) {
  const Tensor x = inputs();
  std::vector<double> a, b;
  for (int64_t i = 0; i < kN; ++i) {
    const Row rf = forward(x.data<float>() + i * kIn, {}), rq = forward(x.data<float>() + i * kIn, f);
    a.insert(a.end(), (rf.*what).begin(), (rf.*what).end());
    b.insert(b.end(), (rq.*what).begin(), (rq.*what).end());
  }
  return {a, b};
}

const LayerError* layer(const AnalyzeResult& r, const std::string& v) {
  for (const LayerError& l : r.layers)
    if (l.value == v) return &l;
  return nullptr;
}

AnalyzeResult run_analyze(AnalyzeOptions o = {}) {
  MemDataset ds(inputs(), labels(), kOut);
  o.batch = 16;  // 16 + 16 + 8: a partial last batch
  return analyze(fp32_model(), qdq_model(), ds, o);
}

TEST(AnalyzeErrorStats, MatchesHandValues) {
  ErrorStats s;
  const std::vector<float> x = {1, 2, 3}, y = {1, 2, 4};
  s.update(x, y);
  EXPECT_NEAR(s.sqnr_db(), 10 * std::log10(14.0), 1e-12);  // Σx² = 14, Σ(x−y)² = 1
  EXPECT_NEAR(s.cosine(), 17.0 / std::sqrt(14.0 * 21.0), 1e-12);
  EXPECT_EQ(s.max_abs_err, 1.0);
  ErrorStats same;
  same.update(x, x);
  EXPECT_TRUE(same.exact());
  EXPECT_TRUE(std::isinf(same.sqnr_db()) && same.sqnr_db() > 0);
  EXPECT_DOUBLE_EQ(same.cosine(), 1.0);
}

TEST(Analyze, PerLayerErrorsMatchReference) {
  const AnalyzeResult r = run_analyze();
  EXPECT_EQ(r.samples, kN);
  EXPECT_EQ(r.batch, 16);
  EXPECT_EQ(r.quantized_values, 2);  // x and r
  EXPECT_EQ(r.quantized_nodes, 2);   // gemm1, gemm2 read DequantizeLinear outputs
  // Every FP32 value is there, in FP32 order.
  std::vector<std::string> names;
  for (const LayerError& l : r.layers) names.push_back(l.value);
  EXPECT_EQ(names, (std::vector<std::string>{"x", "h", "r", "g2", "y"}));

  const Flags all{true, true, true, true, true};
  EXPECT_TRUE(layer(r, "x")->quantized);
  EXPECT_TRUE(layer(r, "r")->quantized);
  EXPECT_FALSE(layer(r, "h")->quantized);
  EXPECT_EQ(layer(r, "h")->op_type, "Gemm");
  EXPECT_EQ(layer(r, "h")->fp32_op_type, "Gemm");
  // A quantized value is compared as its consumers read it: r_dequantized against the FP32 r.
  auto [r0, r1] = values(all, &Row::r);
  for (double& v : r1) v = fq_u8(v, kSr);
  EXPECT_NEAR(layer(r, "r")->error.sqnr_db(), sqnr(r0, r1), 0.05);
  const auto [h0, h1] = values(all, &Row::h);
  EXPECT_NEAR(layer(r, "h")->error.sqnr_db(), sqnr(h0, h1), 0.05);
  const auto [y0, y1] = values(all, &Row::y);
  EXPECT_NEAR(layer(r, "y")->error.sqnr_db(), sqnr(y0, y1), 0.05);
  EXPECT_NEAR(r.output.sqnr_db(), sqnr(y0, y1), 0.05);
  double dot = 0, n0 = 0, n1 = 0, emax = 0;
  for (size_t i = 0; i < y0.size(); ++i) {
    dot += y0[i] * y1[i];
    n0 += y0[i] * y0[i];
    n1 += y1[i] * y1[i];
    emax = std::max(emax, std::fabs(y0[i] - y1[i]));
  }
  EXPECT_NEAR(layer(r, "y")->error.cosine(), dot / std::sqrt(n0 * n1), 1e-5);
  EXPECT_NEAR(layer(r, "y")->error.max_abs_err, emax, 1e-4);

  // The own error of x: x vs its fake-quantized copy.
  const Tensor x = inputs();
  std::vector<double> xs, xq;
  for (int64_t i = 0; i < x.numel(); ++i) {
    xs.push_back(x.data<float>()[i]);
    xq.push_back(fq_u8(x.data<float>()[i], kSx));
  }
  EXPECT_NEAR(layer(r, "x")->own.sqnr_db(), sqnr(xs, xq), 1e-3);
  EXPECT_NEAR(layer(r, "x")->error.sqnr_db(), sqnr(xs, xq), 1e-3);  // the input itself is exact: only Q/DQ
  EXPECT_EQ(layer(r, "h")->own.count, 0);

  // Worst layers: the lowest SQNR first, exact ones never listed.
  const std::vector<size_t> worst = worst_layers(r, 10);
  EXPECT_EQ(worst.size(), 5u);
  for (size_t i = 1; i < worst.size(); ++i)
    EXPECT_LE(r.layers[worst[i - 1]].error.sqnr_db(), r.layers[worst[i]].error.sqnr_db());
  EXPECT_EQ(worst_layers(r, 2).size(), 2u);
}

TEST(Analyze, AccuracyAgreementAndDrift) {
  const AnalyzeResult r = run_analyze();
  ASSERT_TRUE(r.classification);
  const Tensor x = inputs();
  const std::vector<int32_t> l = labels();
  int64_t fp_ok = 0, q_ok = 0, agree = 0;
  for (int64_t i = 0; i < kN; ++i) {
    const int pf = argmax(forward(x.data<float>() + i * kIn, {}).y);
    const int pq = argmax(forward(x.data<float>() + i * kIn, {true, true, true, true, true}).y);
    fp_ok += pf == l[i];
    q_ok += pq == l[i];
    agree += pf == pq;
  }
  EXPECT_EQ(r.fp32->top1_correct(), fp_ok);
  EXPECT_EQ(r.quant->top1_correct(), q_ok);
  EXPECT_EQ(r.agree, agree);
  const std::vector<ClassDrift> d = class_drift(r);
  ASSERT_FALSE(d.empty());
  for (size_t i = 1; i < d.size(); ++i) EXPECT_LE(d[i - 1].drift(), d[i].drift());
}

TEST(Analyze, SensitivityQuantizesOneNodeAtATime) {
  const AnalyzeResult r = run_analyze();
  ASSERT_EQ(r.sensitivity.size(), 2u);
  const NodeSensitivity& s1 = r.sensitivity[0];
  EXPECT_EQ(s1.node, "gemm1");
  EXPECT_TRUE(s1.skipped.empty()) << s1.skipped;
  EXPECT_EQ(s1.quantized_inputs.size(), 3u);  // x, w1, b1
  const auto [a0, a1] = values({true, true, true, false, false}, &Row::y);
  EXPECT_NEAR(s1.output.sqnr_db(), sqnr(a0, a1), 0.05);
  const NodeSensitivity& s2 = r.sensitivity[1];
  EXPECT_EQ(s2.node, "gemm2");
  const auto [b0, b1v] = values({false, false, false, true, true}, &Row::y);
  EXPECT_NEAR(s2.output.sqnr_db(), sqnr(b0, b1v), 0.05);
  ASSERT_TRUE(s2.metrics.has_value());
  EXPECT_EQ(s2.metrics->samples(), kN);

  // The single-node model: the FP32 graph plus the Q/DQ nodes that feed gemm2 (Q and DQ of r, DQ of w2).
  const ir::Model m = single_node_model(fp32_model(), qdq_model(), "gemm2");
  EXPECT_EQ(m.graph.nodes.size(), fp32_model().graph.nodes.size() + 3);
  EXPECT_THROW(single_node_model(fp32_model(), qdq_model(), "nope"), InputError);

  AnalyzeOptions o;
  o.sensitivity = false;
  o.samples = 24;
  const AnalyzeResult quick = run_analyze(o);
  EXPECT_TRUE(quick.sensitivity.empty());
  EXPECT_EQ(quick.samples, 24);
}

TEST(Analyze, HandlesActivationFoldedByTheQuantizer) {
  // ONNX Runtime's QDQ form drops the Relu and lets gemm1 write 'r'; r's QuantizeLinear (zero point 0)
  // clips the negatives instead. Only r_dequantized means the same as the FP32 r.
  ir::Model q = qdq_model();
  std::erase_if(q.graph.nodes, [](const ir::Node& n) { return n.op_type == "Relu"; });
  for (ir::Node& n : q.graph.nodes)
    if (n.name == "gemm1") n.outputs[0] = "r";
  MemDataset ds(inputs(), labels(), kOut);
  const AnalyzeResult r = analyze(fp32_model(), q, ds);
  EXPECT_EQ(layer(r, "h"), nullptr);
  ASSERT_NE(layer(r, "r"), nullptr);
  EXPECT_EQ(layer(r, "r")->op_type, "Gemm");
  EXPECT_EQ(layer(r, "r")->fp32_op_type, "Relu");
  EXPECT_EQ(layer(r, "r")->own.count, 0);  // T is pre-activation here: no own error
  auto [r0, r1] = values({true, true, true, true, true}, &Row::r);
  for (double& v : r1) v = fq_u8(v, kSr);
  EXPECT_NEAR(layer(r, "r")->error.sqnr_db(), sqnr(r0, r1), 0.05);
  // gemm1 alone brings r's Q/DQ along (the folded Relu's clipping).
  ASSERT_EQ(r.sensitivity.size(), 2u);
  EXPECT_TRUE(r.sensitivity[0].skipped.empty()) << r.sensitivity[0].skipped;
  const auto [a0, a1] = values({true, true, true, true, false}, &Row::y);
  EXPECT_NEAR(r.sensitivity[0].output.sqnr_db(), sqnr(a0, a1), 0.05);
}

TEST(Analyze, FindsFallbackNodes) {
  const std::vector<FallbackNode> f = find_fallbacks(qdq_model().graph);
  ASSERT_EQ(f.size(), 1u);  // the Add; Relu is not a quantizable op, both Gemms read DQ outputs
  EXPECT_EQ(f[0].node, "add");
  EXPECT_NE(f[0].reason.find("no input is quantized"), std::string::npos) << f[0].reason;
  EXPECT_NE(f[0].reason.find("'g2' (output of Gemm 'gemm2')"), std::string::npos) << f[0].reason;
  EXPECT_NE(f[0].reason.find("'c' (f32 initializer)"), std::string::npos) << f[0].reason;
  const AnalyzeResult r = run_analyze();
  EXPECT_EQ(r.fallbacks.size(), 1u);
  // The integer runtime's view of the same model: what it lowers and what it runs in float.
  const runtime::IntegerPlan want = runtime::integer_plan(qdq_model());
  ASSERT_TRUE(r.integer.quantized);
  EXPECT_EQ(r.integer.integer_nodes, want.integer_nodes);
  ASSERT_EQ(r.integer.fallbacks.size(), want.fallbacks.size());
  EXPECT_FALSE(r.integer.fallbacks.empty()) << "the Add reads no dequantized value but feeds a Q";
}

TEST(Analyze, BadInput) {
  MemDataset ds(inputs(), labels(), kOut);
  EXPECT_THROW(analyze(fp32_model(), fp32_model(), ds), InputError);  // not QDQ
  ir::Model renamed = qdq_model();
  renamed.graph.inputs[0].name = "image";
  for (ir::Node& n : renamed.graph.nodes)
    for (std::string& in : n.inputs)
      if (in == "x") in = "image";
  try {
    analyze(fp32_model(), renamed, ds);
    FAIL() << "inputs differ";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("inputs differ"), std::string::npos) << e.what();
  }
  MemDataset wrong(uniform({8, 5}, 1, 0, 1), {}, 0);
  try {
    analyze(fp32_model(), qdq_model(), wrong);
    FAIL() << "dataset mismatch";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[N,5]"), std::string::npos) << e.what();
  }
  // Unlabelled data: no accuracy, the errors still measured.
  MemDataset unlabelled(inputs(), {}, 0);
  const AnalyzeResult r = analyze(fp32_model(), qdq_model(), unlabelled);
  EXPECT_FALSE(r.classification);
  EXPECT_FALSE(r.output.exact());
}

}  // namespace
}  // namespace qforge::eval
