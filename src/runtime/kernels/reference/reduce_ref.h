// Reductions over any set of axes, and ArgMax/ArgMin along one axis.
// Float reductions accumulate in double (sum-like) so results stay within float rounding of the exact
// value regardless of the reduction length. Empty reductions give the spec's identity: sum 0, prod 1,
// max -inf, min +inf, log_sum / log_sum_exp -inf, mean NaN.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

enum class ReduceKind { sum, mean, max, min, prod, l1, l2, sum_square, log_sum, log_sum_exp };

// dst holds the kept dims in order (keepdims does not change the layout). reduce[d]: axis d is reduced.
void reduce_f32__ref(const float* src, const Shape& shape, const std::vector<bool>& reduce, float* dst, ReduceKind kind);
// Integer reductions: sum, max, min, prod, l1, sum_square (wrapping in the element type).
void reduce_s32__ref(const int32_t* src, const Shape& shape, const std::vector<bool>& reduce, int32_t* dst, ReduceKind kind);
void reduce_s64__ref(const int64_t* src, const Shape& shape, const std::vector<bool>& reduce, int64_t* dst, ReduceKind kind);

// src viewed as [outer, n, inner]; dst[outer, inner] = index of the max (or min) along n; ties give
// the first index, or the last with select_last. n must be >= 1.
template <typename T>
void argmax_s64__ref(const T* src, int64_t outer, int64_t n, int64_t inner, int64_t* dst, bool is_min, bool select_last);

extern template void argmax_s64__ref<float>(const float*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
extern template void argmax_s64__ref<int32_t>(const int32_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
extern template void argmax_s64__ref<int64_t>(const int64_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
extern template void argmax_s64__ref<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
extern template void argmax_s64__ref<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);

}  // namespace qforge::runtime
