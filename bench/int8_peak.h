// The machine's int8 peak for the GEMM benchmarks (issue 5: "% of the machine's int8 peak, measured
// inside the benchmark with a dependency-free VPDPBUSD loop"), shared by bench_qgemm and
// bench_qgemm_vs_dnnl.
#pragma once
#include <omp.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace qforge::bench {

inline double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// 24 independent accumulators × `iters` VPDPBUSD zmm: 24 · 64 multiply-adds per iteration.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline int32_t vnni_loop(int64_t iters, int32_t seed) {
  __m512i acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_epi32(seed + i);
  const __m512i x = _mm512_set1_epi32(seed | 0x01010101), y = _mm512_set1_epi32(0x01FF01FF);
  for (int64_t it = 0; it < iters; ++it) {
    #pragma unroll
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], x, y);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]),
                     "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]), "+v"(acc[11]));
    __asm__ volatile("" : "+v"(acc[12]), "+v"(acc[13]), "+v"(acc[14]), "+v"(acc[15]), "+v"(acc[16]),
                     "+v"(acc[17]), "+v"(acc[18]), "+v"(acc[19]), "+v"(acc[20]), "+v"(acc[21]), "+v"(acc[22]),
                     "+v"(acc[23]));
  }
  __m512i s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_epi32(s, acc[i]);
  return _mm512_reduce_add_epi32(s);
}

// Peak int8 GOP/s on `threads` threads (each runs the loop; ops counted over all of them).
inline double vnni_peak(int threads, double seconds) {
  int64_t iters = 1 << 20;
  double best = 0;
  volatile int32_t sink = 0;
  const double t_end = now() + seconds;
  while (now() < t_end) {
    const double t0 = now();
#pragma omp parallel num_threads(threads)
    { sink = sink + vnni_loop(iters, omp_get_thread_num()); }
    const double dt = now() - t0;
    best = std::max(best, 2.0 * 24 * 64 * static_cast<double>(iters) * threads / dt * 1e-9);
  }
  return best;
}


}  // namespace qforge::bench
