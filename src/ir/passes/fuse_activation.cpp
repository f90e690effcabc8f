#include <limits>
#include <vector>

#include "ir/passes/fusion.h"

namespace qforge::ir {

namespace {

bool is_fusable_producer(const Node& n) {
  if (n.domain.empty()) return n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul";
  return n.domain == "qforge" && n.op_type == "MatMulBias";
}

// A scalar f32 initializer's value (absent input: `dflt`); false when not a constant scalar.
bool scalar_input(const Graph& g, const Node& n, size_t i, float dflt, float& out) {
  if (n.input(i).empty()) {
    out = dflt;
    return true;
  }
  const Tensor* t = g.initializer(n.input(i));
  if (!t || t->dtype() != DType::f32 || t->numel() != 1) return false;
  out = t->data<float>()[0];
  return true;
}

Attribute float_attr(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.kind = AttrKind::f;
  a.f = v;
  return a;
}

}  // namespace

void fuse_activation(Graph& graph) {
  std::vector<bool> dead(graph.nodes.size(), false);
  for (size_t ai = 0; ai < graph.nodes.size(); ++ai) {
    const Node& act = graph.nodes[ai];
    if (!act.domain.empty() || act.inputs.empty() || act.outputs.size() != 1) continue;
    std::vector<Attribute> attrs;
    Attribute kind;
    kind.name = "qforge.activation";
    kind.kind = AttrKind::s;
    kind.s = act.op_type;
    if (act.op_type == "Relu") {
    } else if (act.op_type == "LeakyRelu") {
      attrs.push_back(float_attr("qforge.activation_alpha", act.attr_f("alpha", 0.01f)));
    } else if (act.op_type == "Clip") {
      float lo = 0, hi = 0;
      if (!scalar_input(graph, act, 1, -std::numeric_limits<float>::infinity(), lo) ||
          !scalar_input(graph, act, 2, std::numeric_limits<float>::infinity(), hi) || !(lo <= hi))
        continue;
      attrs.push_back(float_attr("qforge.activation_min", lo));
      attrs.push_back(float_attr("qforge.activation_max", hi));
    } else {
      continue;
    }
    const int pi = graph.producer(act.inputs[0]);
    if (pi < 0 || dead[pi]) continue;
    Node& p = graph.nodes[pi];
    if (!is_fusable_producer(p) || p.has_attr("qforge.activation") || p.outputs.size() != 1) continue;
    if (use_count(graph, p.outputs[0]) != 1 || is_graph_output(graph, p.outputs[0])) continue;
    p.set_attr(kind);
    for (auto& a : attrs) p.set_attr(a);
    p.outputs[0] = act.outputs[0];
    dead[ai] = true;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!dead[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

}  // namespace qforge::ir
