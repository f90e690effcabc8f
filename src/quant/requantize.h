// Requantization of int32 accumulators for the integer runtime: out = saturate(round(acc * M) + zp),
// M = s_in * s_w / s_out. Two definitions; a kernel picks one and its optimized versions equal its
// scalar reference bit for bit.
//
// Float path (ONNX Runtime MLAS / XNNPACK "fp32" style, the simplest to vectorise exactly):
//   v = float(acc) * scale              (int32 → float rounds to nearest even; one float32 multiply)
//   out = saturate(round_half_even(v) + zp)
//   = cvtepi32_ps, mul_ps, clamp to [qmin - zp, qmax - zp], cvtps_epi32 (nearest even), add zp.
//
// Fixed-point path (gemmlowp / TFLite multiplier and shift, but with ONE rounding):
//   quantize_multiplier(M) = {m, shift} with M ≈ m * 2^(shift - 31), m in [2^30, 2^31) (or 0);
//   out = saturate(round_half_even(acc * m / 2^(31 - shift)) + zp)
// computed exactly in int64: the product acc * m fits in 63 bits and is rounded once, half to even,
// by an arithmetic shift — so the result is the exact dyadic value acc * m * 2^(shift-31) rounded with
// the same rule as QuantizeLinear (unlike TFLite's doubling-high-mul + rounding-divide, which rounds
// twice, half away from zero). It differs from the real-valued formula only where acc * M lies within
// |acc| * M * 2^-31 of a tie.
#pragma once
#include <algorithm>
#include <cstdint>

namespace qforge::quant {

inline int32_t requantize_f32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: rounds half to even for |v| < 2^22 (see quantize.h)
  float v = static_cast<float>(acc) * scale;
  const float lo = static_cast<float>(qmin - zero_point), hi = static_cast<float>(qmax - zero_point);
  v = v >= lo ? v : lo;
  v = v <= hi ? v : hi;
  v = (v + kRound) - kRound;
  return static_cast<int32_t>(v) + zero_point;
}

// real_multiplier ≈ multiplier * 2^(shift - 31).
struct QuantizedMultiplier {
  int32_t multiplier = 0;  // 0 or in [2^30, 2^31)
  int shift = 0;           // in [-31, 30]
};

// Precondition: real_multiplier finite and >= 0. The mantissa is rounded half away from zero to 31
// bits (relative error <= 2^-31). Multipliers below 2^-32 become {0, 0} (every int32 acc then rounds to
// 0 anyway); multipliers >= 2^30 are clamped to {2^31 - 1, 30} (any nonzero acc then saturates a 16-bit
// or narrower output either way).
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// The exact value m * 2^(shift - 31) (for tests and reports).
double multiplier_value(QuantizedMultiplier m);

inline int32_t requantize(int32_t acc, QuantizedMultiplier m, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const int64_t prod = static_cast<int64_t>(acc) * m.multiplier;  // |prod| < 2^62
  const int n = 31 - m.shift;                                      // 1..62
  // floor((prod + 2^(n-1) - 1 + parity) / 2^n) rounds half to even (>> is floor on int64 in C++20).
  const int64_t half = (int64_t{1} << (n - 1)) - 1;
  const int64_t q = (prod + half + ((prod >> n) & 1)) >> n;
  const int64_t v = q + zero_point;
  return static_cast<int32_t>(std::clamp<int64_t>(v, qmin, qmax));
}

}  // namespace qforge::quant
