// Weight-only 4-bit GEMV benchmark (issue 5: batch 1, K = N = 4096, ≥ 80% of the machine's memory read
// bandwidth): GB/s of weight bytes (4-bit codes + float32 block scales [+ zero points]) streamed by
// each w4gemm kernel this CPU runs, next to the read bandwidth measured here in the same run with a
// plain AVX-512 / AVX2 summing loop over a buffer much larger than the caches, on the same threads.
// The weights (≈ 10.5 MB) are also larger than the L2 caches; to keep them out of the L3 between
// calls, the benchmark cycles through enough weight copies to exceed 256 MB.
//
//   bench_w4gemv [--time S] [--k K] [--n N] [--block B]   (S: seconds per measurement, default 0.5)
#include <omp.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "runtime/kernels/w4gemm.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

__attribute__((target("avx2"))) float read_sum(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float o[8];
  _mm256_store_ps(o, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return o[0] + o[7];
}

// Read bandwidth (GB/s) on `threads` threads: each sums its share of a 512 MB buffer; best of the runs.
double read_bandwidth(int threads, double seconds) {
  const int64_t n = int64_t{1} << 27;  // 128 Mi floats = 512 MB
  float* buf = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(n) * 4));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) buf[i] = 1.0f;
  double best = 0;
  volatile float sink = 0;
  const double t_end = now() + seconds;
  do {
    const double t0 = now();
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const int64_t b = n / threads * t, e = t + 1 == threads ? n : n / threads * (t + 1);
      sink = sink + read_sum(buf + b, e - b);
    }
    best = std::max(best, static_cast<double>(n) * 4 / (now() - t0) * 1e-9);
  } while (now() < t_end);
  std::free(buf);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;
  int64_t K = 4096, N = 4096, block = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--time")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--k")) K = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--n")) N = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--block")) block = std::atoll(argv[i + 1]);
  }
  double bw[3] = {0, read_bandwidth(1, seconds), read_bandwidth(2, seconds)};
  std::printf("memory read bandwidth (summing loop, 512 MB): 1 thread %.1f GB/s, 2 threads %.1f GB/s\n", bw[1], bw[2]);

  std::mt19937 rng(1);
  std::uniform_int_distribution<int> code(0, 15);
  std::uniform_real_distribution<float> sc(0.001f, 0.1f), xv(-1.f, 1.f);
  std::vector<int> q(static_cast<size_t>(K * N));
  for (auto& v : q) v = code(rng);
  const int64_t nb = (K + block - 1) / block;
  std::vector<float> s(static_cast<size_t>(nb * N)), x(static_cast<size_t>(K)), y(static_cast<size_t>(N));
  for (auto& v : s) v = sc(rng);
  for (auto& v : x) v = xv(rng);
  float lut[16];
  w4_lut_s4(lut);
  const W4Packed w = pack_w4(
      K, N, block, lut, [&](int64_t k, int64_t n) { return q[k * N + n]; }, [&](int64_t b, int64_t n) { return s[b * N + n]; },
      [](int64_t, int64_t) { return 0.f; });
  const int copies = static_cast<int>(std::max<int64_t>(1, (int64_t{256} << 20) / w.weight_bytes()));
  std::vector<W4Packed> ws(static_cast<size_t>(copies), w);
  std::printf("s4 weights, K %lld, N %lld, block %lld: %.2f MB per GEMV (codes + float32 scales), %d copies cycled\n",
              static_cast<long long>(K), static_cast<long long>(N), static_cast<long long>(block), w.weight_bytes() / 1e6,
              copies);
  std::printf("%-22s %3s %9s %9s %8s\n", "kernel", "thr", "ms", "GB/s", "%read-bw");
  const Isa saved = active_isa();
  for (const auto& k : w4gemm_kernels()) {
    if (set_isa(k.isa) != k.isa) continue;
    for (int threads : {1, 2}) {
      double best_s = 1e30;
      int i = 0;
      const double t_end = now() + (k.isa == Isa::ref ? 0.0 : seconds);
      do {
        const double t0 = now();
        w4gemm_f32(k, ws[static_cast<size_t>(i++ % copies)], x.data(), 1, y.data(), threads);
        best_s = std::min(best_s, now() - t0);
      } while (now() < t_end);
      const double gbs = w.weight_bytes() / best_s * 1e-9;
      std::printf("%-22s %3d %9.3f %9.1f %7.1f%%\n", std::string(k.name).c_str(), threads, best_s * 1e3, gbs,
                  100.0 * gbs / bw[threads]);
    }
  }
  set_isa(saved);
  return 0;
}
