// Normalisation kernels (f32).
//  batchnorm: y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c], x as [N, C, inner]
//             (computed as x * a[c] + b[c] with a = scale / sqrt(var + eps), b = bias - mean * a)
//  layernorm: per row of `cols` values: mean = sum(x) / cols, var = sum((x - mean)^2) / cols,
//             inv_std = 1 / sqrt(var + eps), y = (x - mean) * inv_std * scale[j] + bias[j]
#pragma once
#include <cstdint>

namespace qforge::runtime {

void batchnorm_f32__ref(const float* x, int64_t n, int64_t c, int64_t inner, const float* scale, const float* bias,
                        const float* mean, const float* var, float eps, float* y, int threads);

// bias, mean_out and inv_std_out may be null; mean_out / inv_std_out get one value per row.
void layernorm_f32__ref(const float* x, int64_t rows, int64_t cols, const float* scale, const float* bias, float eps,
                        float* y, float* mean_out, float* inv_std_out, int threads);

}  // namespace qforge::runtime
