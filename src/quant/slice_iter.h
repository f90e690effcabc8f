// Walks a tensor laid out as [outer, axis_len, inner] (quant/qparams.h SliceLayout) and yields, for
// each element in memory order, the index of the scale it uses:
//   per channel: scale[a];  per group: scale[(o * groups + a / group_size) * inner + i].
#pragma once
#include <cstdint>

#include "quant/qparams.h"

namespace qforge::quant {

// fn(element_index, scale_index) for every element, in memory order.
template <class Fn>
void for_each_scale_index(const SliceLayout& l, bool per_group, Fn&& fn) {
  int64_t e = 0;
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t a = 0; a < l.axis_len; ++a) {
      const int64_t row = per_group ? (o * l.groups + a / l.group_size) * l.inner : -1;
      for (int64_t i = 0; i < l.inner; ++i, ++e) fn(e, per_group ? row + i : a);
    }
}

// The layout of x for QParams-style (axis, group_size); per tensor: one slice holding every element.
inline SliceLayout params_layout(const Shape& x, int axis, int64_t group_size) {
  if (axis == QParams::kPerTensor) {
    SliceLayout l;
    l.inner = shape_numel(x);
    return l;  // axis_len 1, per channel with one "channel": scale[0]
  }
  return slice_layout(x, axis, group_size);
}

}  // namespace qforge::quant
