// The lowerings other than Conv / Gemm (lower_qdq.h): unary elementwise ops as tables, MaxPool and
// data movement on the integers, Add / Mul, Concat, AveragePool / GlobalAveragePool.
#include <algorithm>

#include "core/error.h"
#include "ir/passes/fusion.h"
#include "runtime/lower/qdq_match.h"

namespace qforge::runtime::lower {

namespace {

bool same_params(const ActQ& a, const ActQ& b) { return a.dtype == b.dtype && a.s == b.s && a.z == b.z; }

ir::Node lut_node(Ctx& c, const std::string& name, const std::string& x, const std::string& y, Tensor table) {
  ir::Node n;
  n.name = name;
  n.op_type = "QLut";
  n.domain = "qforge";
  n.inputs = {x, c.new_init(name + "_table", std::move(table))};
  n.outputs = {y};
  return n;
}

bool extra_inputs_constant(const Ctx& c, const ir::Node& n) {
  for (size_t k = 1; k < n.inputs.size(); ++k)
    if (!n.inputs[k].empty() && !c.init(n.inputs[k])) return false;
  return true;
}

}  // namespace

bool is_unary_elementwise(const std::string& op) {
  static const char* kOps[] = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu",
                               "Selu", "Softplus", "Softsign", "Neg", "Abs", "Exp", "Log", "Sqrt", "Erf", "Gelu",
                               "Mish", "Celu", "ThresholdedRelu", "Sin", "Cos", "Floor", "Ceil", "Round", "Sign",
                               "Reciprocal", "Identity"};
  return std::any_of(std::begin(kOps), std::end(kOps), [&](const char* o) { return op == o; });
}

bool is_passthrough(const std::string& op) {
  static const char* kOps[] = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"};
  return std::any_of(std::begin(kOps), std::end(kOps), [&](const char* o) { return op == o; });
}

bool lower_unary(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  ActQ x;
  OutQ o;
  if (!c.act_input(n.input(0), x, why) || !c.quantized_output(i, false, o, why)) return false;
  if (!extra_inputs_constant(c, n)) return why = "parameters are not constant", false;
  Tensor table = make_lut(c, x, &n, o.y, o.qmin, o.qmax);
  c.add(i, lut_node(c, n.name, x.q, o.y.q, std::move(table)));
  c.replace(i, o);
  return true;
}

bool lower_passthrough(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  ActQ x;
  OutQ o;
  if (!c.act_input(n.input(0), x, why) || !c.quantized_output(i, true, o, why)) return false;
  for (size_t k = 1; k < n.inputs.size(); ++k) {
    const int p = c.producer(n.inputs[k]);
    if (p >= 0 && c.g.nodes[p].op_type == "DequantizeLinear") return why = "a parameter input is dequantized", false;
  }
  const bool direct = same_params(x, o.y) && o.act < 0;
  ir::Node m = n;
  if (n.op_type == "MaxPool") {  // the integer kernel (qlinear_pool.cpp); Indices output ruled out above
    m.op_type = "QMaxPool";
    m.domain = "qforge";
    m.remove_attr("storage_order");
  }
  m.inputs[0] = x.q;
  m.outputs[0] = direct ? o.y.q : ir::unique_value_name(c.g, o.y.q + "_pre");
  if (!direct) {
    // The op commutes with the monotonic requantization (max) or does not touch values (movement),
    // so Q_out(act(op(DQ_in(x)))) = table[op(x)].
    const ir::Node* act = o.act >= 0 ? &c.g.nodes[o.act] : nullptr;
    Tensor table = make_lut(c, x, act, o.y, o.qmin, o.qmax);
    ir::Node l = lut_node(c, n.name + "_requantize", m.outputs[0], o.y.q, std::move(table));
    c.add(i, std::move(m));
    c.add(i, std::move(l));
  } else {
    c.add(i, std::move(m));
  }
  c.replace(i, o);
  return true;
}

bool lower_binary(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  ActQ a, b;
  OutQ o;
  if (!c.act_input(n.input(0), a, why) || !c.act_input(n.input(1), b, why) || !c.quantized_output(i, true, o, why))
    return false;
  ir::Node q;
  q.name = n.name;
  q.op_type = n.op_type == "Add" ? "QAdd" : "QMul";
  q.domain = "qforge";
  q.inputs = {a.q, a.scale, a.zp, b.q, b.scale, b.zp, o.y.scale, o.y.zp};
  q.outputs = {o.y.q};
  set_clamp(q, o);
  c.add(i, std::move(q));
  c.replace(i, o);
  return true;
}

bool lower_avgpool(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  ActQ x;
  OutQ o;
  if (!c.act_input(n.input(0), x, why) || !c.quantized_output(i, true, o, why)) return false;
  if (x.dtype != o.y.dtype) return why = "input and output dtypes differ", false;
  ir::Node q;
  q.name = n.name;
  q.op_type = "QAvgPool";
  q.domain = "qforge";
  q.attrs = n.attrs;
  if (n.op_type == "GlobalAveragePool") {
    q.set_attr(int_attr("qforge.global", 1));
  }
  set_clamp(q, o);
  q.inputs = {x.q, x.scale, x.zp, o.y.scale, o.y.zp};
  q.outputs = {o.y.q};
  c.add(i, std::move(q));
  c.replace(i, o);
  return true;
}

bool lower_concat(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  OutQ o;
  std::vector<ActQ> xs(n.inputs.size());
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if (!c.act_input(n.inputs[k], xs[k], why)) return false;
  if (!c.quantized_output(i, false, o, why)) return false;
  ir::Node m = n;
  m.outputs[0] = o.y.q;
  for (size_t k = 0; k < xs.size(); ++k) {
    m.inputs[k] = xs[k].q;
    if (same_params(xs[k], o.y)) continue;
    const std::string t = ir::unique_value_name(c.g, o.y.q + "_in" + std::to_string(k));
    c.add(i, lut_node(c, n.name + "_requantize" + std::to_string(k), xs[k].q, t,
                      make_lut(c, xs[k], nullptr, o.y, o.qmin, o.qmax)));
    m.inputs[k] = t;
  }
  c.add(i, std::move(m));
  c.replace(i, o);
  return true;
}

}  // namespace qforge::runtime::lower
