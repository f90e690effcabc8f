// Vectorised f32 transcendental activations and softmax (AVX2 + FMA), the fast path next to the
// reference kernels in reference/activation_ref.h and reference/softmax_ref.h. Accuracy (checked
// against the reference by tests/runtime/test_vmath.cpp): exp about 2 ulp; sigmoid, tanh, gelu_tanh
// within 2e-7 absolute / 1e-6 relative; gelu (erf form, Abramowitz-Stegun 7.1.26) within 1e-7 * |x|
// absolute. Results below ~1e-38 may be flushed to that size instead of 0 / denormals.
#pragma once
#include <cstdint>

#include "runtime/kernels/reference/activation_ref.h"

namespace qforge::runtime {

// True when activation_f32__avx2 covers `kind` (sigmoid, tanh, gelu, gelu_tanh).
bool activation_f32_has_avx2(ActivationKind kind);
// y[i] = kind(x[i]) for i < n; precondition: activation_f32_has_avx2(kind) and an AVX2+FMA CPU.
void activation_f32__avx2(ActivationKind kind, const float* x, float* y, int64_t n);
// Softmax / LogSoftmax over contiguous rows: x, y [rows, n].
void softmax_rows_f32__avx2(const float* x, float* y, int64_t rows, int64_t n, bool log, int threads);

}  // namespace qforge::runtime
