// The dynamic-quantization lowering (lower_dynamic.h).
#include "runtime/lower/lower_dynamic.h"

#include <set>

#include "ir/passes/fusion.h"

namespace qforge::runtime {

namespace {

bool is_op(const ir::Node& n, const char* type) { return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == type; }

struct Match {
  std::vector<int> nodes;  // replaced (the combined-scale Mul only when nothing else reads it)
  ir::Node fused;
};

class Matcher {
 public:
  explicit Matcher(const ir::Graph& g) : g_(g) {
    for (const auto& o : g.outputs) graph_outputs_.insert(o.name);
  }

  // The node reading `value` when it is the only reader and `value` is not a graph output; else -1.
  int sole_reader(const std::string& value) const {
    if (graph_outputs_.count(value)) return -1;
    const std::vector<int> c = g_.consumers(value);
    return c.size() == 1 ? c[0] : -1;
  }

  // The pattern of lower_dynamic.h anchored at MatMulInteger node i.
  bool match(int i, Match& m) const {
    const ir::Node& mm = g_.nodes[i];
    if (!is_op(mm, "MatMulInteger") || mm.inputs.size() < 3 || mm.outputs.size() != 1) return false;
    const int pd = g_.producer(mm.input(0));
    if (pd < 0 || !is_op(g_.nodes[pd], "DynamicQuantizeLinear") || g_.nodes[pd].outputs.size() < 3) return false;
    const ir::Node& dql = g_.nodes[pd];
    if (mm.input(2) != dql.outputs[2]) return false;
    const Tensor* w = g_.initializer(mm.input(1));
    if (!w || w->dtype() != DType::s8 || w->rank() != 2) return false;
    const int64_t N = w->dim(1);
    if (mm.inputs.size() > 3 && !mm.input(3).empty()) {
      const Tensor* wz = g_.initializer(mm.input(3));
      if (!wz) return false;
      for (int64_t j = 0; j < wz->numel(); ++j)
        if (wz->at_i64(j) != 0) return false;
    }
    const int ic = sole_reader(mm.outputs[0]);
    if (ic < 0 || !is_op(g_.nodes[ic], "Cast") || g_.nodes[ic].attr_i("to", 0) != 1) return false;  // 1: FLOAT
    const std::string& accf = g_.nodes[ic].outputs[0];
    const int im = sole_reader(accf);
    if (im < 0 || !is_op(g_.nodes[im], "Mul")) return false;
    const ir::Node& mul = g_.nodes[im];
    const std::string& scales = mul.input(0) == accf ? mul.input(1) : mul.input(0);
    const int is = g_.producer(scales);
    if (is < 0 || !is_op(g_.nodes[is], "Mul")) return false;
    const ir::Node& smul = g_.nodes[is];
    const std::string& xs = dql.outputs[1];
    const std::string* ws_name = smul.input(0) == xs ? &smul.input(1) : smul.input(1) == xs ? &smul.input(0) : nullptr;
    if (!ws_name) return false;
    const Tensor* ws = g_.initializer(*ws_name);
    if (!ws || ws->dtype() != DType::f32 || !(ws->numel() == 1 || (ws->rank() == 1 && ws->dim(0) == N))) return false;
    m.nodes = {i, ic, im};
    if (sole_reader(scales) == im) m.nodes.push_back(is);
    m.fused = ir::Node{};
    m.fused.op_type = "QDynGemm";
    m.fused.domain = "qforge";
    m.fused.name = mm.name;
    m.fused.inputs = {mm.input(0), xs, dql.outputs[2], mm.input(1), *ws_name};
    std::string y = mul.outputs[0];
    const int ia = sole_reader(y);
    if (ia >= 0 && is_op(g_.nodes[ia], "Add")) {
      const ir::Node& add = g_.nodes[ia];
      const std::string& bias = add.input(0) == y ? add.input(1) : add.input(0);
      const Tensor* b = g_.initializer(bias);
      if (b && b->dtype() == DType::f32 && b->rank() == 1 && b->dim(0) == N) {
        m.fused.inputs.push_back(bias);
        m.nodes.push_back(ia);
        y = add.outputs[0];
      }
    }
    m.fused.outputs = {y};
    return true;
  }

 private:
  const ir::Graph& g_;
  std::set<std::string> graph_outputs_;
};

}  // namespace

int lower_dynamic(ir::Graph& graph) {
  Matcher matcher(graph);
  std::vector<bool> removed(graph.nodes.size(), false);
  std::vector<ir::Node> fused;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    Match m;
    if (!matcher.match(static_cast<int>(i), m)) continue;
    for (int r : m.nodes) removed[r] = true;
    fused.push_back(std::move(m.fused));
  }
  if (fused.empty()) return 0;
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!removed[i]) nodes.push_back(std::move(graph.nodes[i]));
  const int count = static_cast<int>(fused.size());
  for (auto& n : fused) nodes.push_back(std::move(n));
  graph.nodes = std::move(nodes);
  graph.topo_sort();
  ir::remove_unused_initializers(graph);
  return count;
}

}  // namespace qforge::runtime
