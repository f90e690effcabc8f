// INT8 depthwise convolution, NCHW vs NHWC: the existing direct NCHW path (qconv_dw_u8s8 with the best
// kernel of this CPU, its per-channel plane fill included) against the channels-last kernels
// (qconv_dw_nhwc_u8s8, best ISA and AVX2) on the 3×3 depthwise layers of models/fmnist_mobilenet.onnx,
// batch 1 and 32, one thread, u8 output with a Relu clamp. The timings are interleaved (one slice of
// each kernel in turn) and the best slice counts, so load from other processes hits both sides alike.
// Prints ms per call, GMAC/s (N·OH·OW·C·9 multiply-adds) and the NCHW / NHWC time ratio.
//
//   bench_dwconv_nhwc [--time S] [--batch N ...]   (S: seconds per kernel and shape, default 0.3)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "runtime/kernels/qconv.h"
#include "runtime/kernels/qconv_dw_nhwc.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Shape {
  const char* layer;
  int64_t c, hw, stride;
};

// The depthwise layers of fmnist_mobilenet (3×3, pads 1).
const Shape kShapes[] = {
    {"block1.dw", 32, 28, 1}, {"block2.dw", 64, 28, 2}, {"block3.dw", 128, 14, 1},
    {"block4.dw", 128, 14, 2}, {"block5.dw", 256, 7, 1},
};

ConvGeom geom(const Shape& s, int64_t n) {
  ConvGeom g;
  g.batch = n, g.in_channels = g.out_channels = g.group = s.c;
  g.in[1] = g.in[2] = s.hw, g.kernel[1] = g.kernel[2] = 3;
  for (int i = 1; i < 3; ++i) {
    g.stride[i] = s.stride, g.pad_begin[i] = g.pad_end[i] = 1;
    g.out[i] = (s.hw + 2 - 3) / s.stride + 1;
  }
  return g;
}

struct Timer {
  double best = 1e30;
  template <class F>
  void slice(F&& f, double seconds) {  // calls f until `seconds` pass; keeps the best time per call
    int iters = 0;
    const double t0 = now();
    double t = t0;
    do {
      f();
      ++iters;
      t = now();
    } while (t - t0 < seconds);
    best = std::min(best, (t - t0) / iters);
  }
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.3;
  std::vector<int64_t> batches;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--time") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batches.push_back(std::atoll(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_dwconv_nhwc [--time S] [--batch N ...]\n");
      return 2;
    }
  }
  if (batches.empty()) batches = {1, 32};
  const Isa isa = active_isa();
  const QconvDwKernel& nchw = qconv_dw_kernel(isa);
  const QconvDwNhwcKernel& nhwc = qconv_dw_nhwc_kernel(isa);
  const QconvDwNhwcKernel& nhwc2 = qconv_dw_nhwc_kernel(std::min(isa, Isa::avx2));
  std::printf("1 thread, u8 out with clamp; NCHW = %s (plane fill included), NHWC = %s; %s = the AVX2 kernel\n",
              std::string(nchw.name).c_str(), std::string(nhwc.name).c_str(), std::string(nhwc2.name).c_str());
  std::printf("%-10s %5s %4s %3s %3s | %9s %9s %9s | %7s %7s %7s | %6s\n", "layer", "batch", "C", "HW", "s",
              "NCHW ms", "NHWC ms", "avx2 ms", "NCHW", "NHWC", "avx2", "ratio");
  std::printf("%-10s %5s %4s %3s %3s | %9s %9s %9s | %7s %7s %7s | %6s\n", "", "", "", "", "", "", "", "",
              "GMAC/s", "GMAC/s", "GMAC/s", "");
  std::mt19937 rng(1);
  for (int64_t n : batches) {
    double tot[3] = {0, 0, 0};
    double tot_mac = 0;
    for (const Shape& s : kShapes) {
      const ConvGeom g = geom(s, n);
      std::vector<uint8_t> x(static_cast<size_t>(n * s.c * g.in_plane()));
      std::vector<int8_t> w(static_cast<size_t>(s.c * 9));
      std::vector<int32_t> bias(static_cast<size_t>(s.c));
      std::vector<float> scale(static_cast<size_t>(s.c));
      for (auto& v : x) v = static_cast<uint8_t>(rng());
      for (auto& v : w) v = static_cast<int8_t>(rng());
      for (auto& v : bias) v = static_cast<int32_t>(rng() % 20001) - 10000;
      for (auto& v : scale) v = 0.004f + static_cast<float>(rng() % 1000) * 1e-6f;
      QgemmOutputStage out;
      out.type = QgemmOut::u8, out.bias = bias.data(), out.scale = scale.data();
      out.zero_point = 3, out.qmin = 3, out.qmax = 255;
      const uint8_t x_zp = 117;
      std::vector<uint8_t> y(static_cast<size_t>(n * s.c * g.out_plane()));
      const QconvDwNhwcWeights pw = pack_qconv_dw_nhwc(nhwc, g, w.data());
      const QconvDwNhwcWeights pw2 = pack_qconv_dw_nhwc(nhwc2, g, w.data());
      // The NCHW kernel reads x as [N][C][H][W], the NHWC ones as [N][H][W][C]: the same bytes serve
      // as either (the timing does not depend on the values).
      Timer t[3];
      for (int rep = 0; rep < 5; ++rep) {
        t[0].slice([&] { qconv_dw_u8s8(nchw, g, x.data(), x_zp, w.data(), out, y.data(), 1); }, seconds / 5);
        t[1].slice([&] { qconv_dw_nhwc_u8s8(nhwc, g, x.data(), x_zp, pw, out, y.data(), 1); }, seconds / 5);
        t[2].slice([&] { qconv_dw_nhwc_u8s8(nhwc2, g, x.data(), x_zp, pw2, out, y.data(), 1); }, seconds / 5);
      }
      const double mac = static_cast<double>(n * g.out_plane() * s.c * 9);
      tot_mac += mac;
      for (int i = 0; i < 3; ++i) tot[i] += t[i].best;
      std::printf("%-10s %5lld %4lld %3lld %3lld | %9.4f %9.4f %9.4f | %7.2f %7.2f %7.2f | %5.2fx\n", s.layer,
                  (long long)n, (long long)s.c, (long long)s.hw, (long long)s.stride, t[0].best * 1e3,
                  t[1].best * 1e3, t[2].best * 1e3, mac / t[0].best * 1e-9, mac / t[1].best * 1e-9,
                  mac / t[2].best * 1e-9, t[0].best / t[1].best);
    }
    std::printf("%-10s %5lld %4s %3s %3s | %9.4f %9.4f %9.4f | %7.2f %7.2f %7.2f | %5.2fx\n", "all 5", (long long)n,
                "", "", "", tot[0] * 1e3, tot[1] * 1e3, tot[2] * 1e3, tot_mac / tot[0] * 1e-9,
                tot_mac / tot[1] * 1e-9, tot_mac / tot[2] * 1e-9, tot[0] / tot[1]);
  }
  return 0;
}
