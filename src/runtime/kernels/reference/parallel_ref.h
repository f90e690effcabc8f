// Splitting a flat range of elements across OpenMP threads for the elementwise reference kernels.
// Small tensors run on the calling thread: below kParallelMinElements the fork/join costs more
// than it saves.
#pragma once
#include <algorithm>
#include <cstdint>

namespace qforge::runtime {

inline constexpr int64_t kParallelMinElements = 32768;

// Calls fn(begin, end) over [0, n) in at most `threads` contiguous chunks. Chunk borders are
// multiples of 64 elements (whole cache lines for every element size, and whole bytes for packed
// 4-bit outputs). fn must not throw.
template <class Fn>
void parallel_chunks(int64_t n, int threads, Fn&& fn) {
  if (threads <= 1 || n < kParallelMinElements) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, n / (kParallelMinElements / 2));
  const int64_t step = ((n + chunks - 1) / chunks + 63) / 64 * 64;
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  }
}

}  // namespace qforge::runtime
