#include "runtime/kernels/w4gemm.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "quant/nf4.h"

namespace qforge::runtime {

namespace {
constexpr W4GemmKernel kW4GemmKernels[] = {
    {"w4gemm_f32__scalar", w4gemm_f32__scalar, Isa::ref},
    {"w4gemm_f32__avx2", w4gemm_f32__avx2, Isa::avx2},
    {"w4gemm_f32__avx512", w4gemm_f32__avx512, Isa::avx512},
};
}  // namespace

std::span<const W4GemmKernel> w4gemm_kernels() { return kW4GemmKernels; }

const W4GemmKernel& w4gemm_kernel(Isa isa) { return kernel_for_isa(kW4GemmKernels, isa); }

void w4_lut_s4(float (&lut)[16]) {
  for (int c = 0; c < 16; ++c) lut[c] = static_cast<float>(c < 8 ? c : c - 16);
}
void w4_lut_u4(float (&lut)[16]) {
  for (int c = 0; c < 16; ++c) lut[c] = static_cast<float>(c);
}
void w4_lut_nf4(float (&lut)[16]) {
  for (int c = 0; c < 16; ++c) lut[c] = quant::kNf4Levels[c];
}

W4Packed pack_w4(int64_t K, int64_t N, int64_t block, const float (&lut)[16],
                 const std::function<int(int64_t, int64_t)>& code, const std::function<float(int64_t, int64_t)>& scale,
                 const std::function<float(int64_t, int64_t)>& zero) {
  QF_CHECK(K > 0 && N > 0 && block > 0 && block % 8 == 0, fmt::format("pack_w4: K {} N {} block {}", K, N, block));
  W4Packed w;
  w.K = K, w.N = N, w.block = block;
  w.tiles = (N + 15) / 16, w.groups = (K + 7) / 8, w.blocks = (K + block - 1) / block;
  std::copy(std::begin(lut), std::end(lut), std::begin(w.lut));
  w.codes.assign(static_cast<size_t>(w.tiles * w.groups * 64), 0);
  w.scales.assign(static_cast<size_t>(w.tiles * w.blocks * 16), 0.f);
  w.zeros.assign(static_cast<size_t>(w.tiles * w.blocks * 16), 0.f);
  for (int64_t t = 0; t < w.tiles; ++t)
    for (int64_t c = 0; c < 16; ++c) {
      const int64_t n = t * 16 + c;
      if (n >= N) continue;
      for (int64_t k = 0; k < K; ++k) {
        const int q = code(k, n);
        QF_CHECK(q >= 0 && q < 16, fmt::format("pack_w4: code {} at ({}, {})", q, k, n));
        const int64_t g = k / 8, r = k % 8;
        uint8_t& byte = w.codes[static_cast<size_t>((t * w.groups + g) * 64 + 16 * (r / 2) + c)];
        byte = static_cast<uint8_t>(byte | (r % 2 ? q << 4 : q));
      }
      for (int64_t b = 0; b < w.blocks; ++b) {
        w.scales[static_cast<size_t>((t * w.blocks + b) * 16 + c)] = scale(b, n);
        w.zeros[static_cast<size_t>((t * w.blocks + b) * 16 + c)] = zero(b, n);
      }
    }
  if (std::all_of(w.zeros.begin(), w.zeros.end(), [](float z) { return z == 0; })) w.zeros.clear();
  return w;
}

void w4gemm_ref(int64_t K, int64_t N, int64_t block, const float (&lut)[16],
                const std::function<int(int64_t, int64_t)>& code, const std::function<float(int64_t, int64_t)>& scale,
                const std::function<float(int64_t, int64_t)>& zero, const float* x, int64_t M, float* y) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float out = 0;
      for (int64_t b = 0, k0 = 0; k0 < K; ++b, k0 += block) {
        float acc = 0;
        const float z = zero(b, n);
        for (int64_t k = k0; k < std::min(K, k0 + block); ++k) acc = std::fma(x[m * K + k], lut[code(k, n)] - z, acc);
        out = std::fma(scale(b, n), acc, out);
      }
      y[m * N + n] = out;
    }
}

void w4gemm_f32__scalar(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end) {
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* codes = w.codes.data() + t * w.groups * 64;
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x + m * w.K;
      float out[16] = {};
      for (int64_t b = 0; b < w.blocks; ++b) {
        const float* s = w.scales.data() + (t * w.blocks + b) * 16;
        static constexpr float kNoZeros[16] = {};
        const float* z = w.has_zeros() ? w.zeros.data() + (t * w.blocks + b) * 16 : kNoZeros;
        float acc[16] = {};
        for (int64_t k = b * w.block; k < std::min(w.K, (b + 1) * w.block); ++k) {
          const uint8_t* row = codes + (k / 8) * 64 + 16 * ((k % 8) / 2);
          const int shift = (k % 2) * 4;
          for (int c = 0; c < 16; ++c) acc[c] = std::fma(xm[k], w.lut[(row[c] >> shift) & 0xF] - z[c], acc[c]);
        }
        for (int c = 0; c < 16; ++c) out[c] = std::fma(s[c], acc[c], out[c]);
      }
      for (int c = 0; c < 16 && t * 16 + c < w.N; ++c) y[m * w.N + t * 16 + c] = out[c];
    }
  }
}

void w4gemm_f32(const W4GemmKernel& k, const W4Packed& w, const float* x, int64_t M, float* y, int threads) {
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(threads, w.tiles));
#pragma omp parallel for num_threads(static_cast<int>(nt)) schedule(static) if (nt > 1 && w.K * w.N * M >= 65536)
  for (int64_t p = 0; p < nt; ++p) {
    const int64_t b = w.tiles * p / nt, e = w.tiles * (p + 1) / nt;
    if (b < e) k.fn(w, x, M, y, b, e);
  }
}

}  // namespace qforge::runtime
