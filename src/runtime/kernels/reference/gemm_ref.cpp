#include "runtime/kernels/reference/gemm_ref.h"

namespace qforge::runtime {

void gemm_f32__ref(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t a_rs,
                   int64_t a_cs, const float* b, int64_t b_rs, int64_t b_cs, float beta, float* c,
                   int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<double>(a[m * a_rs + k * a_cs]) * b[k * b_rs + n * b_cs];
      float& out = c[m * ldc + n];
      const double prior = beta == 0.f ? 0.0 : static_cast<double>(beta) * out;
      out = static_cast<float>(alpha * acc + prior);
    }
}

}  // namespace qforge::runtime
