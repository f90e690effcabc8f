#include <algorithm>
#include <unordered_set>

#include "ir/passes/fusion.h"
#include "ir/passes/passes.h"

namespace qforge::ir {

void optimize_for_inference(Graph& graph) {
  fuse_conv_bn(graph);
  fuse_matmul_add(graph);
  fuse_activation(graph);
  remove_unused_initializers(graph);
}

bool is_graph_output(const Graph& graph, const std::string& value) {
  return std::any_of(graph.outputs.begin(), graph.outputs.end(),
                     [&](const ValueInfo& v) { return v.name == value; });
}

int use_count(const Graph& graph, const std::string& value) {
  int n = 0;
  for (const auto& node : graph.nodes) n += static_cast<int>(std::count(node.inputs.begin(), node.inputs.end(), value));
  return n;
}

std::string unique_value_name(const Graph& graph, const std::string& base) {
  auto taken = [&](const std::string& n) {
    if (graph.initializer(n) || graph.find_value_info(n)) return true;
    for (const auto& node : graph.nodes)
      if (std::find(node.outputs.begin(), node.outputs.end(), n) != node.outputs.end()) return true;
    return false;
  };
  if (!taken(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!taken(n)) return n;
  }
}

void remove_unused_initializers(Graph& graph) {
  std::unordered_set<std::string> used;
  for (const auto& n : graph.nodes)
    for (const auto& in : n.inputs) used.insert(in);
  for (const auto& v : graph.outputs) used.insert(v.name);
  for (const auto& v : graph.inputs) used.insert(v.name);
  std::vector<std::string> drop;
  for (const auto& name : graph.initializer_order)
    if (!used.count(name)) drop.push_back(name);
  for (const auto& d : drop) graph.remove_initializer(d);
}

}  // namespace qforge::ir
