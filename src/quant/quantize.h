// Quantize / dequantize: the element formulas every part of qforge calls, and whole-tensor versions.
//
// ROUNDING RULE (the one place it is stated): round half to even — the IEEE default rounding mode,
// std::nearbyint — never half away from zero (std::round). 0.5 → 0, 1.5 → 2, 2.5 → 2, -0.5 → -0,
// -1.5 → -2.
//
//   quantize:   q = saturate(round_half_even(x / scale) + zero_point, [qmin, qmax])
//   dequantize: x' = (q - zero_point) * scale
// exactly ONNX QuantizeLinear / DequantizeLinear: x / scale is ONE float32 division (not x * (1/scale)),
// as ONNX Runtime computes it; dequantize is one float32 multiply of the exact integer difference.
// NaN quantizes to qmin (what ONNX Runtime's kernels give); ±Inf saturate.
// The range [qmin, qmax] is QParams::range() (quant/qparams.h): for asymmetric, non-reduced params it is
// the storage range ONNX saturates to, so quantize() equals QuantizeLinear bit for bit; symmetric or
// reduced params clamp to their narrower range, which equals QuantizeLinear for every x inside the
// range the params were chosen from.
// nf4 follows quant/nf4.h; f16 / bf16 are round-to-nearest-even casts (core/tensor.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/tensor.h"
#include "quant/qparams.h"

namespace qforge::quant {

inline float round_half_even(float v) { return std::nearbyint(v); }
inline double round_half_even(double v) { return std::nearbyint(v); }

// One element. Precondition: qmax - qmin < 2^22 (any 4-, 8- or 16-bit range).
// Clamping x / scale to [qmin - zp, qmax - zp] before rounding equals rounding then clamping (the
// bounds are integers) and keeps huge, infinite and NaN values defined. Rounding adds and subtracts
// 1.5 * 2^23: for |v| < 2^22 the sum lands on the float grid of spacing 1, so the FPU rounds it half to
// even, exactly as std::nearbyint would, and the loop vectorises.
inline int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const float lo = static_cast<float>(qmin - zero_point), hi = static_cast<float>(qmax - zero_point);
  float v = x / scale;
  v = v >= lo ? v : lo;  // NaN → lo
  v = v <= hi ? v : hi;
  v = (v + kRound) - kRound;
  return static_cast<int32_t>(v) + zero_point;
}

inline float dequantize_value(int64_t q, float scale, int64_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

// dequantize(quantize(x)): the forward of QAT fake-quantization and of error analysis.
inline float fake_quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  return dequantize_value(quantize_value(x, scale, zero_point, qmin, qmax), scale, zero_point);
}

// A bias to int32 at scale (usually s_in * s_w, as stored for its DequantizeLinear):
// round_half_even(b / scale) in double, saturated to the int32 range (saturated = true when it was).
struct BiasS32 {
  int32_t value = 0;
  bool saturated = false;
};
BiasS32 quantize_bias_s32(float b, float scale);

// Whole tensors. x: f32 of any shape; the result has x's shape and p.format (s4 / u4 / nf4 packed
// two per byte, quant/pack.h). Precondition: p fits x (check_qparams for untrusted p).
Tensor quantize(const Tensor& x, const QParams& p);
// q: a tensor of p.format → f32.
Tensor dequantize(const Tensor& q, const QParams& p);
// dequantize(quantize(x, p), p), f32.
Tensor fake_quantize(const Tensor& x, const QParams& p);

}  // namespace qforge::quant
