// The hist_bins loop (reference/hist_bins_loop.h) compiled for AVX2.
#include "runtime/kernels/reference/hist_bins_loop.h"

namespace qforge::runtime {

void hist_bins_f32__avx2(const float* v, size_t m, double t, double scale, int32_t n, int32_t* bins) {
  hist_bins_loop(v, m, t, scale, n, bins);
}

}  // namespace qforge::runtime
