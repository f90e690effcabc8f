// SGEMM microkernel table benchmark: GFLOP/s of every kernel this CPU runs (STYLE §3: the same
// table as dispatch and tests), on packed B, for a few shapes from the FP32 benchmark models; then
// the convolution paths built on it (im2col + SGEMM, with the im2col share, and the transposed
// pointwise product where it applies).
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
#include "core/tensor.h"
#include "runtime/kernels/conv_gemm.h"
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
      auto bbuf = alloc_aligned(sgemm_packed_b_floats(k, s.K, s.N) * sizeof(float));
      float* bpa = reinterpret_cast<float*>(bbuf.get());
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
  // Conv through im2col panels + SGEMM, and the im2col share of it.
  struct ConvCase {
    int64_t C, M, H, k, s;
    const char* what;
  };
  const ConvCase convs[] = {{32, 64, 28, 3, 1, "conv 32->64 3x3 @28"}, {64, 128, 14, 3, 1, "conv 64->128 3x3 @14"},
                            {512, 512, 6, 1, 1, "pw 512->512 @6"}, {32, 64, 48, 1, 1, "pw 32->64 @48"},
                            {3, 32, 96, 3, 2, "stem 3->32 3x3/2 @96"}, {128, 128, 24, 1, 1, "pw 128->128 @24"},
                            {256, 256, 12, 1, 1, "pw 256->256 @12"}};
  for (const auto& k : sgemm_kernels()) {
    if (k.isa == Isa::ref || set_isa(k.isa) != k.isa) continue;
    for (const auto& cc : convs) {
      ConvGeom g;
      g.in_channels = cc.C, g.out_channels = cc.M;
      g.in[1] = g.in[2] = cc.H;
      g.kernel[1] = g.kernel[2] = cc.k;
      g.stride[1] = g.stride[2] = cc.s;
      g.pad_begin[1] = g.pad_begin[2] = g.pad_end[1] = g.pad_end[2] = cc.k / 2;
      g.out[1] = g.out[2] = (cc.H + 2 * (cc.k / 2) - cc.k) / cc.s + 1;
      std::vector<float> x(static_cast<size_t>(cc.C * cc.H * cc.H)), w(static_cast<size_t>(cc.M * cc.C * cc.k * cc.k)),
          y(static_cast<size_t>(cc.M * g.out_plane()));
      for (auto& v : x) v = u(rng);
      for (auto& v : w) v = u(rng);
      double t_conv = 1e30, t_im2col = 1e30;
      const size_t K = static_cast<size_t>(cc.C * cc.k * cc.k), P = static_cast<size_t>(g.out_plane());
      std::vector<float> panel(K * k.nr + 64);
      for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        conv2d_f32__gemm(k, g, x.data(), w.data(), nullptr, FusedActivation{}, y.data(), threads);
        t_conv = std::min(t_conv, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        t0 = std::chrono::steady_clock::now();
        for (size_t q0 = 0; q0 < P; q0 += k.nr)
          im2col_kernel(k.isa)(g, x.data(), q0, std::min(k.nr, P - q0), k.nr, panel.data());
        t_im2col = std::min(t_im2col, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("%-26s %-24s %8.1f GFLOP/s  %8.3f ms (im2col alone %.3f ms)\n", std::string(k.name).c_str(), cc.what,
                  2.0 * static_cast<double>(K * P) * static_cast<double>(cc.M) / t_conv * 1e-9, t_conv * 1e3,
                  t_im2col * 1e3);
      if (conv1x1_transposed_pays(k, g)) {
        auto wbuf = alloc_aligned(sgemm_packed_b_floats(k, K, static_cast<size_t>(cc.M)) * sizeof(float));
        float* wt = reinterpret_cast<float*>(wbuf.get());
        pack_conv1x1_weights(k, g, w.data(), wt);
        double t = 1e30;
        for (int r = 0; r < reps; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          conv1x1_f32__gemm_t(k, g, x.data(), wt, nullptr, FusedActivation{}, y.data(), threads);
          t = std::min(t, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::printf("%-26s %-24s %8.1f GFLOP/s  %8.3f ms (transposed pointwise)\n", std::string(k.name).c_str(), cc.what,
                    2.0 * static_cast<double>(K * P) * static_cast<double>(cc.M) / t * 1e-9, t * 1e3);
      }
    }
  }
  set_isa(best);
  return 0;
}
