// Cast (attribute `to`) and CastLike (dtype of input 1). `saturate` and `round_mode` only concern
// float8 targets, which qforge does not support (an InputError names the node).
#include <cstdint>

#include "runtime/kernels/reference/cast_ref.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

DType checked_target(const ir::Node& node, DType to) {
  if (!cast_supports(to)) fail_node(node, "casting to {} is not supported", dtype_name(to));
  return to;
}

std::vector<TypeShape> infer_cast(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  require_dtype(c, 0, "input", cast_supports);
  if (!c.node.has_attr("to")) fail_node(c.node, "attribute 'to' is required");
  const int64_t code = attr_int(c.node, "to", 0);
  const auto to = code >= INT32_MIN && code <= INT32_MAX ? dtype_from_onnx(static_cast<int32_t>(code)) : std::nullopt;
  if (!to) fail_node(c.node, "attribute 'to' = {} is not a known data type", code);
  return shape_of_input(c, 0, checked_target(c.node, *to));
}

std::vector<TypeShape> infer_cast_like(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "input", cast_supports);
  require_input(c, 1, "target_type");
  const DType to = c.in(1).dtype;
  return shape_of_input(c, 0, to == DType::undefined ? to : checked_target(c.node, to));
}

void compute_cast(KernelCtx& k) { cast_ref(k.inputs[0], k.outputs[0], k.threads); }

}  // namespace

void register_ops_cast(std::vector<OpDef>& ops) {
  ops.push_back({"Cast", "", infer_cast, compute_cast});
  ops.push_back({"CastLike", "", infer_cast_like, compute_cast});
}

}  // namespace qforge::runtime
