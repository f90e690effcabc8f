// Softmax / LogSoftmax of f32 over one axis of a tensor viewed as [outer, n, inner] (row-major):
//   softmax:    y = exp(x - max) / sum(exp(x - max))
//   logsoftmax: y = (x - max) - log(sum(exp(x - max)))
// with max and sum taken over the n elements of each (outer, inner) line; subtracting the max keeps
// exp() from overflowing.
#pragma once
#include <cstdint>

namespace qforge::runtime {

void softmax_f32__ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log, int threads);

}  // namespace qforge::runtime
