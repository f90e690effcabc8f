// Matrix product, the spec (ONNX Gemm / MatMul): plain loops, double accumulation.
// Operands are strided views: A(m, k) = a[m*a_rs + k*a_cs], B(k, n) = b[k*b_rs + n*b_cs], so
// transposed operands need no copy. C is row-major with row stride ldc.
#pragma once
#include <cstdint>

namespace qforge::runtime {

// C = alpha · A·B + beta · C   (beta == 0: C is not read, so it may hold garbage)
void gemm_f32__ref(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t a_rs,
                   int64_t a_cs, const float* b, int64_t b_rs, int64_t b_cs, float beta, float* c,
                   int64_t ldc);

}  // namespace qforge::runtime
