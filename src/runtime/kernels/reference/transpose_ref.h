// Transpose of a dense row-major tensor, any element size:
//   dst[j0, ..., j(r-1)] = src[i] with i[perm[k]] = j[k]   (dst shape[k] = src shape[perm[k]])
#pragma once
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

void transpose_bytes__ref(const void* src, void* dst, const Shape& src_shape, const std::vector<int>& perm,
                          size_t elem_size, int threads);

}  // namespace qforge::runtime
