#include <vector>

#include "ir/passes/fusion.h"

namespace qforge::ir {

void fuse_matmul_add(Graph& graph) {
  std::vector<bool> dead(graph.nodes.size(), false);
  for (size_t ai = 0; ai < graph.nodes.size(); ++ai) {
    Node& add = graph.nodes[ai];
    if (add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    for (int side = 0; side < 2; ++side) {
      const int mi = graph.producer(add.inputs[side]);
      if (mi < 0 || dead[mi]) continue;
      Node& mm = graph.nodes[mi];
      if (mm.op_type != "MatMul" || !mm.domain.empty() || mm.inputs.size() != 2) continue;
      const std::string& mid = mm.outputs[0];
      if (use_count(graph, mid) != 1 || is_graph_output(graph, mid)) continue;
      const Tensor* w = graph.initializer(mm.inputs[1]);
      const Tensor* bias = graph.initializer(add.inputs[1 - side]);
      if (!w || !bias || w->dtype() != DType::f32 || bias->dtype() != DType::f32) continue;
      if (w->rank() != 2 || bias->rank() != 1 || bias->dim(0) != w->dim(1)) continue;
      mm.op_type = "MatMulBias";
      mm.domain = "qforge";
      mm.inputs.push_back(add.inputs[1 - side]);
      mm.outputs[0] = add.outputs[0];
      dead[ai] = true;
      break;
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!dead[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

}  // namespace qforge::ir
