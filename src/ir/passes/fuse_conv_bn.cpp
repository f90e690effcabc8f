#include <cmath>
#include <vector>

#include "ir/passes/fusion.h"

namespace qforge::ir {

namespace {

const Tensor* f32_initializer(const Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.initializer(name);
  return t && t->dtype() == DType::f32 ? t : nullptr;
}

bool is_vector_of(const Tensor* t, int64_t n) { return t && t->rank() == 1 && t->dim(0) == n; }

}  // namespace

void fuse_conv_bn(Graph& graph) {
  std::vector<bool> dead(graph.nodes.size(), false);
  for (size_t bi = 0; bi < graph.nodes.size(); ++bi) {
    Node& bn = graph.nodes[bi];
    if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.size() < 5) continue;
    if (bn.attr_i("training_mode", 0) != 0) continue;
    bool extra_outputs = false;
    for (size_t i = 1; i < bn.outputs.size(); ++i) extra_outputs |= !bn.outputs[i].empty();
    if (extra_outputs) continue;
    const int ci = graph.producer(bn.inputs[0]);
    if (ci < 0 || dead[ci]) continue;
    Node& conv = graph.nodes[ci];
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1) continue;
    const std::string& mid = conv.outputs[0];
    if (use_count(graph, mid) != 1 || is_graph_output(graph, mid)) continue;
    const Tensor* w = f32_initializer(graph, conv.input(1));
    if (!w || w->rank() < 3) continue;
    const int64_t M = w->dim(0);
    const Tensor* b = f32_initializer(graph, conv.input(2));
    if (!conv.input(2).empty() && !is_vector_of(b, M)) continue;
    const Tensor* scale = f32_initializer(graph, bn.inputs[1]);
    const Tensor* beta = f32_initializer(graph, bn.inputs[2]);
    const Tensor* mean = f32_initializer(graph, bn.inputs[3]);
    const Tensor* var = f32_initializer(graph, bn.inputs[4]);
    if (!is_vector_of(scale, M) || !is_vector_of(beta, M) || !is_vector_of(mean, M) || !is_vector_of(var, M))
      continue;
    const double eps = bn.attr_f("epsilon", 1e-5f);
    Tensor w2(DType::f32, w->shape()), b2(DType::f32, {M});
    const int64_t per = w->numel() / M;
    for (int64_t m = 0; m < M; ++m) {
      const double s = scale->data<float>()[m] / std::sqrt(static_cast<double>(var->data<float>()[m]) + eps);
      for (int64_t i = 0; i < per; ++i)
        w2.data<float>()[m * per + i] = static_cast<float>(w->data<float>()[m * per + i] * s);
      const double bias = b ? b->data<float>()[m] : 0.0;
      b2.data<float>()[m] = static_cast<float>((bias - mean->data<float>()[m]) * s + beta->data<float>()[m]);
    }
    const std::string wname = unique_value_name(graph, conv.input(1) + "_bnfold");
    graph.add_initializer(wname, std::move(w2));
    const std::string bname = unique_value_name(graph, bn.name.empty() ? wname + "_bias" : bn.name + "_bias");
    graph.add_initializer(bname, std::move(b2));
    conv.inputs.resize(3);
    conv.inputs[1] = wname;
    conv.inputs[2] = bname;
    conv.outputs[0] = bn.outputs[0];
    dead[bi] = true;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!dead[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

}  // namespace qforge::ir
