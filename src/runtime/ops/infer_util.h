// Small helpers shared by the ops' shape inference: axis normalisation, multidirectional
// broadcasting over (possibly symbolic) dims, attribute validation with node-naming errors.
#pragma once
#include <string>
#include <vector>

#include "runtime/op_registry.h"

namespace qforge::runtime {

// Axis in [-rank, rank) → [0, rank); InputError naming the node otherwise.
int normalize_axis(const ir::Node& node, int64_t axis, int rank);
// ONNX multidirectional (numpy) broadcasting of any number of shapes.
TypeShape broadcast(const ir::Node& node, const std::vector<const TypeShape*>& shapes, DType out);
Shape broadcast_shapes(const ir::Node& node, const Shape& a, const Shape& b);
// Throws InputError "<node>: <msg>".
template <typename... Args>
[[noreturn]] void fail_node(const ir::Node& node, fmt::format_string<Args...> f, Args&&... args) {
  fail_input("{}: {}", node.describe(), fmt::format(f, std::forward<Args>(args)...));
}
// Requires input i present with a shape of the given rank (-1: any).
void require_input(const InferCtx& c, size_t i, const char* what);
// Unknown-rank result of the same dtype as input 0 (for when static info is missing).
TypeShape same_as_input(const InferCtx& c, size_t i = 0);

}  // namespace qforge::runtime
