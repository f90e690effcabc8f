// Minimum, maximum and finiteness of a float array, for the calibration observers (quant/calibrate.cpp):
// one table of kernels (STYLE §3), every one the same lane loop (reference/minmax_lanes.h) compiled for
// its ISA. min and max are exact, and the flag is exact (the sum of v - v is NaN iff some v is not
// finite), so every kernel returns the same result.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::runtime {

struct MinMaxF32 {
  float min, max;
  bool finite;  // false when some value is ±inf or NaN (min and max are then meaningless)
};

using MinMaxFn = MinMaxF32 (*)(const float* x, size_t n);  // n >= 1

struct MinMaxKernel {
  std::string_view name;  // minmax_f32__<isa>
  MinMaxFn fn;
  Isa isa;
};

MinMaxF32 minmax_f32__ref(const float* x, size_t n);
MinMaxF32 minmax_f32__avx2(const float* x, size_t n);
MinMaxF32 minmax_f32__avx512(const float* x, size_t n);

std::span<const MinMaxKernel> minmax_kernels();
// The kernel of the active ISA.
MinMaxF32 minmax_f32(const float* x, size_t n);

}  // namespace qforge::runtime
