// Histogram bin indices for the calibration histograms (quant/histogram.cpp), one table of kernels
// (STYLE §3), every one the same loop (reference/hist_bins_loop.h) compiled for its ISA:
//   bins[j] = clamp(trunc((double(v[j]) + t) · scale), 0, n - 1)
// An add, a multiply and a truncation in double, identical on every ISA.
// Precondition: every v[j] is finite and >= -t, and (v + t) · scale < 2^31.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::runtime {

using HistBinsFn = void (*)(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins);

struct HistBinsKernel {
  std::string_view name;  // hist_bins_f32__<isa>
  HistBinsFn fn;
  Isa isa;
};

void hist_bins_f32__ref(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins);
void hist_bins_f32__avx2(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins);
void hist_bins_f32__avx512(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins);

std::span<const HistBinsKernel> hist_bins_kernels();
// The kernel of the active ISA.
const HistBinsKernel& hist_bins_kernel();

}  // namespace qforge::runtime
