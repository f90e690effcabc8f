// Static mode: the plan (static_plan.cpp) written as QDQ. Activations: Q → DQ with the calibrated
// per-tensor parameters; weights: stored quantized + DQ; biases: int32 at s_in · s_w (per channel), with
// ONNX Runtime's weight-scale enlargement where a bias would overflow int32 (left in float where
// s_in · s_w is not a normal float32).
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "quant/qdq_names.h"
#include "quant/quantize.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

namespace {

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

// Enlarges weight scales so that every |bias| / (s_in · s_w) fits int32 (ONNX Runtime's rule: the bias
// scale must be at least 1.0001 · |b| / (2^31 − 1)). Returns the channels changed and the largest ratio.
std::pair<int64_t, double> fit_bias_in_int32(const Tensor& bias, float s_in, QParams& w) {
  constexpr double kInt32Max = 2147483647.0;
  const std::span<const float> b = bias.span<float>();
  int64_t changed = 0;
  double max_ratio = 1;
  auto fit = [&](float& s_w, double absmax) {
    const double needed = 1.0001 * absmax / kInt32Max;
    if (needed == 0 || static_cast<double>(s_in) * s_w >= needed) return;
    const double ratio = needed / (static_cast<double>(s_in) * s_w);
    float s = static_cast<float>(s_w * ratio);
    while (static_cast<double>(s_in * s) < needed) s = std::nextafter(s, std::numeric_limits<float>::infinity());
    max_ratio = std::max(max_ratio, static_cast<double>(s) / s_w);
    s_w = s;
    ++changed;
  };
  if (w.num_scales() == 1) {
    double absmax = 0;
    for (float v : b) absmax = std::max(absmax, std::fabs(static_cast<double>(v)));
    fit(w.scale[0], absmax);
  } else {
    QF_CHECK(static_cast<size_t>(w.num_scales()) == b.size(), "per-channel bias/weight mismatch");
    for (size_t c = 0; c < b.size(); ++c) fit(w.scale[c], std::fabs(static_cast<double>(b[c])));
  }
  return {changed, max_ratio};
}

class StaticWriter {
 public:
  StaticWriter(ir::Model& m, const Recipe& r, const CalibTable& table, const std::vector<std::string>& excluded,
               QuantReport& rep)
      : g_(m.graph), r_(r), table_(table), rep_(rep), plan_(plan_static(g_, r, excluded)), ed_(g_) {}

  int64_t run() {
    choose_activation_params();
    for (const auto& v : g_.inputs)
      if (plan_.find(v.name)) emit_qdq(v.name, v.name);
    const std::vector<ir::Node> nodes = g_.nodes;
    for (size_t i = 0; i < nodes.size(); ++i) emit_node(nodes[i], i);
    ed_.finish();
    return needs_opset21_ ? 21 : 13;
  }

 private:
  void choose_activation_params() {
    const QScheme scheme{r_.activations.dtype, r_.activations.symmetric, false};
    for (const ActivationRequest& a : plan_.activations) {
      TensorReport t;
      t.tensor = a.tensor;
      if (!a.share_from.empty()) {
        act_[a.tensor] = act_.at(a.share_from);
        t.method = "shared";
        t.shared_with = a.share_from;
        const TensorReport& src = rep_.activations[report_index_.at(a.share_from)];
        t.min = src.min;
        t.max = src.max;
      } else {
        const CalibEntry* e = table_.find(a.tensor);
        if (!e)
          fail_input("the calibration table has no range for tensor '{}' (was it made for another model or recipe?)",
                     a.tensor);
        act_[a.tensor] = choose_qparams(e->range.min, e->range.max, scheme, a.tensor);
        t.method = e->method;
        t.min = e->range.min;
        t.max = e->range.max;
      }
      const QParams& p = act_.at(a.tensor);
      t.scale = p.scale[0];
      t.zero_point = p.zero_point[0];
      t.dtype = p.format;
      report_index_[a.tensor] = rep_.activations.size();
      rep_.activations.push_back(std::move(t));
    }
  }

  // Q → DQ for activation `tensor`, whose float value is produced under the name `source`.
  void emit_qdq(const std::string& tensor, const std::string& source) {
    const QParams& p = act_.at(tensor);
    Tensor scale(DType::f32, {}), zp(p.format, {});
    scale.data<float>()[0] = p.scale[0];
    if (p.format == DType::u8) zp.data<uint8_t>()[0] = static_cast<uint8_t>(p.zero_point[0]);
    else zp.data<int8_t>()[0] = static_cast<int8_t>(p.zero_point[0]);
    const std::string s = ed_.add_initializer(tensor + kScaleSuffix, std::move(scale));
    const std::string z = ed_.add_initializer(tensor + kZeroPointSuffix, std::move(zp));
    const std::string quantized = ed_.fresh(tensor + kQuantizedSuffix);
    const bool output = source != tensor;
    const std::string dequantized = output ? tensor : ed_.fresh(tensor + kDequantizedSuffix);
    ir::Node q;
    q.op_type = "QuantizeLinear";
    q.name = ed_.fresh(tensor + kQuantizeNodeSuffix);
    q.inputs = {source, s, z};
    q.outputs = {quantized};
    ed_.emit(std::move(q));
    ir::Node dq;
    dq.op_type = "DequantizeLinear";
    dq.name = ed_.fresh(tensor + kDequantizeNodeSuffix);
    dq.inputs = {quantized, s, z};
    dq.outputs = {dequantized};
    ed_.emit(std::move(dq));
    read_as_[tensor] = dequantized;
  }

  std::string read_name(const std::string& t) const {
    auto it = read_as_.find(t);
    return it == read_as_.end() ? t : it->second;
  }

  // A constant input of Add / Mul / Concat: stored per tensor in the activation format.
  std::string constant_input(const std::string& name) {
    auto it = done_constants_.find(name);
    if (it != done_constants_.end()) return it->second;
    const Tensor& c = *g_.initializer(name);
    const QParams p = choose_qparams_per_tensor(
        c, QScheme{r_.activations.dtype, r_.activations.symmetric, false}, name);
    const std::string out = ed_.dequantize_constant(name, quantize(c, p), p, c.shape());
    rep_.activations.push_back({name, "constant", "", 0, 0, p.scale[0], p.zero_point[0], p.format});
    return done_constants_[name] = out;
  }

  // Weight (and bias) of a quantized compute node; rewrites its inputs.
  void weight_and_bias(ir::Node& n, size_t index, NodeReport& nr) {
    const std::string wname = n.inputs[1];
    const Tensor& w = *g_.initializer(wname);
    const WeightSpec spec = weight_spec_for(r_, n.name);
    if (spec.dtype == DType::s4 || spec.dtype == DType::u4) needs_opset21_ = true;
    auto cached = done_weights_.find(wname);
    QParams wp;
    if (cached == done_weights_.end()) {
      std::string note;
      wp = choose_weight_qparams(n, w, spec, r_.reduce_range, wname, &note);
      if (!note.empty()) nr.reason = note;
    } else {
      wp = cached->second.second;
    }
    const QParams& in = act_.at(g_.nodes[index].inputs[0]);  // n's inputs already read the DQ outputs
    Tensor bias;
    if (plan_.nodes[index].quantize_bias) {
      const Tensor& c = *g_.initializer(n.inputs[2]);
      const float beta = n.op_type == "Gemm" ? n.attr_f("beta", 1.0f) : 1.0f;
      bias = Tensor(DType::f32, {c.numel()});
      for (int64_t k = 0; k < c.numel(); ++k) bias.data<float>()[k] = beta * c.data<float>()[k];
      if (cached == done_weights_.end()) {
        const auto [changed, ratio] = fit_bias_in_int32(bias, in.scale[0], wp);
        if (changed) rep_.bias_adjustments.push_back({nr.node, n.inputs[2], wname, changed, ratio});
      }
    }
    if (cached == done_weights_.end()) {
      // A Conv weight's all-zero zero points are not stored (0 by the spec). Gemm / MatMul weights keep
      // theirs: ONNX Runtime (1.32) fuses DQ → Gemm → Q into QGemm only when the weight's
      // DequantizeLinear has a zero-point input (measured; its Conv fusion does not need it).
      const bool omit_zp = n.op_type == "Conv";
      const std::string deq = ed_.dequantize_constant(wname, quantize(w, wp), wp, w.shape(), {}, omit_zp);
      cached = done_weights_.emplace(wname, std::make_pair(deq, wp)).first;
    }
    n.inputs[1] = cached->second.first;
    nr.weights = describe_weights(wp);
    if (bias.empty()) return;
    // int32 bias at s_in · s_w (one float32 product per channel, as ONNX Runtime computes it).
    const bool per_channel = wp.num_scales() != 1;
    // Two tiny scales whose product falls below FLT_MIN (denormal, or 0 in float32), or two huge ones
    // whose product overflows, give no usable bias scale: the bias then stays in float, read as it is
    // by the quantized node.
    for (int64_t c = 0; c < bias.numel(); ++c) {
      const float s = in.scale[0] * wp.scale[per_channel ? c : 0];
      if (!(s >= FLT_MIN && s <= FLT_MAX)) return;
    }
    Tensor bq(DType::s32, bias.shape());
    Tensor bscale(DType::f32, per_channel ? Shape{bias.numel()} : Shape{});
    int64_t saturated = 0;
    for (int64_t c = 0; c < bias.numel(); ++c) {
      const float s = in.scale[0] * wp.scale[per_channel ? c : 0];
      if (c < bscale.numel()) bscale.data<float>()[c] = s;
      const BiasS32 q = quantize_bias_s32(bias.data<float>()[c], s);
      bq.data<int32_t>()[c] = q.value;
      saturated += q.saturated;
    }
    if (saturated)  // only when a weight shared with an earlier node kept that node's scales
      rep_.bias_adjustments.push_back({nr.node, n.inputs[2], wname, 0, 1, saturated});
    const std::string bname = n.inputs[2];
    ir::Node dq;
    dq.op_type = "DequantizeLinear";
    dq.name = ed_.fresh(bname + kDequantizeNodeSuffix);
    dq.inputs = {ed_.add_initializer(bname + kQuantizedSuffix, std::move(bq)),
                 ed_.add_initializer(bname + kScaleSuffix, std::move(bscale))};  // zero point: 0 by the spec
    dq.outputs = {ed_.fresh(bname + kDequantizedSuffix)};
    if (per_channel) dq.set_attr(int_attr("axis", 0));
    n.inputs[2] = dq.outputs[0];
    ed_.emit(std::move(dq));
    if (n.op_type == "Gemm" && n.has_attr("beta")) n.remove_attr("beta");
  }

  void emit_node(ir::Node n, size_t index) {
    const StaticNodePlan& np = plan_.nodes[index];
    NodeReport nr{node_label(n, index), n.op_type, np.status, np.reason, ""};
    for (size_t k = 0; k < n.inputs.size(); ++k) n.inputs[k] = read_name(n.inputs[k]);
    if (np.status == NodeStatus::quantized) {
      if (np.quantize_weight) weight_and_bias(n, index, nr);
      for (int k : np.constant_inputs) n.inputs[k] = constant_input(g_.nodes[index].inputs[k]);
    }
    // Outputs this node produces that are quantized: a graph output's producer writes NAME_QuantizeLinear_Input.
    std::vector<std::pair<std::string, std::string>> qdq;  // tensor, source
    for (std::string& o : n.outputs) {
      if (o.empty() || !plan_.find(o)) continue;
      std::string source = o;
      if (ir::is_graph_output(g_, o)) {
        source = ed_.fresh(o + kGraphOutputSourceSuffix);
        qdq.emplace_back(o, source);
        o = source;
      } else {
        qdq.emplace_back(o, o);
      }
    }
    ed_.emit(std::move(n));
    for (const auto& [t, source] : qdq) emit_qdq(t, source);
    rep_.nodes.push_back(std::move(nr));
  }

  ir::Graph& g_;
  const Recipe& r_;
  const CalibTable& table_;
  QuantReport& rep_;
  StaticPlan plan_;
  GraphEditor ed_;
  std::map<std::string, QParams> act_;
  std::map<std::string, size_t> report_index_;
  std::map<std::string, std::string> read_as_;
  std::map<std::string, std::pair<std::string, QParams>> done_weights_;  // name → (dequantized, params)
  std::map<std::string, std::string> done_constants_;
  bool needs_opset21_ = false;
};

}  // namespace

int64_t quantize_static(ir::Model& m, const Recipe& r, const CalibTable& table, const std::vector<std::string>& excluded,
                        QuantReport& rep) {
  return StaticWriter(m, r, table, excluded, rep).run();
}

}  // namespace qforge::quant::detail
