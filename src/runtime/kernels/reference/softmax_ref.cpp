#include "runtime/kernels/reference/softmax_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {
namespace {

// One contiguous line of n elements (inner == 1).
void softmax_line(const float* __restrict x, float* __restrict y, int64_t n, bool log) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
    const float lse = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - mx - lse;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      y[i] = std::exp(x[i] - mx);
      sum += y[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// One [n, inner] block: lines run down the columns; loops go along inner for contiguous access.
void softmax_block(const float* x, float* y, int64_t n, int64_t inner, bool log, float* mx, float* sum) {
  std::fill(mx, mx + inner, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + inner, 0.0f);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) mx[j] = std::max(mx[j], x[k * inner + j]);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) {
      const float e = std::exp(x[k * inner + j] - mx[j]);
      if (!log) y[k * inner + j] = e;
      sum[j] += e;
    }
  if (log) {
    for (int64_t j = 0; j < inner; ++j) sum[j] = std::log(sum[j]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) y[k * inner + j] = x[k * inner + j] - mx[j] - sum[j];
  } else {
    for (int64_t j = 0; j < inner; ++j) sum[j] = 1.0f / sum[j];
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) y[k * inner + j] *= sum[j];
  }
}

}  // namespace

void softmax_f32__ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log, int threads) {
  if (outer == 0 || n == 0 || inner == 0) return;
  const int64_t total = outer * n * inner;
  const int nt = (threads > 1 && total >= kParallelMinElements) ? threads : 1;
  if (inner == 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t o = 0; o < outer; ++o) softmax_line(x + o * n, y + o * n, n, log);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    std::vector<float> mx(inner), sum(inner);
#pragma omp for schedule(static)
    for (int64_t o = 0; o < outer; ++o)
      softmax_block(x + o * n * inner, y + o * n * inner, n, inner, log, mx.data(), sum.data());
  }
}

}  // namespace qforge::runtime
