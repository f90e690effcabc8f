// One-input math: Sqrt Exp Log Neg Abs Reciprocal Erf Floor Ceil Round Sign Sin Cos, and Not.
// Floats follow IEEE / the C library (Round: half to even). Neg, Abs and Sign also take integers
// (Neg and Abs wrap at the lowest value, as two's complement does); Not takes bool.
#pragma once
#include "core/tensor.h"

namespace qforge::runtime {

enum class UnaryOp { sqrt, exp, log, neg, abs, reciprocal, erf, floor, ceil, round, sign, sin, cos, not_ };

bool unary_supports(UnaryOp op, DType t);
// y has x's shape and dtype.
void unary_ref(UnaryOp op, const Tensor& x, Tensor& y, int threads);

}  // namespace qforge::runtime
