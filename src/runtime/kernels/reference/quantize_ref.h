// ONNX QuantizeLinear / DequantizeLinear on f32:
//   quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)
//   dequantize: y = (q - zero_point) * scale
// The element math, rounding rule, saturation ranges and 4-bit packing are quant/quantize.h and
// quant/pack.h (STYLE §4: written once); this file lays them over tensors, per tensor / axis / block.
// Saturation ranges: u8 [0,255], s8 [-128,127], u16 [0,65535], s16 [-32768,32767], u4 [0,15], s4 [-8,7].
// NaN quantizes to the lowest value of the range (what ONNX Runtime's kernels give).
// 4-bit tensors pack two elements per byte, element 2i in the low nibble (ONNX order).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/tensor.h"
#include "quant/pack.h"
#include "quant/quantize.h"

namespace qforge::runtime {

// How scales map onto x viewed as [outer, axis_len, inner] (row-major).
enum class QuantGranularity { per_tensor, per_axis, blocked };
struct QuantLayout {
  QuantGranularity granularity = QuantGranularity::per_tensor;
  int64_t outer = 1, axis_len = 1, inner = 1;
  int64_t block = 0;  // blocked: consecutive elements along the axis that share one scale
  // per_tensor: one scale; per_axis: scale[a]; blocked: scale[o][a / block][i].
};

// Integer range of a quantized dtype (u8 s8 u16 s16 u4 s4).
bool quant_dtype_supported(DType t);
int32_t quant_min(DType t);
int32_t quant_max(DType t);

// One element (quant/quantize.h).
inline int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  return quant::quantize_value(x, scale, zero_point, qmin, qmax);
}

inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return quant::dequantize_value(q, scale, zero_point);
}

// 4-bit element access (i: element index; quant/pack.h).
inline int32_t unpack_s4(const uint8_t* p, int64_t i) { return quant::unpack_s4(p, i); }
inline int32_t unpack_u4(const uint8_t* p, int64_t i) { return quant::unpack_u4(p, i); }

// x f32 → y (dtype u8 s8 u16 s16 u4 s4, x's shape). scale f32 and zero_point (y's dtype, or
// nullptr for 0) are laid out as `layout` says.
void quantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y, const QuantLayout& layout,
                  int threads);
// x (u8 s8 u16 s16 s32 u4 s4) → y f32; zero_point has x's dtype or is nullptr.
bool dequant_dtype_supported(DType t);
void dequantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y,
                    const QuantLayout& layout, int threads);

}  // namespace qforge::runtime
