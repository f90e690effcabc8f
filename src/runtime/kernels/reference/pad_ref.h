// Pad (ONNX Pad-19), any element size. Per axis, negative pads first crop the input to a window
// [max(0, -begin), dim - max(0, -end)) of length m; then max(begin, 0) / max(end, 0) elements are added:
//   constant: the value;  edge: window[clamp(i, 0, m-1)];  wrap: window[i mod m];
//   reflect:  mirrored on the first and last elements (numpy "reflect", period 2(m-1)).
#pragma once
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

enum class PadMode { constant, reflect, edge, wrap };

// begin: signed pads at the start of each axis; the end pads follow from out_shape.
// value: one element (constant mode). Precondition: a non-constant mode has m >= 1 on padded axes.
void pad_bytes__ref(const void* src, const Shape& in_shape, void* dst, const Shape& out_shape,
                    const std::vector<int64_t>& begin, PadMode mode, const void* value, size_t elem);

}  // namespace qforge::runtime
