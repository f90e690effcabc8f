// ONNX QuantizeLinear / DequantizeLinear on f32:
//   quantize:   q = saturate(round_half_to_even(x / scale) + zero_point)
//   dequantize: y = (q - zero_point) * scale
// x / scale is one float32 division (not a multiply by 1/scale), as ONNX Runtime computes it; the
// rounding is half to even (the default floating-point rounding mode). Saturation ranges:
// u8 [0,255], s8 [-128,127], u16 [0,65535], s16 [-32768,32767], u4 [0,15], s4 [-8,7]. NaN
// quantizes to the lowest value of the range (what ONNX Runtime's kernels give).
// 4-bit tensors pack two elements per byte, element 2i in the low nibble (ONNX order).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/tensor.h"

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

// One element. Clamping x / scale to [qmin - zp, qmax - zp] before rounding equals rounding then
// clamping (the bounds are integers) and keeps huge, infinite and NaN values defined. Rounding
// adds and subtracts 1.5 * 2^23: for |v| < 2^22 the sum lands on the float grid of spacing 1, so
// the hardware rounds it half to even, exactly as std::nearbyint would (and the loop vectorises).
inline int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const float lo = static_cast<float>(qmin - zero_point), hi = static_cast<float>(qmax - zero_point);
  float v = x / scale;
  v = v >= lo ? v : lo;  // NaN → lo
  v = v <= hi ? v : hi;
  v = (v + kRound) - kRound;
  return static_cast<int32_t>(v) + zero_point;
}

inline float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

// 4-bit element access (i: element index).
inline int32_t unpack_s4(const uint8_t* p, int64_t i) {
  const uint8_t b = p[i >> 1];
  const int nib = (i & 1) ? (b >> 4) : (b & 0xF);
  return nib >= 8 ? nib - 16 : nib;
}
inline int32_t unpack_u4(const uint8_t* p, int64_t i) {
  const uint8_t b = p[i >> 1];
  return (i & 1) ? (b >> 4) : (b & 0xF);
}

// x f32 → y (dtype u8 s8 u16 s16 u4 s4, x's shape). scale f32 and zero_point (y's dtype, or
// nullptr for 0) are laid out as `layout` says.
void quantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y, const QuantLayout& layout,
                  int threads);
// x (u8 s8 u16 s16 s32 u4 s4) → y f32; zero_point has x's dtype or is nullptr.
bool dequant_dtype_supported(DType t);
void dequantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y,
                    const QuantLayout& layout, int threads);

}  // namespace qforge::runtime
