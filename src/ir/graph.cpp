#include "ir/graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace qforge::ir {

const Attribute* Node::attr(const std::string& n) const {
  for (const auto& a : attrs)
    if (a.name == n) return &a;
  return nullptr;
}

int64_t Node::attr_i(const std::string& n, int64_t dflt) const {
  const Attribute* a = attr(n);
  return a ? a->i : dflt;
}

float Node::attr_f(const std::string& n, float dflt) const {
  const Attribute* a = attr(n);
  return a ? a->f : dflt;
}

std::string Node::attr_s(const std::string& n, const std::string& dflt) const {
  const Attribute* a = attr(n);
  return a ? a->s : dflt;
}

std::vector<int64_t> Node::attr_ints(const std::string& n, std::vector<int64_t> dflt) const {
  const Attribute* a = attr(n);
  return a ? a->ints : dflt;
}

std::vector<float> Node::attr_floats(const std::string& n, std::vector<float> dflt) const {
  const Attribute* a = attr(n);
  return a ? a->floats : dflt;
}

void Node::set_attr(Attribute a) {
  for (auto& x : attrs)
    if (x.name == a.name) { x = std::move(a); return; }
  attrs.push_back(std::move(a));
}

void Node::remove_attr(const std::string& n) {
  std::erase_if(attrs, [&](const Attribute& a) { return a.name == n; });
}

const std::string& Node::input(size_t i) const {
  static const std::string kEmpty;
  return i < inputs.size() ? inputs[i] : kEmpty;
}

std::string Node::describe() const {
  std::string d = domain.empty() || domain == "ai.onnx" ? op_type : domain + "." + op_type;
  return fmt::format("node '{}' ({})", name, d);
}

const Tensor* Graph::initializer(const std::string& n) const {
  auto it = initializers.find(n);
  return it == initializers.end() ? nullptr : &it->second;
}

void Graph::add_initializer(const std::string& n, Tensor t) {
  if (!initializers.count(n)) initializer_order.push_back(n);
  initializers[n] = std::move(t);
}

void Graph::remove_initializer(const std::string& n) {
  initializers.erase(n);
  std::erase(initializer_order, n);
}

const ValueInfo* Graph::find_value_info(const std::string& n) const {
  for (const auto* list : {&inputs, &outputs, &value_info})
    for (const auto& v : *list)
      if (v.name == n) return &v;
  return nullptr;
}

void Graph::topo_sort() {
  std::unordered_map<std::string, int> producer_of;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (!o.empty()) producer_of[o] = static_cast<int>(i);
  std::unordered_set<std::string> available;
  for (const auto& v : inputs) available.insert(v.name);
  for (const auto& [n, t] : initializers) available.insert(n);

  std::vector<int> state(nodes.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  // Iterative DFS keeps deep graphs off the call stack.
  for (size_t root = 0; root < nodes.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<int, size_t>> stack{{static_cast<int>(root), 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [ni, next] = stack.back();
      const Node& n = nodes[ni];
      if (next < n.inputs.size()) {
        const std::string& in = n.inputs[next++];
        if (in.empty() || available.count(in)) continue;
        auto it = producer_of.find(in);
        if (it == producer_of.end())
          fail_input("{}: input '{}' is not produced by any node, initializer or graph input",
                     n.describe(), in);
        int p = it->second;
        if (state[p] == 1) fail_input("{}: graph has a cycle through '{}'", n.describe(), in);
        if (state[p] == 0) {
          state[p] = 1;
          stack.push_back({p, 0});
        }
        continue;
      }
      state[ni] = 2;
      for (const auto& o : n.outputs)
        if (!o.empty()) available.insert(o);
      sorted.push_back(std::move(nodes[ni]));
      stack.pop_back();
    }
  }
  nodes = std::move(sorted);
}

int Graph::producer(const std::string& value) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (o == value) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::consumers(const std::string& value) const {
  std::vector<int> r;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (std::find(nodes[i].inputs.begin(), nodes[i].inputs.end(), value) != nodes[i].inputs.end())
      r.push_back(static_cast<int>(i));
  return r;
}

int64_t Model::opset(const std::string& d) const {
  for (const auto& o : opsets) {
    bool def = o.domain.empty() || o.domain == "ai.onnx";
    bool want_def = d.empty() || d == "ai.onnx";
    if ((def && want_def) || o.domain == d) return o.version;
  }
  return 0;
}

int64_t count_parameters(const Graph& g) {
  int64_t n = 0;
  for (const auto& [name, t] : g.initializers)
    if (dtype_is_float(t.dtype())) n += t.numel();
  return n;
}

}  // namespace qforge::ir
