// Channels-last layout pass (lower_qdq.h: lower_layout), the last step of lower_qdq.
//
// The integer ops that can read and write [N,H,W,C] (qforge.nhwc_in / qforge.nhwc_out, ops/qlinear.h)
// are "capable": QConv, QMaxPool, QAvgPool, through their data input 0 and output 0. QLut, QAdd and
// QMul are "agnostic": elementwise, they work on either layout as long as their data inputs and
// output share it (QAdd / QMul broadcasting between two rank-4 values commutes with permuting both).
//
// Values joined through agnostic ops form a group (union-find); all values of a group get one layout.
// A group becomes channels-last iff each of its values
//  - has rank 4 (static shape inference) and is not a graph output,
//  - is produced by a capable node (output 0) or an agnostic one (not a graph input or initializer),
//  - is read only by capable nodes as their input 0 or by agnostic nodes as data inputs.
// Anything else touching a value keeps its group NCHW: Flatten, Reshape, Concat, QGemm, a float
// fallback, a DequantizeLinear, a graph output. A capable node then transposes internally where one
// side of it is NCHW, so the rule only decides where the transposes happen; a global average pool
// reading channels-last and writing NCHW [N,C,1,1] (the same bytes) is the typical exit.
//
// The values made channels-last are renamed (suffix ".nhwc"): nothing can fetch one by its old name
// and get the other layout. Capable nodes that already carry a qforge.nhwc_* attribute (written by
// hand into a model) are left as they are and count as neither capable nor agnostic.
// Without static ranks (shape inference fails on the graph) nothing changes.
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "ir/shape_inference.h"
#include "runtime/lower/lower_qdq.h"
#include "runtime/lower/qdq_match.h"

namespace qforge::runtime {

namespace {

enum class Role { other, capable, agnostic };

Role role_of(const ir::Node& n) {
  if (n.domain != "qforge") return Role::other;
  const std::string& op = n.op_type;
  if (op == "QConv" || op == "QMaxPool" || op == "QAvgPool")
    return n.has_attr("qforge.nhwc_in") || n.has_attr("qforge.nhwc_out") ? Role::other : Role::capable;
  if (op == "QLut" || op == "QAdd" || op == "QMul") return Role::agnostic;
  return Role::other;
}

// The data inputs of an agnostic node (QLut's table and QAdd / QMul's parameters are constants).
bool is_data_input(const ir::Node& n, size_t i) {
  if (n.op_type == "QLut") return i == 0;
  return i == 0 || i == 3;
}

class UnionFind {
 public:
  int id(const std::string& v) {
    auto [it, inserted] = ids_.try_emplace(v, static_cast<int>(parent_.size()));
    if (inserted) parent_.push_back(it->second);
    return it->second;
  }
  int find(int i) {
    while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];
    return i;
  }
  int find_id(const std::string& v) const {  // -1 when v was never added
    auto it = ids_.find(v);
    return it == ids_.end() ? -1 : it->second;
  }
  void join(int a, int b) { parent_[find(a)] = find(b); }
  size_t size() const { return parent_.size(); }

 private:
  std::unordered_map<std::string, int> ids_;
  std::vector<int> parent_;
};

// Rank of every value the shape inference knows (-1: unknown); empty when the inference fails.
std::unordered_map<std::string, int> value_ranks(const ir::Graph& g) {
  ir::Model m;
  m.graph = g;  // tensors share their storage
  try {
    ir::infer_shapes(m);
  } catch (const InputError&) {
    return {};
  }
  std::unordered_map<std::string, int> r;
  const auto put = [&](const ir::ValueInfo& v) { r[v.name] = v.has_shape ? static_cast<int>(v.dims.size()) : -1; };
  for (const auto& v : m.graph.inputs) put(v);
  for (const auto& v : m.graph.value_info) put(v);
  for (const auto& v : m.graph.outputs) put(v);
  return r;
}

std::string unused_name(const std::string& base, const std::unordered_set<std::string>& names) {
  std::string n = base + ".nhwc";
  while (names.count(n)) n += "_";
  return n;
}

// The node outputs the rule makes channels-last.
std::vector<std::string> choose_values(const ir::Graph& g, const std::unordered_map<std::string, int>& rank) {
  UnionFind uf;
  std::vector<Role> role;
  for (const auto& n : g.nodes) {
    role.push_back(role_of(n));
    for (const auto& v : n.outputs)
      if (!v.empty()) uf.id(v);
    for (const auto& v : n.inputs)
      if (!v.empty()) uf.id(v);
    if (role.back() != Role::agnostic || n.outputs.empty()) continue;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (is_data_input(n, i) && !n.inputs[i].empty()) uf.join(uf.id(n.inputs[i]), uf.id(n.outputs[0]));
  }
  // bad[root]: some value of the group must stay NCHW.
  std::vector<bool> bad(uf.size(), false);
  const auto forbid = [&](const std::string& v) {
    if (const int i = uf.find_id(v); i >= 0) bad[uf.find(i)] = true;  // values no node touches do not matter
  };
  std::unordered_set<std::string> produced;
  for (size_t j = 0; j < g.nodes.size(); ++j) {
    const ir::Node& n = g.nodes[j];
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      const std::string& v = n.outputs[o];
      if (v.empty()) continue;
      produced.insert(v);
      auto it = rank.find(v);
      if (role[j] == Role::other || o != 0 || it == rank.end() || it->second != 4) forbid(v);
    }
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::string& v = n.inputs[i];
      if (v.empty()) continue;
      const bool ok = (role[j] == Role::capable && i == 0) || (role[j] == Role::agnostic && is_data_input(n, i));
      if (!ok) forbid(v);
    }
  }
  for (const auto& n : g.nodes)
    for (const auto& v : n.inputs)
      if (!v.empty() && !produced.count(v)) forbid(v);  // a graph input or an initializer
  for (const auto& o : g.outputs) forbid(o.name);
  std::vector<std::string> out;
  for (const auto& n : g.nodes)
    if (!n.outputs.empty() && !n.outputs[0].empty() && !bad[uf.find(uf.id(n.outputs[0]))]) out.push_back(n.outputs[0]);
  return out;
}

// Renames the values to "<name>.nhwc" and sets qforge.nhwc_in / nhwc_out on the capable nodes.
void rename_values(ir::Graph& g, const std::vector<std::string>& values) {
  std::unordered_set<std::string> names;
  for (const auto& n : g.nodes) {
    names.insert(n.inputs.begin(), n.inputs.end());
    names.insert(n.outputs.begin(), n.outputs.end());
  }
  for (const auto& v : g.inputs) names.insert(v.name);
  for (const auto& v : g.outputs) names.insert(v.name);
  for (const auto& [name, t] : g.initializers) names.insert(name);
  std::unordered_map<std::string, std::string> renamed;
  for (const auto& v : values) {
    const std::string nn = unused_name(v, names);
    names.insert(nn);
    renamed[v] = nn;
  }
  for (ir::Node& n : g.nodes) {
    const bool capable = role_of(n) == Role::capable;
    for (auto& in : n.inputs) {
      auto it = renamed.find(in);
      if (it == renamed.end()) continue;
      in = it->second;
      if (capable) n.set_attr(lower::int_attr("qforge.nhwc_in", 1));
    }
    auto it = n.outputs.empty() ? renamed.end() : renamed.find(n.outputs[0]);
    if (it == renamed.end()) continue;
    n.outputs[0] = it->second;
    if (capable) n.set_attr(lower::int_attr("qforge.nhwc_out", 1));
  }
  std::erase_if(g.value_info, [&](const ir::ValueInfo& v) { return renamed.count(v.name) > 0; });
}

}  // namespace

int lower_layout(ir::Graph& g) {
  const std::unordered_map<std::string, int> rank = value_ranks(g);
  if (rank.empty()) return 0;
  const std::vector<std::string> values = choose_values(g, rank);
  rename_values(g, values);
  return static_cast<int>(values.size());
}

}  // namespace qforge::runtime
