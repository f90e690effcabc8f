// Two-input arithmetic with multidirectional broadcasting: Add, Sub, Mul, Div, Min, Max, Pow.
// Integers wrap on overflow (two's complement) and divide truncating toward zero; the caller must
// reject integer division by zero (binary_has_zero) before calling.
#pragma once
#include "core/tensor.h"

namespace qforge::runtime {

enum class BinaryOp { add, sub, mul, div, min, max };

// a, b and y share one real dtype (f32 f64 s8 u8 s16 u16 s32 u32 s64 u64); y has the broadcast shape.
bool binary_supports(DType t);
void binary_ref(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads);
// True when an integer tensor holds a zero (integer Div precondition).
bool binary_has_zero(const Tensor& t);

// Pow: y = a ^ b. Base dtypes f32 f64 s32 s64; the exponent is any real dtype (converted to the
// base's float type for float bases, to s64 or f64 for integer bases). Integer base with integer
// exponent is exact (wrapping); negative integer exponents truncate 1 / a^|b| toward zero.
bool pow_supports(DType base, DType exponent);
void pow_ref(const Tensor& a, const Tensor& b, Tensor& y, int threads);

}  // namespace qforge::runtime
