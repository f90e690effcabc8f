// Weight-only 4-bit MatMul (the w4a16 and nf4 presets): float activations times 4-bit weights that are
// dequantized inside the kernel, in registers — never expanded to a float weight matrix.
//
//   y[m][n] = Σ_b s[b][n] · acc_b,   acc_b = Σ_{k in block b, ascending} x[m][k] · (lut[q[k][n]] − z[b][n])
//
// with blocks of `block` consecutive k (the last one may be shorter), q the 4-bit code, lut the code's
// value (s4: −8..7, u4: 0..15, nf4: the NormalFloat levels) and z the block's zero point (0 for s4 and
// nf4). Every sum is a chain of float32 fused multiply-adds in the order written (acc_b from 0, then
// y = fma(s, acc_b, y) block by block), so each kernel equals the reference bit for bit.
//
// Packed layout (pack once per session): columns in tiles of 16 (N padded with zero codes); per tile,
// k in groups of 8 rows, 64 bytes per group: byte 16·i + c holds row 2i in its low nibble and row
// 2i + 1 in its high nibble, of column c of the tile. One 64-byte load gives 8 rows × 16 columns;
// the scales and zero points of a tile are 16 contiguous floats per block.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/cpu.h"

namespace qforge::runtime {

struct W4Packed {
  int64_t K = 0, N = 0, block = 0;
  int64_t tiles = 0, groups = 0, blocks = 0;  // ceil(N/16), ceil(K/8), ceil(K/block)
  float lut[16] = {};
  std::vector<uint8_t> codes;    // tiles × groups × 64
  std::vector<float> scales;     // tiles × blocks × 16
  std::vector<float> zeros;      // tiles × blocks × 16 (z as float); empty when every z is 0 (s4, nf4)
  bool has_zeros() const { return !zeros.empty(); }
  int64_t weight_bytes() const { return static_cast<int64_t>(codes.size() + 4 * (scales.size() + zeros.size())); }
};

// Builds the packed form from accessors: code(k, n) in [0, 16), scale(b, n), zero(b, n) (b = k / block).
// block must be a positive multiple of 8. When every zero is 0 none are stored (and none are read).
W4Packed pack_w4(int64_t K, int64_t N, int64_t block, const float (&lut)[16],
                 const std::function<int(int64_t, int64_t)>& code, const std::function<float(int64_t, int64_t)>& scale,
                 const std::function<float(int64_t, int64_t)>& zero);

// The lookup tables of the formats: s4 codes are two's complement nibbles (−8..7), u4 0..15.
void w4_lut_s4(float (&lut)[16]);
void w4_lut_u4(float (&lut)[16]);
void w4_lut_nf4(float (&lut)[16]);

// y [M, N] = x [M, K] · W for the packed W (row strides K and N).
using W4GemmFn = void (*)(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end);

struct W4GemmKernel {
  std::string_view name;  // w4gemm_f32__<isa>
  W4GemmFn fn;
  Isa isa;
};

void w4gemm_f32__scalar(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end);
void w4gemm_f32__avx2(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end);
void w4gemm_f32__avx512(const W4Packed& w, const float* x, int64_t M, float* y, int64_t tile_begin, int64_t tile_end);

std::span<const W4GemmKernel> w4gemm_kernels();
const W4GemmKernel& w4gemm_kernel(Isa isa);
inline const W4GemmKernel& w4gemm_kernel() { return w4gemm_kernel(active_isa()); }

// The driver: column tiles split over up to `threads` threads.
void w4gemm_f32(const W4GemmKernel& k, const W4Packed& w, const float* x, int64_t M, float* y, int threads);

// The reference (the spec above), on unpacked inputs: code(k, n), scale(b, n), zero(b, n).
void w4gemm_ref(int64_t K, int64_t N, int64_t block, const float (&lut)[16],
                const std::function<int(int64_t, int64_t)>& code, const std::function<float(int64_t, int64_t)>& scale,
                const std::function<float(int64_t, int64_t)>& zero, const float* x, int64_t M, float* y);

}  // namespace qforge::runtime
