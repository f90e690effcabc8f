// The loop of the hist_bins_f32 kernels (hist_bins.h), included by each kernel's file and compiled with
// that file's ISA flags (internal linkage: each file keeps its own copy). v >= -t, so the truncation
// equals floor after the clamp at 0.
#pragma once
#include "runtime/kernels/hist_bins.h"

namespace qforge::runtime {
namespace {

inline void hist_bins_loop(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins) {
  for (size_t j = 0; j < m; ++j) {
    auto i = static_cast<int32_t>((static_cast<double>(v[j]) + t) * scale);
    i = i < 0 ? 0 : i;
    bins[j] = i > n - 1 ? n - 1 : i;
  }
}

}  // namespace
}  // namespace qforge::runtime
