// Reference INT8 GEMM and the portable scalar microkernel (4x16 tile) for the ref level of the
// qgemm table: the same contract as the SIMD microkernels, so packing and the driver are tested on
// every machine.
#include "runtime/kernels/reference/qgemm_ref.h"

#include <cstring>

#include "core/error.h"

namespace qforge::runtime {

void qgemm_u8s8_s32__ref(size_t M, size_t N, size_t K, const uint8_t* a, size_t lda, uint8_t a_zp,
                         const int8_t* b, size_t b_rs, size_t b_cs, const QgemmOutputStage& out, void* c,
                         size_t ldc) {
  QF_CHECK(K <= kQgemmMaxK);
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      int32_t acc = 0;
      for (size_t k = 0; k < K; ++k)
        acc += (static_cast<int32_t>(a[m * lda + k]) - a_zp) * static_cast<int32_t>(b[k * b_rs + n * b_cs]);
      qgemm_store_ref(acc, n, out, c, m * ldc + n);
    }
}

void qgemm_u8s8_s32__ref_4x16(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda, int32_t a_zp,
                              const int8_t* b, const int32_t* col_sums, const QgemmOutputStage& out, void* c,
                              size_t ldc, size_t col0) {
  constexpr size_t kNR = 16;
  int32_t acc[4][kNR] = {};
  // b: [ceil(K/4)][16][4]; bytes past K are zero, so they may be multiplied by anything.
  for (size_t k = 0; k < K; ++k) {
    const int8_t* bk = b + (k / 4) * kNR * 4 + k % 4;
    for (size_t r = 0; r < mr; ++r) {
      const int32_t av = a[r * lda + k];
      for (size_t j = 0; j < kNR; ++j) acc[r][j] += av * bk[j * 4];
    }
  }
  for (size_t r = 0; r < mr; ++r)
    for (size_t j = 0; j < nr; ++j)
      qgemm_store_ref(acc[r][j] - a_zp * col_sums[j], col0 + j, out, c, r * ldc + j);
}

}  // namespace qforge::runtime
