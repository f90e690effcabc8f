// Dynamic mode: ONNX Runtime's quantize_dynamic form (operators/matmul.py, MatMulInteger) for MatMul
// and Gemm with a constant 2-D weight:
//   X → DynamicQuantizeLinear → X_quantized (u8), X_scale, X_zero_point   (one per activation)
//   MatMulInteger(X_quantized, W_quantized, X_zero_point, W_zero_point) → Y_output_quantized (s32)
//   Cast(to float) → Mul(·, X_scale · W_scale) → Y        [Gemm with C: → Add(·, beta · C) → Y]
// W_quantized is [K, N] (a Gemm's transB weight is stored transposed), per column (scale and zero point
// of length N) or per tensor.
#include <map>

#include <fmt/format.h>

#include "quant/qdq_names.h"
#include "quant/qparams_tensors.h"
#include "quant/quantize.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

namespace {

Tensor transpose_2d(const Tensor& w) {
  const int64_t r = w.dim(0), c = w.dim(1);
  Tensor t(DType::f32, {c, r});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) t.data<float>()[j * r + i] = w.data<float>()[i * c + j];
  return t;
}

ir::Node make_node(std::string op, std::string name, std::vector<std::string> in, std::vector<std::string> out) {
  ir::Node n;
  n.op_type = std::move(op);
  n.name = std::move(name);
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

// "" when the node can be quantized dynamically, else why not.
std::string dynamic_fallback(const ir::Graph& g, const ir::Node& n) {
  if (!n.domain.empty() || (n.op_type != "MatMul" && n.op_type != "Gemm"))
    return n.op_type == "Conv" ? "not quantized in dynamic mode (MatMul and Gemm only)" : "unsupported op";
  const Tensor* w = f32_constant(g, n.input(1));
  if (!w || w->rank() != 2) return fmt::format("fallback: weight '{}' is not a constant 2-D f32 tensor", n.input(1));
  if (g.initializer(n.input(0))) return "fallback: input is a constant";
  if (n.op_type == "Gemm") {
    if (n.attr_i("transA", 0) != 0) return "fallback: Gemm transA is not 0";
    if (n.attr_f("alpha", 1.0f) != 1.0f) return "fallback: Gemm alpha is not 1";
    if (!n.input(2).empty() && !f32_constant(g, n.input(2))) return "fallback: bias is not a constant";
  }
  return "";
}

}  // namespace

int64_t quantize_dynamic(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded, QuantReport& rep) {
  ir::Graph& g = m.graph;
  GraphEditor ed(g);
  struct Dq {
    std::string q, scale, zp;
  };
  std::map<std::string, Dq> dynamic_inputs;
  std::map<std::string, std::pair<std::vector<std::string>, QParams>> weights;  // name+layout → (q, scale, zp)
  const std::vector<ir::Node> nodes = g.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& n = nodes[i];
    NodeReport nr{node_label(n, i), n.op_type, NodeStatus::float_, excluded[i], ""};
    if (nr.reason.empty()) nr.reason = dynamic_fallback(g, n);
    if (!nr.reason.empty()) {
      ed.emit(n);
      rep.nodes.push_back(std::move(nr));
      continue;
    }
    nr.status = NodeStatus::quantized;
    const std::string& x = n.inputs[0];
    const std::string& y = n.outputs[0];
    const std::string base = n.name.empty() ? y : n.name;
    auto dq = dynamic_inputs.find(x);
    if (dq == dynamic_inputs.end()) {
      Dq d{ed.fresh(x + kQuantizedSuffix), ed.fresh(x + kScaleSuffix), ed.fresh(x + kZeroPointSuffix)};
      ed.emit(make_node("DynamicQuantizeLinear", ed.fresh(x + kQuantizeNodeSuffix), {x}, {d.q, d.scale, d.zp}));
      dq = dynamic_inputs.emplace(x, d).first;
    }
    const bool trans = n.op_type == "Gemm" && n.attr_i("transB", 0);
    const std::string wkey = n.inputs[1] + (trans ? "^T" : "");
    auto wq = weights.find(wkey);
    const WeightSpec spec = weight_spec_for(r, n.name);
    if (wq == weights.end()) {
      const Tensor w = trans ? transpose_2d(*g.initializer(n.inputs[1])) : *g.initializer(n.inputs[1]);
      const QScheme scheme{spec.dtype, spec.symmetric, r.reduce_range};
      const QParams p = spec.granularity == QGranularity::per_tensor
                            ? choose_qparams_per_tensor(w, scheme, n.inputs[1])
                            : choose_qparams_per_channel(w, 1, scheme, n.inputs[1]);
      QParamTensors t = qparams_to_tensors(p, w.shape());
      std::vector<std::string> names = {ed.add_initializer(n.inputs[1] + kQuantizedSuffix, quantize(w, p)),
                                        ed.add_initializer(n.inputs[1] + kScaleSuffix, std::move(t.scale)),
                                        ed.add_initializer(n.inputs[1] + kZeroPointSuffix, std::move(t.zero_point))};
      wq = weights.emplace(wkey, std::make_pair(names, p)).first;
    }
    nr.weights = describe_weights(wq->second.second);
    const auto& [wn, wp] = wq->second;
    const std::string acc = ed.fresh(y + "_output_quantized");
    ed.emit(make_node("MatMulInteger", ed.fresh(base + "_quant"), {dq->second.q, wn[0], dq->second.zp, wn[2]}, {acc}));
    ir::Node cast = make_node("Cast", ed.fresh(acc + "_cast"), {acc}, {ed.fresh(acc + "_cast_output")});
    ir::Attribute to;
    to.name = "to";
    to.kind = ir::AttrKind::i;
    to.i = static_cast<int64_t>(DType::f32);
    cast.set_attr(to);
    const std::string accf = cast.outputs[0];
    ed.emit(std::move(cast));
    const std::string scales = ed.fresh(base + "_quant_scales_mul:0");
    ed.emit(make_node("Mul", ed.fresh(base + "_quant_scales_mul"), {dq->second.scale, wn[1]}, {scales}));
    const bool has_bias = n.op_type == "Gemm" && !n.input(2).empty();
    const std::string product = has_bias ? ed.fresh(y + "_matmul_output") : y;
    ed.emit(make_node("Mul", ed.fresh(base + "_quant_output_scale_mul"), {accf, scales}, {product}));
    if (has_bias) {
      std::string c = n.inputs[2];
      const float beta = n.attr_f("beta", 1.0f);
      if (beta != 1.0f) {
        Tensor cb = g.initializer(c)->clone();
        for (float& v : cb.span<float>()) v *= beta;
        c = ed.add_initializer(c + "_scaled", std::move(cb));
      }
      ed.emit(make_node("Add", ed.fresh(base + "_bias_add"), {product, c}, {y}));
    }
    rep.nodes.push_back(std::move(nr));
  }
  ed.finish();
  return 13;
}

}  // namespace qforge::quant::detail
