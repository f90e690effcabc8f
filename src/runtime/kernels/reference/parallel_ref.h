// Splitting work across OpenMP threads: a flat range of elements for the elementwise reference
// kernels (small tensors run on the calling thread: below kParallelMinElements the fork/join costs
// more than it saves), and a count of independent tasks for the other kernels.
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

// fn(t) for every t in [0, tasks), split statically over up to `threads` OpenMP threads. With one
// thread or one task it is a plain loop on the calling thread with no OpenMP call at all: even a
// serialized `parallel for` enters the runtime (fork bookkeeping, loop scheduling) on every call,
// which showed at a few percent of a batch-1 inference. fn must not throw.
template <class Fn>
void parallel_tasks(int64_t tasks, int threads, Fn&& fn) {
  if (threads <= 1 || tasks <= 1) {
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t t = 0; t < tasks; ++t) fn(t);
}

}  // namespace qforge::runtime
