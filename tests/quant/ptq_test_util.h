// Builders shared by the PTQ algorithm and analyze tests: small graphs written node by node, seeded
// random tensors, hand-made QDQ (the brief's form: T → QuantizeLinear → T_quantized →
// DequantizeLinear → T_dequantized; weights as W_quantized + W_scale + W_zero_point → DequantizeLinear),
// and error measures computed here from their definitions.
#pragma once
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/calibrate.h"
#include "quant/quantize.h"
#include "runtime/session.h"

namespace qforge::ptq_test {

inline ir::ValueInfo value(const std::string& name, std::vector<int64_t> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  for (int64_t d : dims) v.dims.push_back(d < 0 ? ir::Dim::symbol("N") : ir::Dim::known(d));
  return v;
}

inline ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

inline ir::Attribute ints_attr(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::ints;
  a.ints = std::move(v);
  return a;
}

inline ir::Attribute float_attr(const std::string& name, float v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::f;
  a.f = v;
  return a;
}

inline ir::Node node(const std::string& name, const std::string& op, std::vector<std::string> in,
                     std::vector<std::string> out, std::vector<ir::Attribute> attrs = {}) {
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  return n;
}

inline ir::Model empty_model(const std::string& name, int64_t opset = 17) {
  ir::Model m;
  m.opsets = {{"", opset}};
  m.producer_name = "qforge-tests";
  m.graph.name = name;
  return m;
}

// Normal(0, 1) · scale, seeded.
inline Tensor randn(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (float& v : t.span<float>()) v = d(gen) * scale;
  return t;
}

// Uniform [lo, hi), seeded.
inline Tensor uniform(Shape shape, uint32_t seed, float lo, float hi) {
  Tensor t(DType::f32, std::move(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& v : t.span<float>()) v = d(gen);
  return t;
}

inline std::vector<Tensor> run(const ir::Model& m, const std::vector<Tensor>& inputs) {
  runtime::Session s(m);
  return s.run(inputs);
}

// SQNR in dB of `got` against the reference: 10·log10(Σ ref² / Σ (ref − got)²).
inline double sqnr_db(const Tensor& ref, const Tensor& got) {
  double sig = 0, err = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double r = ref.data<float>()[i], g = got.data<float>()[i];
    sig += r * r;
    err += (r - g) * (r - g);
  }
  return 10.0 * std::log10(sig / err);
}

inline double max_rel_diff(const Tensor& a, const Tensor& b) {
  double amax = 0, d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    amax = std::max(amax, std::fabs(static_cast<double>(a.data<float>()[i])));
    d = std::max(d, std::fabs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  }
  return d / amax;
}

// The batches, in order, on every call of the factory.
inline quant::BatchSourceFactory batches_of(std::vector<Tensor> xs) {
  return [xs]() -> quant::BatchSource {
    auto i = std::make_shared<size_t>(0);
    return [xs, i]() -> std::vector<Tensor> {
      if (*i >= xs.size()) return {};
      return {xs[(*i)++]};
    };
  };
}

// Per-tensor symmetric s8 fake quantization (quant/ library, not the code under test).
inline Tensor fake_quant_s8_per_tensor(const Tensor& w) {
  quant::QScheme s;
  s.format = DType::s8;
  s.symmetric = true;
  return quant::fake_quantize(w, quant::choose_qparams_per_tensor(w, s, "w"));
}

// Replaces the consumers' reads of activation `t` by T → QuantizeLinear → DequantizeLinear (u8).
inline void quantize_activation(ir::Graph& g, const std::string& t, float scale, uint8_t zero_point) {
  for (ir::Node& n : g.nodes)
    for (std::string& in : n.inputs)
      if (in == t) in = t + "_dequantized";
  g.add_initializer(t + "_scale", Tensor::from_vector<float>(DType::f32, {}, {scale}));
  g.add_initializer(t + "_zero_point", Tensor::from_vector<uint8_t>(DType::u8, {}, {zero_point}));
  int at = 0;
  const int p = g.producer(t);
  if (p >= 0) at = p + 1;
  g.nodes.insert(g.nodes.begin() + at,
                 {node(t + "_QuantizeLinear", "QuantizeLinear", {t, t + "_scale", t + "_zero_point"}, {t + "_quantized"}),
                  node(t + "_DequantizeLinear", "DequantizeLinear", {t + "_quantized", t + "_scale", t + "_zero_point"},
                       {t + "_dequantized"})});
}

// Replaces f32 initializer weight `w` by W_quantized (s8, given per-tensor scale, zero point 0) →
// DequantizeLinear → W_dequantized.
inline void quantize_weight(ir::Graph& g, const std::string& w, float scale) {
  const Tensor x = *g.initializer(w);
  quant::QParams p;
  p.format = DType::s8;
  p.scale = {scale};
  p.zero_point = {0};
  g.remove_initializer(w);
  g.add_initializer(w + "_quantized", quant::quantize(x, p));
  g.add_initializer(w + "_scale", Tensor::from_vector<float>(DType::f32, {}, {scale}));
  g.add_initializer(w + "_zero_point", Tensor::from_vector<int8_t>(DType::s8, {}, {0}));
  for (ir::Node& n : g.nodes)
    for (std::string& in : n.inputs)
      if (in == w) in = w + "_dequantized";
  g.nodes.insert(g.nodes.begin(), node(w + "_DequantizeLinear", "DequantizeLinear",
                                       {w + "_quantized", w + "_scale", w + "_zero_point"}, {w + "_dequantized"}));
}

// Replaces f32 bias initializer `b` by B_quantized (s32, scale, zero point 0) → DequantizeLinear.
inline void quantize_bias(ir::Graph& g, const std::string& b, float scale) {
  const Tensor x = *g.initializer(b);
  Tensor q(DType::s32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) q.data<int32_t>()[i] = quant::quantize_bias_s32(x.data<float>()[i], scale).value;
  g.remove_initializer(b);
  g.add_initializer(b + "_quantized", q);
  g.add_initializer(b + "_scale", Tensor::from_vector<float>(DType::f32, {}, {scale}));
  g.add_initializer(b + "_zero_point", Tensor::from_vector<int32_t>(DType::s32, {}, {0}));
  for (ir::Node& n : g.nodes)
    for (std::string& in : n.inputs)
      if (in == b) in = b + "_dequantized";
  g.nodes.insert(g.nodes.begin(), node(b + "_DequantizeLinear", "DequantizeLinear",
                                       {b + "_quantized", b + "_scale", b + "_zero_point"}, {b + "_dequantized"}));
}

}  // namespace qforge::ptq_test
