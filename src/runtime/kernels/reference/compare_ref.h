// Comparisons (bool output) and logical ops with multidirectional broadcasting, and Where.
// Bool tensors are one byte per element; any nonzero byte reads as true, outputs are 0 / 1.
#pragma once
#include "core/tensor.h"

namespace qforge::runtime {

enum class CompareOp { equal, less, less_equal, greater, greater_equal };
enum class LogicalOp { and_, or_, xor_ };

// a and b share a real dtype or bool (bool: equal only); y is bool with the broadcast shape.
bool compare_supports(CompareOp op, DType t);
void compare_ref(CompareOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads);
// a, b, y bool.
void logical_ref(LogicalOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads);
// y[i] = cond[i] ? x[i] : other[i] (all broadcast); x, other and y share any dtype of 1, 2, 4
// or 8 bytes per element.
bool where_supports(DType t);
void where_ref(const Tensor& cond, const Tensor& x, const Tensor& other, Tensor& y, int threads);

}  // namespace qforge::runtime
