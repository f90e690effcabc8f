// QDQ model ⇄ QAT training graph (qat.h).
#include "train/qat.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <map>
#include <set>

#include "core/cpu.h"
#include "core/error.h"
#include "quant/qdq_names.h"
#include "quant/pack.h"
#include "quant/quantize.h"
#include "runtime/ops/fake_quant.h"
#include "train/qat_bn.h"

namespace qforge::train {

namespace {

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

bool is_op(const ir::Node& n, const char* op) { return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx"); }
bool is_weight_slot(const ir::Node& n, size_t slot) {
  return slot == 1 && (is_op(n, "Conv") || is_op(n, "Gemm") || is_op(n, "MatMul"));
}
bool is_bias_slot(const ir::Node& n, size_t slot) { return slot == 2 && (is_op(n, "Conv") || is_op(n, "Gemm")); }
// Ops whose quantized output reuses its input's scale and zero point in the QDQ model.
bool shares_input_params(const ir::Node& n) {
  for (const char* op : {"MaxPool", "AveragePool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"})
    if (is_op(n, op)) return true;
  return false;
}
bool integer_weight_dtype(DType t) { return t == DType::s8 || t == DType::u8 || t == DType::s4 || t == DType::u4; }

std::string strip_suffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.ends_with(suffix) ? s.substr(0, s.size() - suffix.size()) : s;
}

bool same_values(const Tensor* a, const Tensor* b) {
  if (!a || !b) return a == b;
  return a->dtype() == b->dtype() && a->shape() == b->shape() &&
         std::memcmp(a->raw(), b->raw(), static_cast<size_t>(a->nbytes())) == 0;
}

class Builder {
 public:
  Builder(const ir::Model& qdq, const ir::Model* fp32, const quant::Recipe& r, const QatOptions& o)
      : src_(qdq.graph), fp32_(fp32), r_(r), o_(o) {
    g_.qdq = qdq;
    g_.train = qdq;
    for (const auto& [name, t] : src_.initializers) used_.insert(name);
    for (const auto& v : src_.inputs) used_.insert(v.name);
    for (const auto& n : src_.nodes) used_.insert(n.outputs.begin(), n.outputs.end());
    for (size_t k = 0; k < src_.nodes.size(); ++k)
      for (size_t s = 0; s < src_.nodes[k].inputs.size(); ++s)
        if (!src_.nodes[k].inputs[s].empty()) consumers_[src_.nodes[k].inputs[s]].push_back({k, s});
    g_.freeze_bn_after = o.freeze_bn_after;
    if (o.freeze_bn_after > 0) {
      QF_CHECK(o.fp32_with_bn, "QatOptions::freeze_bn_after > 0 needs fp32_with_bn");
      if (r.cle || r.smoothquant_alpha > 0 || r.bias_correction)
        fail_input("QAT with BatchNormalization statistics (freeze_bn_after {}) needs a recipe without cross-layer "
                   "equalization, SmoothQuant and bias correction (they change the folded weights)",
                   o.freeze_bn_after);
      bn_pairs_ = detail::find_bn_pairs(o.fp32_with_bn->graph);
    }
  }

  QatGraph run() {
    std::vector<ir::Node> out;
    std::vector<bool> done(src_.nodes.size(), false);
    for (size_t k = 0; k < src_.nodes.size(); ++k) {
      if (done[k]) continue;
      const ir::Node& n = src_.nodes[k];
      if (is_op(n, "QuantizeLinear")) {
        activation(k, out, done);
      } else if (is_op(n, "DequantizeLinear") && src_.initializer(n.inputs[0])) {
        constant_dq(n, out);
      } else if (bn_mode(n)) {
        conv_bn(n, out);
      } else {
        out.push_back(n);
      }
    }
    ir::Graph& tg = g_.train.graph;
    for (ir::ValueInfo& vi : buffer_inputs_) tg.inputs.push_back(std::move(vi));
    for (ir::Node& n : out)
      for (std::string& in : n.inputs) {
        auto it = rename_.find(in);
        if (it != rename_.end()) in = it->second;
      }
    tg.nodes = std::move(out);
    for (QatBias& b : g_.biases) {
      b.input_scale = train_name(b.input_scale);
      b.weight_scale = train_name(b.weight_scale);
    }
    finish_initializers();
    bool has_domain = false;
    for (const auto& op : g_.train.opsets) has_domain = has_domain || op.domain == runtime::kFakeQuantDomain;
    if (!has_domain) g_.train.opsets.push_back({runtime::kFakeQuantDomain, 1});
    return std::move(g_);
  }

 private:
  struct Use {
    size_t node, slot;
  };

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  std::string train_name(const std::string& qdq_name) const {
    auto it = tied_.find(qdq_name);
    return it == tied_.end() ? qdq_name : it->second;
  }

  // Makes initializer `name` (or a new tensor `value`) a trained graph input; returns its name.
  std::string add_param(const std::string& name, Tensor value, bool decay) {
    if (param_index_.count(name)) return name;
    param_index_[name] = g_.params.size();
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = DType::f32;
    vi.has_shape = true;
    for (int64_t d : value.shape()) vi.dims.push_back(ir::Dim::known(d));
    g_.train.graph.inputs.push_back(std::move(vi));
    g_.params.push_back({name, value, Tensor(DType::f32, value.shape()), decay});
    return name;
  }

  // A scale or zero point initializer as f32 (zero points are integers).
  static Tensor as_f32(const Tensor& t) {
    if (t.dtype() == DType::f32) return t.clone();
    Tensor f(DType::f32, t.shape());
    for (int64_t k = 0; k < t.numel(); ++k)
      f.data<float>()[k] = static_cast<float>(runtime::fake_quant_zero_point(t, k, INT32_MIN / 2, INT32_MAX / 2));
    return f;
  }

  ir::Node fake_quant(const std::string& x, const std::string& s, const std::string& z, const std::string& y,
                      const std::string& base, int32_t qmin, int32_t qmax) {
    ir::Node fq;
    fq.op_type = runtime::kFakeQuantOp;
    fq.domain = runtime::kFakeQuantDomain;
    fq.name = fresh(base + "_FakeQuant");
    fq.inputs = {x, s};
    if (!z.empty()) fq.inputs.push_back(z);
    fq.outputs = {y};
    fq.set_attr(int_attr("qmin", qmin));
    fq.set_attr(int_attr("qmax", qmax));
    ++g_.fake_quant_nodes;
    return fq;
  }

  // QuantizeLinear → DequantizeLinear(s) of an activation: one FakeQuant per DequantizeLinear.
  void activation(size_t k, std::vector<ir::Node>& out, std::vector<bool>& done) {
    const ir::Node& q = src_.nodes[k];
    const std::string s = q.input(1), z = q.input(2);
    auto it = consumers_.find(q.outputs[0]);
    if (it == consumers_.end()) fail_input("{}: QAT needs every QuantizeLinear to feed a DequantizeLinear", q.describe());
    for (const Use& u : it->second) {
      const ir::Node& dq = src_.nodes[u.node];
      if (!is_op(dq, "DequantizeLinear") || u.slot != 0 || dq.input(1) != s || dq.input(2) != z)
        fail_input("{}: QAT needs QuantizeLinear to feed DequantizeLinear nodes with the same scale and zero point, "
                   "not {}", q.describe(), dq.describe());
    }
    const Tensor* zt = z.empty() ? nullptr : src_.initializer(z);
    const Tensor* st = src_.initializer(s);
    if (!st || (!z.empty() && !zt)) fail_input("{}: scale and zero point must be initializers", q.describe());
    const DType zdt = zt ? zt->dtype() : DType::u8;
    const quant::QRange range = quant::qrange_storage(zdt);
    std::string ts = s, tz = z;
    if (o_.lsq) tie_or_train(q, s, z, *st, zt, ts, tz);
    g_.activations.push_back({ts, tz, s, z, zdt, range.qmin, range.qmax});
    for (const Use& u : it->second) {
      const ir::Node& dq = src_.nodes[u.node];
      out.push_back(fake_quant(q.inputs[0], ts, tz, dq.outputs[0], q.inputs[0], range.qmin, range.qmax));
      done[u.node] = true;
    }
  }

  // LSQ: the activation's scale (and zero point when asymmetric) become trained tensors, unless the
  // QDQ model shares them with the input of a pass-through op (then the same tensors are used).
  void tie_or_train(const ir::Node& q, const std::string& s, const std::string& z, const Tensor& st,
                    const Tensor* zt, std::string& ts, std::string& tz) {
    const int p = src_.producer(q.inputs[0]);
    if (p >= 0 && shares_input_params(src_.nodes[p])) {
      const int pdq = src_.producer(src_.nodes[p].input(0));
      if (pdq >= 0 && is_op(src_.nodes[pdq], "DequantizeLinear")) {
        const ir::Node& in = src_.nodes[pdq];
        if (same_values(src_.initializer(in.input(1)), &st) && same_values(src_.initializer(in.input(2)), zt)) {
          ts = tied_[s] = train_name(in.input(1));
          if (!z.empty()) tz = tied_[z] = train_name(in.input(2));
          return;
        }
      }
    }
    ts = add_param(s, st.clone(), false);
    if (zt && !r_.activations.symmetric) tz = add_param(z, as_f32(*zt), false);
  }

  void constant_dq(const ir::Node& dq, std::vector<ir::Node>& out) {
    const Tensor& q = *src_.initializer(dq.inputs[0]);
    auto it = consumers_.find(dq.outputs[0]);
    const std::vector<Use> uses = it == consumers_.end() ? std::vector<Use>{} : it->second;
    auto all = [&](bool (*pred)(const ir::Node&, size_t)) {
      return !uses.empty() && std::all_of(uses.begin(), uses.end(), [&](const Use& u) { return pred(src_.nodes[u.node], u.slot); });
    };
    if (integer_weight_dtype(q.dtype()) && all(is_weight_slot)) {
      out.push_back(weight(dq, q, src_.nodes[uses[0].node], out));
    } else if (q.dtype() == DType::s32 && all(is_bias_slot)) {
      bias(dq, q, src_.nodes[uses[0].node]);
    } else {
      out.push_back(dq);  // a frozen constant (Add / Mul / Concat input)
    }
  }

  quant::QParams weight_qparams(const ir::Node& dq, const Tensor& q, const ir::Node& consumer) const {
    const Tensor* st = src_.initializer(dq.input(1));
    const Tensor* zt = dq.input(2).empty() ? nullptr : src_.initializer(dq.input(2));
    if (!st || (!dq.input(2).empty() && !zt)) fail_input("{}: scale and zero point must be initializers", dq.describe());
    const quant::WeightSpec spec = quant::weight_spec_for(r_, consumer.name);
    quant::QParams p;
    p.format = q.dtype();
    p.scale.assign(st->data<float>(), st->data<float>() + st->numel());
    for (int64_t k = 0; k < st->numel(); ++k)
      p.zero_point.push_back(zt ? runtime::fake_quant_zero_point(*zt, k, INT32_MIN / 2, INT32_MAX / 2) : 0);
    const int rank = static_cast<int>(q.shape().size());
    if (st->numel() != 1 || st->shape().size() > 1) {
      int64_t axis = dq.attr_i("axis", 1);
      if (axis < 0) axis += rank;
      if (axis < 0 || axis >= rank) fail_input("{}: axis {} is out of range", dq.describe(), dq.attr_i("axis", 1));
      p.axis = static_cast<int>(axis);
      p.group_size = dq.attr_i("block_size", 0);
    }
    p.symmetric = spec.symmetric;
    p.reduced_range = r_.reduce_range && (p.format == DType::s8 || p.format == DType::u8);
    quant::check_qparams(p, q.shape(), dq.inputs[0]);
    return p;
  }

  ir::Node weight(const ir::Node& dq, const Tensor& q, const ir::Node& consumer, std::vector<ir::Node>& out) {
    const quant::QParams p = weight_qparams(dq, q, consumer);
    const std::string base = strip_suffix(dq.inputs[0], quant::kQuantizedSuffix);
    if (bn_mode(consumer)) return weight_bn(dq, p, base, consumer, bn_pairs_.at(consumer.outputs[0]), out);
    Tensor w;
    const Tensor* f = fp32_ ? fp32_->graph.initializer(base) : nullptr;
    if (f && f->dtype() == DType::f32 && f->shape() == q.shape()) {
      const Tensor fq = quant::quantize(*f, p);
      if (fq.nbytes() == q.nbytes() && std::memcmp(fq.raw(), q.raw(), static_cast<size_t>(q.nbytes())) == 0)
        w = f->clone();
    }
    if (w.empty()) w = quant::dequantize(q, p);
    const std::string wname = add_param(fresh(base), std::move(w), q.shape().size() > 1);
    return weight_fake_quant(dq, p, wname, wname, base);
  }

  // FakeQuant(x) → the DequantizeLinear's output, with its scales (trained with LSQ); `value` is the tensor
  // the export quantizes (x itself, or the name of the BN-folded weight it is computed from).
  ir::Node weight_fake_quant(const ir::Node& dq, const quant::QParams& p, const std::string& x,
                             const std::string& value, const std::string& base) {
    std::string ts = dq.input(1), tz = dq.input(2);
    if (o_.lsq) {
      ts = add_param(ts, src_.initializer(ts)->clone(), false);
      if (!tz.empty() && !p.symmetric) tz = add_param(tz, as_f32(*src_.initializer(tz)), false);
    }
    const quant::QRange range = p.range();
    g_.weights.push_back({value, ts, tz, dq.inputs[0], dq.input(1), dq.input(2), p, param_index_.count(tz) > 0});
    ir::Node fq = fake_quant(x, ts, tz, dq.outputs[0], base, range.qmin, range.qmax);
    if (p.axis != quant::QParams::kPerTensor) fq.set_attr(int_attr("axis", p.axis));
    if (p.group_size > 0) fq.set_attr(int_attr("block_size", p.group_size));
    return fq;
  }

  ir::Node node(const std::string& op, const std::string& base, std::vector<std::string> in, const std::string& y) {
    ir::Node n;
    n.op_type = op;
    n.name = base;
    n.inputs = std::move(in);
    n.outputs = {y};
    return n;
  }

  std::string add_constant(const std::string& base, Tensor t) {
    const std::string name = fresh(base);
    g_.train.graph.add_initializer(name, std::move(t));
    return name;
  }

  // A running statistic: a graph input after the params, updated in place by BN in training mode.
  std::string add_buffer(const std::string& base, const Tensor& value) {
    const std::string name = fresh(base);
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = DType::f32;
    vi.has_shape = true;
    for (int64_t d : value.shape()) vi.dims.push_back(ir::Dim::known(d));
    buffer_inputs_.push_back(std::move(vi));
    g_.buffers.push_back({name, value.clone()});
    return name;
  }

  // [1, …, -1 at `axis`, …, 1] of `rank` dims: the shape that lays a per-channel vector along `axis`.
  std::string channel_shape(const std::string& base, int rank, int axis) {
    Tensor t(DType::s64, {rank});
    for (int k = 0; k < rank; ++k) t.data<int64_t>()[k] = k == axis ? -1 : 1;
    return add_constant(base, std::move(t));
  }

  // A Conv the quantizer folded from Conv → BN whose weight is quantized (one DequantizeLinear of an
  // integer initializer, read by this Conv only): it trains with BN (QatOptions::freeze_bn_after > 0).
  bool bn_mode(const ir::Node& conv) const {
    if (!is_op(conv, "Conv") || conv.outputs.empty()) return false;
    auto pair = bn_pairs_.find(conv.outputs[0]);
    const int w = src_.producer(conv.input(1));
    if (pair == bn_pairs_.end() || w < 0 || !is_op(src_.nodes[w], "DequantizeLinear")) return false;
    const Tensor* q = src_.initializer(src_.nodes[w].inputs[0]);
    auto uses = consumers_.find(src_.nodes[w].outputs[0]);
    return q && integer_weight_dtype(q->dtype()) && uses != consumers_.end() && uses->second.size() == 1 &&
           o_.fp32_with_bn->graph.initializer(pair->second.weight)->shape() == q->shape();
  }

  // The weight of a Conv folded from Conv → BN (qat.h): sf = γ / Sqrt(var + ε), FakeQuant(W · sf); the
  // Conv itself becomes Conv / sf (+ b) → BatchNormalization in conv_bn.
  ir::Node weight_bn(const ir::Node& dq, const quant::QParams& p, const std::string& base, const ir::Node& conv,
                     const detail::BnPair& pair, std::vector<ir::Node>& out) {
    const ir::Graph& f = o_.fp32_with_bn->graph;
    const ir::Node& bn = *pair.bn;
    const Tensor& w = *f.initializer(pair.weight);
    QatBnFold fold;
    fold.weight = add_param(fresh(pair.weight), w.clone(), true);
    if (!pair.bias.empty()) fold.bias = add_param(fresh(pair.bias), f.initializer(pair.bias)->clone(), false);
    fold.gamma = add_param(fresh(bn.inputs[1]), f.initializer(bn.inputs[1])->clone(), false);
    fold.beta = add_param(fresh(bn.inputs[2]), f.initializer(bn.inputs[2])->clone(), false);
    fold.mean = add_buffer(bn.inputs[3], *f.initializer(bn.inputs[3]));
    fold.var = add_buffer(bn.inputs[4], *f.initializer(bn.inputs[4]));
    fold.epsilon = bn.attr_f("epsilon", 1e-5f);
    fold.folded_weight = base;
    const std::string eps = add_constant(bn.name + "_epsilon", Tensor::from_vector<float>(DType::f32, {}, {fold.epsilon}));
    const std::string var_eps = fresh(bn.name + "_var_eps"), sd = fresh(bn.name + "_std");
    const std::string sf = fresh(bn.name + "_scale_factor"), sf_w = fresh(sf + "_w"), ws = fresh(fold.weight + "_scaled");
    out.push_back(node("Add", var_eps, {fold.var, eps}, var_eps));
    out.push_back(node("Sqrt", sd, {var_eps}, sd));
    out.push_back(node("Div", sf, {fold.gamma, sd}, sf));
    out.push_back(node("Reshape", sf_w, {sf, channel_shape(sf_w + "_shape", w.rank(), 0)}, sf_w));
    out.push_back(node("Mul", ws, {fold.weight, sf_w}, ws));
    Fold& st = folds_[conv.outputs[0]];
    st.index = g_.bn_folds.size();
    st.scale_factor = sf;
    st.bn = pair.bn;
    st.rank = w.rank();
    g_.bn_folds.push_back(std::move(fold));
    return weight_fake_quant(dq, p, ws, base, base);
  }

  // Conv(x, FakeQuant(W · sf)) without bias, then / sf, + b, BatchNormalization(γ, β, mean, var) → the output.
  void conv_bn(const ir::Node& conv, std::vector<ir::Node>& out) {
    const Fold& st = folds_.at(conv.outputs[0]);
    QatBnFold& fold = g_.bn_folds[st.index];
    auto qb = folded_bias_.find(conv.outputs[0]);
    if (src_.initializer(conv.input(2))) {  // a float bias initializer: the export writes b_f into it
      fold.out_float_bias = fold.folded_bias = conv.input(2);
    } else if (qb != folded_bias_.end()) {
      fold.folded_bias = qb->second;
    } else {
      fail_input("{}: QAT with BatchNormalization statistics needs the folded Conv to have a float or int32 bias",
                 conv.describe());
    }
    const std::string y = conv.outputs[0];
    ir::Node c = conv;
    c.inputs.resize(2);
    c.outputs[0] = fresh(y + "_conv");
    out.push_back(c);
    const std::string sf_y = fresh(st.scale_factor + "_y"), unscaled = fresh(y + "_unscaled");
    out.push_back(node("Reshape", sf_y, {st.scale_factor, channel_shape(sf_y + "_shape", st.rank, 1)}, sf_y));
    out.push_back(node("Div", unscaled, {c.outputs[0], sf_y}, unscaled));
    std::string pre_bn = unscaled;
    if (!fold.bias.empty()) {
      const std::string b_y = fresh(fold.bias + "_y");
      out.push_back(node("Reshape", b_y, {fold.bias, channel_shape(b_y + "_shape", st.rank, 1)}, b_y));
      pre_bn = fresh(y + "_biased");
      out.push_back(node("Add", pre_bn, {unscaled, b_y}, pre_bn));
    }
    ir::Node bn = node("BatchNormalization", st.bn->name.empty() ? y + "_bn" : st.bn->name,
                       {pre_bn, fold.gamma, fold.beta, fold.mean, fold.var}, y);
    for (const char* a : {"epsilon", "momentum"})
      if (const ir::Attribute* v = st.bn->attr(a)) bn.set_attr(*v);
    out.push_back(bn);
  }

  // int32 bias: a trained float tensor b = q · scale; the consumer reads it instead of the DQ output.
  void bias(const ir::Node& dq, const Tensor& q, const ir::Node& consumer) {
    const Tensor* st = src_.initializer(dq.input(1));
    if (!st) fail_input("{}: scale must be an initializer", dq.describe());
    const int in_dq = src_.producer(consumer.input(0)), w_dq = src_.producer(consumer.input(1));
    if (in_dq < 0 || w_dq < 0 || !is_op(src_.nodes[in_dq], "DequantizeLinear") ||
        !is_op(src_.nodes[w_dq], "DequantizeLinear"))
      fail_input("{}: an int32 bias needs a quantized input and weight", consumer.describe());
    if (q.numel() != st->numel() && st->numel() != 1)
      fail_input("{}: bias scale has {} values for {} channels", dq.describe(), st->numel(), q.numel());
    std::string name;
    if (bn_mode(consumer)) {  // the export computes it from β, b, the running mean and sf (qat_bn.h)
      name = folded_bias_[consumer.outputs[0]] = strip_suffix(dq.inputs[0], quant::kQuantizedSuffix);
    } else {
      Tensor b(DType::f32, q.shape());
      for (int64_t c = 0; c < q.numel(); ++c)
        b.data<float>()[c] = quant::dequantize_value(q.data<int32_t>()[c], st->data<float>()[st->numel() == 1 ? 0 : c], 0);
      name = add_param(fresh(strip_suffix(dq.inputs[0], quant::kQuantizedSuffix)), std::move(b), false);
      rename_[dq.outputs[0]] = name;
    }
    g_.biases.push_back({name, src_.nodes[in_dq].input(1), src_.nodes[w_dq].input(1), dq.inputs[0], dq.input(1)});
  }

  // Drops initializers no node reads any more and those that became trained inputs.
  void finish_initializers() {
    ir::Graph& tg = g_.train.graph;
    std::set<std::string> read;
    for (const auto& n : tg.nodes) read.insert(n.inputs.begin(), n.inputs.end());
    std::vector<std::string> drop;
    for (const auto& [name, t] : tg.initializers)
      if (!read.count(name) || param_index_.count(name)) drop.push_back(name);
    for (const auto& name : drop) tg.remove_initializer(name);
  }

  const ir::Graph& src_;
  const ir::Model* fp32_;
  const quant::Recipe& r_;
  QatOptions o_;
  QatGraph g_;
  std::set<std::string> used_;
  std::map<std::string, std::vector<Use>> consumers_;
  std::map<std::string, std::string> rename_, tied_;
  std::map<std::string, size_t> param_index_;
  struct Fold {                  // a Conv trained with BN: its entry in bn_folds, and graph names
    size_t index = 0;
    std::string scale_factor;
    const ir::Node* bn = nullptr;
    int rank = 4;
  };
  std::map<std::string, detail::BnPair> bn_pairs_;  // by BN output = folded Conv output
  std::map<std::string, Fold> folds_;               // by folded Conv output, once its weight is built
  std::map<std::string, std::string> folded_bias_;  // by folded Conv output: its int32 bias's QatBias::value
  std::vector<ir::ValueInfo> buffer_inputs_;
};

// The current value of a training-graph tensor: a trained parameter, a buffer or an initializer.
const Tensor& value_of(const QatGraph& g, const std::string& name) {
  for (const auto& p : g.params)
    if (p.name == name) return p.value;
  for (const auto& b : g.buffers)
    if (b.name == name) return b.value;
  const Tensor* t = g.train.graph.initializer(name);
  QF_CHECK(t, "QAT export: no tensor named " + name);
  return *t;
}

Tensor with_values(const Tensor& like, DType dtype, const std::vector<int32_t>& ints, const std::vector<float>& floats) {
  Tensor t(dtype, like.shape());
  if (dtype == DType::s4 || dtype == DType::u4) {
    const std::vector<int8_t> codes(ints.begin(), ints.end());
    quant::pack_4bit(codes.data(), t.numel(), static_cast<uint8_t*>(t.raw()));
    return t;
  }
  for (int64_t k = 0; k < t.numel(); ++k) {
    switch (dtype) {
      case DType::f32: t.data<float>()[k] = floats[static_cast<size_t>(k)]; break;
      case DType::u8: t.data<uint8_t>()[k] = static_cast<uint8_t>(ints[static_cast<size_t>(k)]); break;
      case DType::s8: t.data<int8_t>()[k] = static_cast<int8_t>(ints[static_cast<size_t>(k)]); break;
      case DType::s32: t.data<int32_t>()[k] = ints[static_cast<size_t>(k)]; break;
      default: QF_CHECK(false, "QAT export: zero point dtype");
    }
  }
  return t;
}

std::vector<int32_t> zero_points(const Tensor& z, int64_t n, int32_t qmin, int32_t qmax) {
  std::vector<int32_t> v;
  for (int64_t k = 0; k < n; ++k) v.push_back(runtime::fake_quant_zero_point(z, k, qmin, qmax));
  return v;
}

}  // namespace

QatGraph qat_graph_from_qdq(const ir::Model& qdq, const ir::Model* fp32_folded, const quant::Recipe& recipe,
                            const QatOptions& opts) {
  if (qdq.graph.inputs.size() != 1) fail_input("QAT needs a model with one input, this one has {}", qdq.graph.inputs.size());
  return Builder(qdq, fp32_folded, recipe, opts).run();
}

ir::Model qat_export(const QatGraph& g, const std::vector<Parameter>& float_params) {
  ir::Model m = g.qdq;
  ir::Graph& out = m.graph;
  auto set = [&](const std::string& name, Tensor t) {
    if (!name.empty()) out.initializers[name] = std::move(t);
  };
  std::map<std::string, Tensor> folded;  // W_f and b_f of the convs trained with BN (qat_bn.h)
  for (const QatBnFold& f : g.bn_folds) {
    const std::vector<float> sf = detail::bn_scale_factor(value_of(g, f.gamma), value_of(g, f.var), f.epsilon);
    Tensor wf, bf;
    detail::bn_fold(value_of(g, f.weight), f.bias.empty() ? nullptr : &value_of(g, f.bias), value_of(g, f.beta),
                    value_of(g, f.mean), sf, wf, bf);
    folded[f.folded_weight] = wf;
    folded[f.folded_bias] = bf;
    if (!f.out_float_bias.empty()) set(f.out_float_bias, bf);
  }
  auto current = [&](const std::string& name) -> const Tensor& {
    auto it = folded.find(name);
    return it == folded.end() ? value_of(g, name) : it->second;
  };
  for (const QatActivation& a : g.activations) {
    const float s = value_of(g, a.scale).data<float>()[0];
    set(a.out_scale, with_values(*out.initializer(a.out_scale), DType::f32, {}, {s}));
    if (!a.out_zero_point.empty())
      set(a.out_zero_point, with_values(*out.initializer(a.out_zero_point), a.zp_dtype,
                                        zero_points(value_of(g, a.zero_point), 1, a.qmin, a.qmax), {}));
  }
  for (const QatWeight& w : g.weights) {
    quant::QParams p = w.qparams;
    const Tensor& s = value_of(g, w.scale);
    p.scale.assign(s.data<float>(), s.data<float>() + s.numel());
    const quant::QRange r = p.range();
    if (!w.zero_point.empty()) p.zero_point = zero_points(value_of(g, w.zero_point), s.numel(), r.qmin, r.qmax);
    set(w.out_quantized, quant::quantize(current(w.value), p));
    set(w.out_scale, with_values(*out.initializer(w.out_scale), DType::f32, {}, p.scale));
    if (!w.out_zero_point.empty() && w.zero_point_trained) {
      const Tensor& old = *out.initializer(w.out_zero_point);
      set(w.out_zero_point, with_values(old, old.dtype(), p.zero_point, {}));
    }
  }
  for (const QatBias& b : g.biases) {
    const Tensor& v = current(b.value);
    const float s_in = value_of(g, b.input_scale).data<float>()[0];
    const Tensor& sw = value_of(g, b.weight_scale);
    const Tensor& old_scale = *out.initializer(b.out_scale);
    std::vector<int32_t> q;
    std::vector<float> scales;
    for (int64_t c = 0; c < v.numel(); ++c) {
      const float s = s_in * sw.data<float>()[sw.numel() == 1 ? 0 : c];  // one float32 product
      // Trained scales are kept >= FLT_MIN, but their product can still underflow (or overflow):
      // the int32 bias would have no usable scale. A degenerate training outcome, reported as such.
      if (!(s >= FLT_MIN && s <= FLT_MAX))
        fail_input("{}: the trained bias scale s_in * s_w = {:g} is not a normal float32 (the activation or "
                   "weight scales collapsed during training; try a lower --lr)", b.out_quantized, s);
      if (c < old_scale.numel()) scales.push_back(s);
      q.push_back(quant::quantize_bias_s32(v.data<float>()[c], s).value);
    }
    set(b.out_quantized, with_values(*out.initializer(b.out_quantized), DType::s32, q, {}));
    set(b.out_scale, with_values(old_scale, DType::f32, {}, scales));
  }
  for (const Parameter& p : float_params)
    if (out.initializer(p.name)) out.initializers[p.name] = p.value.clone();
  return m;
}

void qat_clamp_scales(QatGraph& g) {
  constexpr float kMinScale = 1.17549435e-38f;  // FLT_MIN: quant/qparams.h never chooses a smaller scale
  std::set<std::string> scales;
  for (const QatActivation& a : g.activations) scales.insert(a.scale);
  for (const QatWeight& w : g.weights) scales.insert(w.scale);
  for (Parameter& p : g.params)
    if (scales.count(p.name))
      for (float& v : p.value.span<float>()) v = std::isfinite(v) ? std::max(v, kMinScale) : kMinScale;
}

std::vector<Tensor> qat_inputs(const QatGraph& g, const Tensor& x) {
  std::vector<Tensor> in{x};
  for (const auto& p : g.params) in.push_back(p.value);
  for (const auto& b : g.buffers) in.push_back(b.value);
  return in;
}

TrainOptions qat_train_options(int threads) {
  TrainOptions o;
  o.threads = threads;
  o.input_grads = true;
  return o;
}

}  // namespace qforge::train
