// Builds small QDQ graphs (the form onnxruntime.quantization.quantize_static writes, DESIGN "The
// QDQ form") for the lowering tests: u8 activations with per-tensor parameters, s8 per-channel
// weights, int32 biases at scale s_in · s_w.
#pragma once
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/session.h"

namespace qforge::qdq_test {

inline ir::Attribute ints(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::ints;
  a.ints = std::move(v);
  return a;
}
inline ir::Attribute int1(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

class QdqBuilder {
 public:
  explicit QdqBuilder(std::vector<int64_t> x_shape, uint32_t seed = 1) : rng_(seed) {
    m.opsets = {{"", 13}};
    ir::ValueInfo x;
    x.name = "x";
    x.dtype = DType::f32;
    x.has_shape = true;
    for (int64_t d : x_shape) x.dims.push_back(ir::Dim::known(d));
    m.graph.inputs = {x};
  }

  ir::Model m;

  std::string init(const std::string& base, Tensor t) {
    const std::string n = base + "_" + std::to_string(count_++);
    m.graph.add_initializer(n, std::move(t));
    return n;
  }
  std::string op(const std::string& type, std::vector<std::string> in, std::vector<ir::Attribute> attrs = {}) {
    ir::Node n;
    n.op_type = type;
    n.name = type + "_" + std::to_string(count_++);
    n.inputs = std::move(in);
    n.outputs = {n.name + "_out"};
    n.attrs = std::move(attrs);
    m.graph.nodes.push_back(n);
    return n.outputs[0];
  }
  // Q then DQ with scale s and u8 zero point z: returns the DQ output.
  std::string qdq(const std::string& x, float s, uint8_t z) {
    const std::string sn = init("scale", Tensor::from_vector<float>(DType::f32, {}, {s}));
    const std::string zn = init("zp", Tensor::from_vector<uint8_t>(DType::u8, {}, {z}));
    return op("DequantizeLinear", {op("QuantizeLinear", {x, sn, zn}), sn, zn});
  }
  // DQ of a random s8 weight of `shape`, per-channel along `axis` (scales ~ 1 / (127 · sqrt(fan_in))).
  std::string weight(std::vector<int64_t> shape, int axis, int8_t zp = 0) {
    Tensor w(DType::s8, shape);
    std::uniform_int_distribution<int> u(-127, 127);
    for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(std::clamp(u(rng_), -127 + zp, 127 + zp));
    const int64_t ch = shape[axis];
    const double fan_in = static_cast<double>(w.numel() / ch);
    std::vector<float> s;
    std::uniform_real_distribution<float> us(0.5f, 1.5f);
    for (int64_t c = 0; c < ch; ++c) s.push_back(static_cast<float>(us(rng_) * 2.0 / (127.0 * std::sqrt(fan_in))));
    last_w_scale = s;
    const std::string wn = init("w", w);
    const std::string sn = init("w_scale", Tensor::from_vector<float>(DType::f32, {ch}, s));
    const std::string zn = init("w_zp", Tensor::from_vector<int8_t>(DType::s8, {ch}, std::vector<int8_t>(ch, zp)));
    return op("DequantizeLinear", {wn, sn, zn}, {int1("axis", axis)});
  }
  // DQ of an int32 bias with scale in_scale · last_w_scale[m].
  std::string bias(float in_scale) {
    const size_t M = last_w_scale.size();
    std::vector<int32_t> b(M);
    std::vector<float> s(M);
    std::uniform_int_distribution<int> u(-3000, 3000);
    for (size_t i = 0; i < M; ++i) b[i] = u(rng_), s[i] = in_scale * last_w_scale[i];
    const int64_t m = static_cast<int64_t>(M);
    return op("DequantizeLinear", {init("b", Tensor::from_vector<int32_t>(DType::s32, {m}, b)),
                                   init("b_scale", Tensor::from_vector<float>(DType::f32, {m}, s)),
                                   init("b_zp", Tensor::from_vector<int32_t>(DType::s32, {m}, std::vector<int32_t>(M, 0)))},
              {int1("axis", 0)});
  }
  void output(const std::string& v) {
    ir::ValueInfo o;
    o.name = v;
    o.dtype = DType::f32;
    m.graph.outputs.push_back(o);
  }

  Tensor random_input(uint32_t seed) const {
    Shape s;
    for (const auto& d : m.graph.inputs[0].dims) s.push_back(d.value);
    Tensor t(DType::f32, s);
    std::mt19937 r(seed);
    std::normal_distribution<float> n(0.f, 1.f);
    for (auto& v : t.span<float>()) v = n(r);
    return t;
  }

  std::vector<float> last_w_scale;

 private:
  std::mt19937 rng_;
  int count_ = 0;
};

inline runtime::SessionOptions options(bool lower) {
  runtime::SessionOptions o;
  o.lower_qdq = lower;
  o.threads = 2;
  return o;
}

inline int count_op(const ir::Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op;
  return n;
}

}  // namespace qforge::qdq_test
