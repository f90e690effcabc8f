#include "runtime/kernels/reference/norm_ref.h"

#include <cmath>
#include <vector>

namespace qforge::runtime {

void batchnorm_f32__ref(const float* x, int64_t n, int64_t c, int64_t inner, const float* scale, const float* bias,
                        const float* mean, const float* var, float eps, float* y, int threads) {
  std::vector<float> a(c), b(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    a[ch] = scale[ch] / std::sqrt(var[ch] + eps);
    b[ch] = bias[ch] - mean[ch] * a[ch];
  }
#pragma omp parallel for num_threads(threads) if (n * c * inner > 65536)
  for (int64_t i = 0; i < n * c; ++i) {
    const int64_t ch = i % c;
    const float* xs = x + i * inner;
    float* ys = y + i * inner;
    for (int64_t j = 0; j < inner; ++j) ys[j] = xs[j] * a[ch] + b[ch];
  }
}

void layernorm_f32__ref(const float* x, int64_t rows, int64_t cols, const float* scale, const float* bias, float eps,
                        float* y, float* mean_out, float* inv_std_out, int threads) {
#pragma omp parallel for num_threads(threads) if (rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xs = x + r * cols;
    float* ys = y + r * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += xs[j];
    const double mean = sum / static_cast<double>(cols);
    double sq = 0;
    for (int64_t j = 0; j < cols; ++j) sq += (xs[j] - mean) * (xs[j] - mean);
    const double var = sq / static_cast<double>(cols);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    const auto m = static_cast<float>(mean);
    for (int64_t j = 0; j < cols; ++j) {
      float v = (xs[j] - m) * inv_std * scale[j];
      ys[j] = bias ? v + bias[j] : v;
    }
    if (mean_out) mean_out[r] = m;
    if (inv_std_out) inv_std_out[r] = inv_std;
  }
}

}  // namespace qforge::runtime
