// Cast between f32 f64 f16 bf16 s8 u8 s16 u16 s32 u32 s64 u64 bool, following the ONNX Cast rules:
// float → float rounds to nearest even (±inf when out of range); float → integer truncates toward
// zero; integer → integer keeps the low bits (two's complement); anything → bool is "nonzero";
// bool → number is 0 / 1. ONNX leaves float → integer out of range undefined: here NaN and
// out-of-range values give what x86's truncating conversions give (INT_MIN pattern for 32/64-bit
// targets, the low bits of the 32-bit result for 8/16-bit targets), never C++ UB.
#pragma once
#include "core/tensor.h"

namespace qforge::runtime {

bool cast_supports(DType t);
// y has x's shape and the target dtype.
void cast_ref(const Tensor& x, Tensor& y, int threads);

}  // namespace qforge::runtime
