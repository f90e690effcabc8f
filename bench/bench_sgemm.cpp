// SGEMM microkernel table benchmark: GFLOP/s of every kernel this CPU runs (STYLE §3: the same
// table as dispatch and tests), on packed B, for a few shapes from the FP32 benchmark models.
//
//   bench_sgemm [--threads T] [--reps R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "runtime/kernels/sgemm.h"

using namespace qforge;
using namespace qforge::runtime;

int main(int argc, char** argv) {
  int threads = 1, reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  struct Shape {
    size_t M, N, K;
    const char* what;
  };
  const Shape shapes[] = {{64, 784, 288, "conv 32->64 @28x28"}, {128, 196, 576, "conv 64->128 @14x14"},
                          {128, 768, 256, "qkv-like 128x256x768"}, {128, 1024, 256, "ffn1 128x256x1024"},
                          {128, 256, 1024, "ffn2 128x1024x256"}, {512, 512, 512, "square 512"}};
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  const Isa best = active_isa();
  for (const auto& k : sgemm_kernels()) {
    if (set_isa(k.isa) != k.isa) continue;
    for (const auto& s : shapes) {
      std::vector<float> a(s.M * s.K), b(s.K * s.N), c(s.M * s.N);
      for (auto& v : a) v = u(rng);
      for (auto& v : b) v = u(rng);
      std::vector<float> bp(sgemm_packed_b_floats(k, s.K, s.N) + 16);
      float* bpa = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(bp.data()) + 63) & ~uintptr_t{63});
      bp.resize(bp.size() + 16);
      bpa = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(bp.data()) + 63) & ~uintptr_t{63});
      sgemm_pack_b(k, s.K, s.N, b.data(), s.N, 1, 1.f, bpa, 0, (s.N + k.nr - 1) / k.nr);
      double best_s = 1e30;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        sgemm_packed(k, s.M, s.N, s.K, SgemmA{a.data(), s.K, 1}, bpa, c.data(), s.N, false, SgemmEpilogue{}, threads);
        best_s = std::min(best_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("%-26s %-24s %8.1f GFLOP/s  %8.3f ms\n", std::string(k.name).c_str(), s.what,
                  2.0 * s.M * s.N * s.K / best_s * 1e-9, best_s * 1e3);
    }
  }
  set_isa(best);
  return 0;
}
