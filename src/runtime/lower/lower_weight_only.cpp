// The 4-bit weight-only lowering (lower_weight_only.h).
#include "runtime/lower/lower_weight_only.h"

#include <set>

#include "ir/passes/fusion.h"

namespace qforge::runtime {

namespace {

bool is_op(const ir::Node& n, const char* type) { return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == type; }

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

// The W4MatMul replacing node i (MatMul / Gemm), or false when the pattern does not hold.
bool match(const ir::Graph& g, const std::set<std::string>& graph_outputs, int i, ir::Node& fused, int& dq_index) {
  const ir::Node& mm = g.nodes[i];
  const bool gemm = is_op(mm, "Gemm");
  if (!(gemm || is_op(mm, "MatMul")) || mm.inputs.size() < 2 || mm.outputs.size() != 1) return false;
  if (gemm && (mm.attr_i("transA", 0) != 0 || mm.attr_f("alpha", 1.0f) != 1.0f)) return false;
  const int64_t trans_b = gemm ? mm.attr_i("transB", 0) : 0;
  const std::string& wv = mm.input(1);
  const int pd = g.producer(wv);
  if (pd < 0 || !is_op(g.nodes[pd], "DequantizeLinear") || graph_outputs.count(wv) || g.consumers(wv).size() != 1)
    return false;
  const ir::Node& dq = g.nodes[pd];
  const Tensor* wq = g.initializer(dq.input(0));
  const Tensor* scale = g.initializer(dq.input(1));
  const bool has_zp = dq.inputs.size() > 2 && !dq.input(2).empty();
  const Tensor* zp = has_zp ? g.initializer(dq.input(2)) : nullptr;
  if (!wq || !scale || (has_zp && !zp) || wq->rank() != 2 || scale->dtype() != DType::f32) return false;
  if (wq->dtype() != DType::s4 && wq->dtype() != DType::u4) return false;
  if (zp && zp->dtype() != wq->dtype()) return false;
  const int k_axis = trans_b ? 1 : 0;
  const int64_t K = wq->dim(k_axis), N = wq->dim(1 - k_axis);
  int64_t axis = dq.attr_i("axis", 1);
  if (axis < 0) axis += 2;
  int64_t block = dq.attr_i("block_size", 0);
  if (block > 0) {
    if (axis != k_axis || block % 8 != 0) return false;
  } else {
    if (axis != 1 - k_axis || scale->numel() != N) return false;  // per column: one block of K
    block = (K + 7) / 8 * 8;
  }
  const int64_t blocks = (K + block - 1) / block;
  if (scale->numel() != N * blocks || (zp && zp->numel() != N * blocks)) return false;
  fused = ir::Node{};
  fused.op_type = "W4MatMul";
  fused.domain = "qforge";
  fused.name = mm.name;
  fused.inputs = {mm.input(0), dq.input(0), dq.input(1), has_zp ? dq.input(2) : std::string()};
  if (gemm && mm.inputs.size() > 2 && !mm.input(2).empty()) {
    const Tensor* c = g.initializer(mm.input(2));
    const bool per_column = c && c->dtype() == DType::f32 &&
                            (c->numel() == 1 || (c->numel() == N && c->dim(c->rank() - 1) == N && c->rank() <= 2));
    if (!per_column) return false;
    fused.inputs.push_back(mm.input(2));
    ir::Attribute beta;
    beta.name = "beta";
    beta.kind = ir::AttrKind::f;
    beta.f = mm.attr_f("beta", 1.0f);
    fused.attrs.push_back(beta);
  }
  fused.attrs.push_back(int_attr("trans_b", trans_b));
  fused.attrs.push_back(int_attr("block_size", block));
  fused.outputs = mm.outputs;
  dq_index = pd;
  return true;
}

}  // namespace

int lower_weight_only(ir::Graph& graph) {
  std::set<std::string> outputs;
  for (const auto& o : graph.outputs) outputs.insert(o.name);
  std::vector<bool> removed(graph.nodes.size(), false);
  std::vector<std::pair<size_t, ir::Node>> fused;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    ir::Node f;
    int dq = -1;
    if (!match(graph, outputs, static_cast<int>(i), f, dq)) continue;
    removed[dq] = true;
    fused.emplace_back(i, std::move(f));
  }
  for (auto& [i, f] : fused) graph.nodes[i] = std::move(f);
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!removed[i]) nodes.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(nodes);
  if (!fused.empty()) ir::remove_unused_initializers(graph);
  return static_cast<int>(fused.size());
}

}  // namespace qforge::runtime
