#include "runtime/ops/infer_util.h"

#include <algorithm>

namespace qforge::runtime {

int normalize_axis(const ir::Node& node, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) fail_node(node, "axis {} is out of range for rank {}", axis, rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

TypeShape broadcast(const ir::Node& node, const std::vector<const TypeShape*>& shapes, DType out) {
  int rank = 0;
  for (const auto* s : shapes) {
    if (!s->has_shape) return TypeShape::unknown_rank(out);
    rank = std::max(rank, s->rank());
  }
  TypeShape r{out, true, std::vector<ir::Dim>(rank, ir::Dim::known(1))};
  for (int i = 0; i < rank; ++i) {
    ir::Dim acc = ir::Dim::known(1);
    for (const auto* s : shapes) {
      int j = i - (rank - s->rank());
      if (j < 0) continue;
      const ir::Dim& d = s->dims[j];
      if (d.is_known() && d.value == 1) continue;
      if (acc.is_known() && acc.value == 1) { acc = d; continue; }
      if (d.is_known() && acc.is_known()) {
        if (d.value != acc.value)
          fail_node(node, "inputs cannot be broadcast: dimension {} is {} in one and {} in another",
                    i, acc.value, d.value);
        continue;
      }
      if (d == acc) continue;
      // One symbolic and one known (>1) or two different symbols: the known size wins when there
      // is one (a symbol of size 1 would be the only other valid case); otherwise unknown.
      if (d.is_known()) acc = d;
      else if (!acc.is_known()) acc = ir::Dim{};
    }
    r.dims[i] = acc;
  }
  return r;
}

Shape broadcast_shapes(const ir::Node& node, const Shape& a, const Shape& b) {
  TypeShape ta = TypeShape::of(DType::f32, a), tb = TypeShape::of(DType::f32, b);
  return broadcast(node, {&ta, &tb}, DType::f32).concrete();
}

void require_input(const InferCtx& c, size_t i, const char* what) {
  if (!c.has_input(i)) fail_node(c.node, "missing required input {} ({})", i, what);
}

TypeShape same_as_input(const InferCtx& c, size_t i) { return c.in(i); }

}  // namespace qforge::runtime
