// Data-movement kernels over whole elements of any size (row-major, strides in elements).
#pragma once
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

// Strided slice: dst[j] = src[start + j * step] per axis (steps may be negative; the caller has
// clamped starts so that every read is in range).
void slice_bytes__ref(const void* src, const Shape& src_shape, void* dst, const Shape& dst_shape,
                      const std::vector<int64_t>& starts, const std::vector<int64_t>& steps, size_t elem);

// Broadcast copy: src_shape has the rank of dst_shape, each dim equal to dst's or 1.
void broadcast_bytes__ref(const void* src, const Shape& src_shape, void* dst, const Shape& dst_shape, size_t elem);

// Tile: dst[j] = src[j mod src_shape] per axis (dst dims are multiples of src dims).
void tile_bytes__ref(const void* src, const Shape& src_shape, void* dst, const Shape& dst_shape, size_t elem);

// Gather along one axis: data viewed as [outer, n, inner]; dst is [outer, num_indices, inner];
// indices already normalised to [0, n).
void gather_bytes__ref(const void* src, int64_t outer, int64_t n, int64_t inner, const std::vector<int64_t>& indices,
                       void* dst, size_t elem);

}  // namespace qforge::runtime
