#include "runtime/lower/qdq_match.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ir/passes/fusion.h"
#include "quant/quantize.h"
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/session.h"

namespace qforge::runtime::lower {

namespace {

bool is_op(const ir::Node& n, const char* op) { return n.op_type == op && (n.domain.empty() || n.domain == "ai.onnx"); }

int32_t zp_value(const Tensor& t, int64_t i) {
  return t.dtype() == DType::u8 ? t.data<uint8_t>()[i] : t.data<int8_t>()[i];
}

bool scalar_params(const Ctx& c, const ir::Node& n, ActQ& a, std::string& why) {
  const Tensor* s = c.init(n.input(1));
  const Tensor* z = c.init(n.input(2));
  if (!s || s->numel() != 1 || s->dtype() != DType::f32) {
    why = fmt::format("'{}' has no constant per-tensor scale", n.name);
    return false;
  }
  if (!z || z->numel() != 1 || (z->dtype() != DType::u8 && z->dtype() != DType::s8)) {
    why = fmt::format("'{}' has no constant u8 / s8 zero point", n.name);
    return false;
  }
  a.scale = n.input(1);
  a.zp = n.input(2);
  a.s = s->data<float>()[0];
  a.z = zp_value(*z, 0);
  a.dtype = z->dtype();
  return true;
}

}  // namespace

Ctx::Ctx(ir::Graph& graph) : g(graph), removed(graph.nodes.size(), false), added_before(graph.nodes.size()) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer_[o] = static_cast<int>(i);
    for (const auto& in : g.nodes[i].inputs) {
      if (in.empty()) continue;
      ++uses_[in];
      auto [it, fresh] = consumer_.try_emplace(in, static_cast<int>(i));
      if (!fresh && it->second != static_cast<int>(i)) it->second = -1;
    }
  }
  for (const auto& o : g.outputs) {
    ++uses_[o.name];
    consumer_[o.name] = -1;
  }
}

int Ctx::producer(const std::string& v) const {
  auto it = producer_.find(v);
  return it == producer_.end() ? -1 : it->second;
}

int Ctx::uses(const std::string& v) const {
  auto it = uses_.find(v);
  return it == uses_.end() ? 0 : it->second;
}

int Ctx::consumer(const std::string& v) const {
  auto it = consumer_.find(v);
  return it == consumer_.end() || uses(v) != 1 ? -1 : it->second;
}

bool Ctx::act_input(const std::string& v, ActQ& a, std::string& why) const {
  const int p = producer(v);
  if (p < 0 || !is_op(g.nodes[p], "DequantizeLinear")) {
    why = fmt::format("input '{}' is not dequantized", v);
    return false;
  }
  const ir::Node& dq = g.nodes[p];
  if (init(dq.input(0))) {
    why = fmt::format("input '{}' is a constant", v);
    return false;
  }
  if (!scalar_params(*this, dq, a, why)) return false;
  a.q = dq.input(0);
  return true;
}

bool Ctx::quantized_output(int anchor, bool allow_act, OutQ& o, std::string& why) const {
  const ir::Node& n = g.nodes[anchor];
  if (n.outputs.size() != 1) {
    why = "more than one output";
    return false;
  }
  int next = consumer(n.outputs[0]);
  float lo = -INFINITY, hi = INFINITY;
  if (next >= 0 && allow_act && (is_op(g.nodes[next], "Relu") || is_op(g.nodes[next], "Clip"))) {
    const ir::Node& act = g.nodes[next];
    if (is_op(act, "Clip")) {
      for (size_t k = 1; k < 3; ++k) {
        if (act.input(k).empty()) continue;
        const Tensor* t = init(act.input(k));
        if (!t || t->numel() != 1 || t->dtype() != DType::f32) {
          why = fmt::format("Clip '{}' has non-constant bounds", act.name);
          return false;
        }
        (k == 1 ? lo : hi) = t->data<float>()[0];
      }
    } else {
      lo = 0;
    }
    o.act = next;
    next = consumer(act.outputs[0]);
  }
  if (next < 0 || !is_op(g.nodes[next], "QuantizeLinear")) {
    why = "output is not quantized (or has other readers)";
    return false;
  }
  const ir::Node& q = g.nodes[next];
  if (!scalar_params(*this, q, o.y, why)) return false;
  o.y.q = q.outputs[0];
  o.quant = next;
  const int32_t tmin = quant_min(o.y.dtype), tmax = quant_max(o.y.dtype);
  o.qmin = std::isinf(lo) ? tmin : quant::quantize_value(lo, o.y.s, o.y.z, tmin, tmax);
  o.qmax = std::isinf(hi) ? tmax : quant::quantize_value(hi, o.y.s, o.y.z, tmin, tmax);
  if (o.qmin > o.qmax) {
    why = "Clip bounds are empty after quantization";
    return false;
  }
  return true;
}

bool Ctx::weight(const std::string& v, int channel_axis, WeightQ& w, std::string& why) const {
  const int p = producer(v);
  const Tensor* direct = init(v);
  if (direct) {
    why = fmt::format("weight '{}' is not quantized", v);
    return false;
  }
  if (p < 0 || !is_op(g.nodes[p], "DequantizeLinear")) {
    why = fmt::format("weight '{}' is not a dequantized constant", v);
    return false;
  }
  const ir::Node& dq = g.nodes[p];
  const Tensor* x = init(dq.input(0));
  const Tensor* s = init(dq.input(1));
  const Tensor* z = init(dq.input(2));
  if (!x || !s || (!dq.input(2).empty() && !z)) {
    why = fmt::format("weight '{}' is not a dequantized constant", v);
    return false;
  }
  if (x->dtype() != DType::s8) {
    why = fmt::format("weight '{}' is {} (the integer kernels take s8)", v, dtype_name(x->dtype()));
    return false;
  }
  if (dq.attr_i("block_size", 0) != 0) {
    why = fmt::format("weight '{}' is quantized per block", v);
    return false;
  }
  const int rank = x->rank();
  const int64_t channels = x->dim(channel_axis);
  const int64_t inner = [&] {
    int64_t r = 1;
    for (int d = channel_axis + 1; d < rank; ++d) r *= x->dim(d);
    return r;
  }();
  if (s->numel() != 1) {
    int64_t axis = dq.attr_i("axis", 1);
    if (axis < 0) axis += rank;
    if (axis != channel_axis) {
      why = fmt::format("weight '{}' is quantized along axis {}, not its output channels", v, axis);
      return false;
    }
    if (s->numel() != channels)
      fail_input("{}: per-axis scale has {} values but the weight has {} channels along axis {}", dq.describe(),
                 s->numel(), channels, axis);
  }
  w.w = Tensor(DType::s8, x->shape());
  const int8_t* src = x->data<int8_t>();
  int8_t* dst = w.w.data<int8_t>();
  for (int64_t i = 0; i < x->numel(); ++i) {
    const int64_t ch = (i / inner) % channels;
    const int32_t zp = z ? zp_value(*z, z->numel() == 1 ? 0 : ch) : 0;
    const int32_t v2 = src[i] - zp;
    if (v2 < -128 || v2 > 127) {
      why = fmt::format("weight '{}' minus its zero point does not fit s8", v);
      return false;
    }
    if (zp != 0) w.modified = true;
    dst[i] = static_cast<int8_t>(v2);
  }
  w.scale.resize(static_cast<size_t>(channels));
  for (int64_t ch = 0; ch < channels; ++ch) w.scale[ch] = s->data<float>()[s->numel() == 1 ? 0 : ch];
  w.name = dq.input(0);
  return true;
}

std::string Ctx::new_init(const std::string& base, Tensor t) {
  const std::string n = ir::unique_value_name(g, base);
  g.add_initializer(n, std::move(t));
  return n;
}

void Ctx::replace(int anchor, const OutQ& o) {
  removed[anchor] = true;
  if (o.act >= 0) removed[o.act] = true;
  removed[o.quant] = true;
  ++lowered;
}

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

void set_clamp(ir::Node& n, const OutQ& o) {
  n.set_attr(int_attr("qforge.qmin", o.qmin));
  n.set_attr(int_attr("qforge.qmax", o.qmax));
}

Tensor make_lut(const Ctx& c, const ActQ& in, const ir::Node* fn, const ActQ& out, int32_t qmin, int32_t qmax) {
  Tensor x(DType::f32, {256});
  for (int v = 0; v < 256; ++v) {
    const int32_t code = in.dtype == DType::s8 ? v - 128 : v;
    x.data<float>()[v] = quant::dequantize_value(code, in.s, in.z);
  }
  Tensor y = x;
  if (fn) {
    std::vector<Tensor> ins{x};
    for (size_t k = 1; k < fn->inputs.size(); ++k) {
      const Tensor* t = c.init(fn->inputs[k]);
      ins.push_back(t ? *t : Tensor());
    }
    const OpDef* op = find_op(fn->domain, fn->op_type);
    QF_CHECK(op);
    y = execute_node(*fn, *op, ins, nullptr, 1)[0];
  }
  Tensor t(out.dtype, {256});
  for (int v = 0; v < 256; ++v) {
    const int32_t q = quant::quantize_value(y.data<float>()[v], out.s, out.z, qmin, qmax);
    if (out.dtype == DType::u8) t.data<uint8_t>()[v] = static_cast<uint8_t>(q);
    else t.data<int8_t>()[v] = static_cast<int8_t>(q);
  }
  return t;
}

}  // namespace qforge::runtime::lower
