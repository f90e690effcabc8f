// Reference kernels of the quantized ops qforge's exports use besides QuantizeLinear /
// DequantizeLinear (the spec of each; ONNX Runtime is the oracle in tests/oracle/gen_quant_ext.py):
//
// DynamicQuantizeLinear (ONNX, u8): over the whole tensor
//   lo = min(0, min x), hi = max(0, max x)
//   scale = hi == lo ? 1 : (hi - lo) / 255                       (float32, as ONNX Runtime computes it)
//   zero_point = round_half_even(clamp(0 - lo / scale, 0, 255))
//   y = saturate(round_half_even(x / scale) + zero_point)        (quant/quantize.h)
//
// MatMulInteger (ONNX): Y = (A - a_zp) · (B - b_zp) accumulated exactly in int32, numpy batch
// broadcasting; A, B u8 or s8; a_zp a scalar or one per row of a 2-D A; b_zp a scalar or one per
// column (N).
//
// MatMulBnb4 (com.microsoft, quant_type 1 = NF4): Y = A · W with W[k][n] = level(code[n·K + k]) ·
// absmax[(n·K + k) / block_size]; codes packed two per byte, element 2i in the HIGH nibble
// (bitsandbytes); A [..., K] f32 → Y [..., N] f32; the dot products summed in float32, k ascending.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace qforge::runtime {

struct DynamicQParamsU8 {
  float scale = 1;
  int32_t zero_point = 0;
};
DynamicQParamsU8 dynamic_qparams_u8(const float* x, int64_t n);
// y: u8 with x's shape; scale: f32 scalar; zero_point: u8 scalar.
void dynamic_quantize_linear_ref(const Tensor& x, Tensor& y, Tensor& scale, Tensor& zero_point);

// One [M, K] × [K, N] product: a and b u8 or s8 (a_signed / b_signed); a_zp has M entries or 1,
// b_zp N entries or 1 (nullptr: 0). y: M × N int32, row-major.
void matmul_integer_ref(const void* a, bool a_signed, const void* b, bool b_signed, int64_t M, int64_t N,
                        int64_t K, const int32_t* a_zp, int64_t a_zp_count, const int32_t* b_zp,
                        int64_t b_zp_count, int32_t* y);

// W[k][n] as f32 [K, N] from MatMulBnb4's packed NF4 B and absmax.
Tensor dequantize_bnb4_nf4_ref(const uint8_t* packed, const float* absmax, int64_t K, int64_t N, int64_t block_size);

}  // namespace qforge::runtime
