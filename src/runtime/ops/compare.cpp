// Comparisons (Equal Less LessOrEqual Greater GreaterOrEqual → bool), logical ops (And Or Xor Not)
// and Where, all with multidirectional broadcasting.
#include "runtime/kernels/reference/compare_ref.h"
#include "runtime/kernels/reference/unary_ref.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

template <CompareOp Op>
std::vector<TypeShape> infer_compare(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "A", [](DType d) { return compare_supports(Op, d); });
  require_dtype(c, 1, "B", [](DType d) { return compare_supports(Op, d); });
  require_same_dtype(c, 0, 1);
  return broadcast_of_inputs(c, {0, 1}, DType::boolean);
}

template <CompareOp Op>
void compute_compare(KernelCtx& k) {
  compare_ref(Op, k.inputs[0], k.inputs[1], k.outputs[0], k.threads);
}

bool is_bool(DType d) { return d == DType::boolean; }

std::vector<TypeShape> infer_logical(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "A", is_bool);
  require_dtype(c, 1, "B", is_bool);
  return broadcast_of_inputs(c, {0, 1}, DType::boolean);
}

template <LogicalOp Op>
void compute_logical(KernelCtx& k) {
  logical_ref(Op, k.inputs[0], k.inputs[1], k.outputs[0], k.threads);
}

std::vector<TypeShape> infer_not(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  require_dtype(c, 0, "X", is_bool);
  return shape_of_input(c, 0, DType::boolean);
}

void compute_not(KernelCtx& k) { unary_ref(UnaryOp::not_, k.inputs[0], k.outputs[0], k.threads); }

std::vector<TypeShape> infer_where(const InferCtx& c) {
  if (c.num_inputs() != 3) fail_node(c.node, "expects 3 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "condition", is_bool);
  const DType t = require_dtype(c, 1, "X", where_supports);
  require_dtype(c, 2, "Y", where_supports);
  require_same_dtype(c, 1, 2);
  return broadcast_of_inputs(c, {0, 1, 2}, t);
}

void compute_where(KernelCtx& k) { where_ref(k.inputs[0], k.inputs[1], k.inputs[2], k.outputs[0], k.threads); }

}  // namespace

void register_ops_compare(std::vector<OpDef>& ops) {
  ops.push_back({"Equal", "", infer_compare<CompareOp::equal>, compute_compare<CompareOp::equal>});
  ops.push_back({"Less", "", infer_compare<CompareOp::less>, compute_compare<CompareOp::less>});
  ops.push_back({"LessOrEqual", "", infer_compare<CompareOp::less_equal>, compute_compare<CompareOp::less_equal>});
  ops.push_back({"Greater", "", infer_compare<CompareOp::greater>, compute_compare<CompareOp::greater>});
  ops.push_back(
      {"GreaterOrEqual", "", infer_compare<CompareOp::greater_equal>, compute_compare<CompareOp::greater_equal>});
  ops.push_back({"And", "", infer_logical, compute_logical<LogicalOp::and_>});
  ops.push_back({"Or", "", infer_logical, compute_logical<LogicalOp::or_>});
  ops.push_back({"Xor", "", infer_logical, compute_logical<LogicalOp::xor_>});
  ops.push_back({"Not", "", infer_not, compute_not});
  ops.push_back({"Where", "", infer_where, compute_where});
}

}  // namespace qforge::runtime
