// The bodies of the BatchNormalization channel loops (bn_train.h), written once and compiled per
// ISA by bn_train.cpp, bn_train__avx2.cpp and bn_train__avx512.cpp (the compiler vectorizes the
// inner loops for each file's flags). Internal linkage and plain loops only, as in dw_grad_impl.h.
#pragma once
#include "train/kernels/bn_train.h"

namespace qforge::train {
namespace {

void bn_stats_body(const BnChannel& c, const float* x, float k, double* s1, double* s2) {
  double a = 0, b = 0;
  for (int64_t i = 0; i < c.n; ++i) {
    const float* p = x + i * c.stride;
    float u = 0.f, v = 0.f;
#pragma omp simd reduction(+ : u, v)
    for (int64_t j = 0; j < c.sp; ++j) {
      const float d = p[j] - k;
      u += d;
      v += d * d;
    }
    a += u, b += v;
  }
  *s1 = a, *s2 = b;
}

void bn_affine_body(const BnChannel& c, const float* x, float a, float b, float* y) {
  for (int64_t i = 0; i < c.n; ++i) {
    const float* p = x + i * c.stride;
    float* q = y + i * c.stride;
#pragma omp simd
    for (int64_t j = 0; j < c.sp; ++j) q[j] = a * p[j] + b;
  }
}

void bn_grad_sums_body(const BnChannel& c, const float* x, const float* dy, float mu, double* sdy, double* sdyxc) {
  double a = 0, b = 0;
  for (int64_t i = 0; i < c.n; ++i) {
    const float* p = x + i * c.stride;
    const float* g = dy + i * c.stride;
    float u = 0.f, v = 0.f;
#pragma omp simd reduction(+ : u, v)
    for (int64_t j = 0; j < c.sp; ++j) {
      u += g[j];
      v += g[j] * (p[j] - mu);
    }
    a += u, b += v;
  }
  *sdy = a, *sdyxc = b;
}

void bn_grad_x_body(const BnChannel& c, const float* x, const float* dy, float mu, float fa, float fb, float fc,
                    float* dx) {
  for (int64_t i = 0; i < c.n; ++i) {
    const float* p = x + i * c.stride;
    const float* g = dy + i * c.stride;
    float* q = dx + i * c.stride;
#pragma omp simd
    for (int64_t j = 0; j < c.sp; ++j) q[j] = fa * g[j] + fb * (p[j] - mu) + fc;
  }
}

}  // namespace
}  // namespace qforge::train
