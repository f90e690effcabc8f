// INT8 GEMM table benchmark (STYLE §3: the same table as dispatch and tests): GOP/s (2·M·N·K ops
// per second) of every kernel this CPU runs, on packed weights with the u8 requantizing output stage,
// at the issue-5 shapes, on 1 and 2 threads; and the machine's int8 peak, measured here with a
// dependency-free VPDPBUSD loop (24 independent accumulators), as the % column.
//
//   bench_qgemm [--time S]   (S: seconds per measurement, default 0.1)
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
#include "int8_peak.h"
#include "runtime/kernels/qgemm.h"

using namespace qforge;
using namespace qforge::runtime;
using qforge::bench::now;
using qforge::bench::vnni_peak;

int main(int argc, char** argv) {
  double seconds = 0.1;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!std::strcmp(argv[i], "--time")) seconds = std::atof(argv[i + 1]);
  const bool vnni = cpu_features().avx512vnni;
  double peak[3] = {0, 0, 0};
  if (vnni)
    for (int t : {1, 2}) peak[t] = vnni_peak(t, seconds);
  std::printf("int8 peak (VPDPBUSD zmm): 1 thread %.1f GOP/s, 2 threads %.1f GOP/s%s\n", peak[1], peak[2],
              vnni ? "" : " (no AVX-512 VNNI: % column omitted)");
  struct Shape {
    size_t M, N, K;
  };
  // Issue 5's conv- and transformer-like shapes, then the bundled CNN's narrow layers (batch 1): where
  // the 12x32 / 12x16 tiles beat the 6x64 one.
  const Shape shapes[] = {{3136, 64, 576}, {784, 128, 1152}, {196, 256, 2304}, {128, 768, 3072},
                          {1, 768, 768},   {784, 32, 288},   {196, 64, 576},   {784, 32, 9}};
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> ua(0, 255), ub(-128, 127);
  const Isa best = active_isa();
  std::printf("%-34s %-16s %3s %10s %9s %7s\n", "kernel", "MxNxK", "thr", "GOP/s", "ms", "%peak");
  for (const auto& k : qgemm_kernels()) {
    if (set_isa(k.isa) != k.isa) continue;
    for (const auto& s : shapes) {
      std::vector<uint8_t> a(s.M * s.K), c(s.M * s.N);
      std::vector<int8_t> b(s.K * s.N);
      for (auto& v : a) v = static_cast<uint8_t>(ua(rng));
      for (auto& v : b) v = static_cast<int8_t>(ub(rng));
      std::vector<float> scale(s.N, 1e-4f);
      std::vector<int32_t> bias(s.N, 7);
      QgemmOutputStage out;
      out.type = QgemmOut::u8;
      out.bias = bias.data(), out.scale = scale.data(), out.zero_point = 3;
      const QgemmPackedB pb = pack_weights_s8(k, s.K, s.N, b.data(), s.N, 1);
      for (int threads : {1, 2}) {
        qgemm_u8s8(k, s.M, a.data(), s.K, 128, pb, out, c.data(), s.N, threads);  // warm-up
        double best_s = 1e30;
        const double t_end = now() + (k.isa == Isa::ref ? 0.0 : seconds);
        do {
          const double t0 = now();
          qgemm_u8s8(k, s.M, a.data(), s.K, 128, pb, out, c.data(), s.N, threads);
          best_s = std::min(best_s, now() - t0);
        } while (now() < t_end);
        const double gops = 2.0 * s.M * s.N * s.K / best_s * 1e-9;
        char shape[64];
        std::snprintf(shape, sizeof shape, "%zux%zux%zu", s.M, s.N, s.K);
        std::printf("%-34s %-16s %3d %10.1f %9.3f %6.1f%%\n", std::string(k.name).c_str(), shape, threads, gops,
                    best_s * 1e3, peak[threads] > 0 ? 100.0 * gops / peak[threads] : 0.0);
      }
    }
  }
  set_isa(best);
  return 0;
}
