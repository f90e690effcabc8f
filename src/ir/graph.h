// The one model representation (DESIGN: "one IR serves every stage"). It is opset-free (STYLE §9):
// the importer maps each ONNX opset's attribute/input variants onto one canonical form per op — the
// form of the newest opset (e.g. Reduce* / Squeeze / Unsqueeze / Split axes are inputs, Clip min/max are
// inputs) — and the exporter writes a chosen opset.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qforge::ir {

struct Graph;

// One dimension: a known size (value >= 0), a named symbolic size ("N", "batch"), or unknown.
struct Dim {
  int64_t value = -1;
  std::string param;
  static Dim known(int64_t v) { return Dim{v, {}}; }
  static Dim symbol(std::string p) { return Dim{-1, std::move(p)}; }
  bool is_known() const { return value >= 0; }
  bool operator==(const Dim&) const = default;
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::undefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> dims;
  std::string doc_string;
  bool operator==(const ValueInfo&) const = default;
};

enum class AttrKind { f, i, s, t, g, floats, ints, strings, tensors, graphs, type_proto };

struct Attribute {
  std::string name;
  AttrKind kind = AttrKind::i;
  float f = 0;
  int64_t i = 0;
  std::string s;  // also: serialized TypeProto for kind == type_proto
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  std::string doc_string;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" is the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::vector<Attribute> attrs;      // in file order
  std::string doc_string;

  const Attribute* attr(const std::string& n) const;
  bool has_attr(const std::string& n) const { return attr(n) != nullptr; }
  int64_t attr_i(const std::string& n, int64_t dflt) const;
  float attr_f(const std::string& n, float dflt) const;
  std::string attr_s(const std::string& n, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const std::string& n, std::vector<int64_t> dflt = {}) const;
  std::vector<float> attr_floats(const std::string& n, std::vector<float> dflt = {}) const;
  void set_attr(Attribute a);  // replaces an attribute of the same name
  void remove_attr(const std::string& n);
  // Input i, or "" when absent.
  const std::string& input(size_t i) const;
  // "node 'conv1' (Conv)" — for error messages.
  std::string describe() const;
};

struct Graph {
  std::string name;
  std::string doc_string;
  std::vector<Node> nodes;  // topologically sorted after import
  std::vector<ValueInfo> inputs;   // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;
  std::map<std::string, Tensor> initializers;
  // Initializers in file order, for faithful export (map above is for lookup).
  std::vector<std::string> initializer_order;
  // External-data metadata is resolved at import; tensors hold their bytes.

  const Tensor* initializer(const std::string& n) const;
  void add_initializer(const std::string& n, Tensor t);
  void remove_initializer(const std::string& n);
  const ValueInfo* find_value_info(const std::string& n) const;  // inputs, outputs, value_info
  // Sorts nodes topologically (stable w.r.t. current order); throws InputError on a cycle or on a
  // node input that nothing produces.
  void topo_sort();
  // Index of the node producing `value`, or -1.
  int producer(const std::string& value) const;
  // Indices of nodes consuming `value`.
  std::vector<int> consumers(const std::string& value) const;
};

struct OpsetImport {
  std::string domain;
  int64_t version = 0;
  bool operator==(const OpsetImport&) const = default;
};

struct Model {
  int64_t ir_version = 8;
  std::vector<OpsetImport> opsets;
  std::string producer_name = "qforge";
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc_string;
  std::vector<std::pair<std::string, std::string>> metadata_props;
  Graph graph;

  // Opset of a domain ("" or "ai.onnx" = default), 0 when not imported.
  int64_t opset(const std::string& domain = "") const;
};

// Parameter count (elements of floating initializers) and bytes of initializers per dtype.
int64_t count_parameters(const Graph& g);

}  // namespace qforge::ir
