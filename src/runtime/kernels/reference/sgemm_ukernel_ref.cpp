// Portable scalar SGEMM microkernel (4x8 tile) for the ref level of the table: the same contract as
// the SIMD microkernels, so the packing and blocking driver is tested on every machine.
#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

void sgemm_f32__ref_4x8(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                        const float* b, float* c, size_t ldc, bool accumulate, const SgemmEpilogue* ep,
                        size_t row0, size_t col0) {
  constexpr size_t kNR = 8;
  float acc[4][kNR] = {};
  for (size_t k = 0; k < kc; ++k)
    for (size_t r = 0; r < mr; ++r) {
      const float av = a[r * a_rs + k * a_cs];
      for (size_t j = 0; j < kNR; ++j) acc[r][j] += av * b[k * kNR + j];
    }
  for (size_t r = 0; r < mr; ++r)
    for (size_t j = 0; j < nr; ++j) {
      float v = acc[r][j] + (accumulate ? c[r * ldc + j] : 0.f);
      if (ep) {
        if (ep->bias) v += ep->bias_per_row ? ep->bias[row0 + r] : ep->bias[col0 + j];
        v = ep->act.apply(v);
      }
      c[r * ldc + j] = v;
    }
}

}  // namespace qforge::runtime
