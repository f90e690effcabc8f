// The minmax lane loop (reference/minmax_lanes.h) compiled for AVX-512.
#include "runtime/kernels/reference/minmax_lanes.h"

namespace qforge::runtime {

MinMaxF32 minmax_f32__avx512(const float* x, size_t n) { return minmax_lanes(x, n); }

}  // namespace qforge::runtime
