// NF4 (4-bit NormalFloat, QLoRA): 16 fixed levels in [-1, 1]; a slice (usually a group of 32-64
// weights along the reduction axis) stores one float scale = its absmax.
//   quantize:   code = nearest level to x * (1 / absmax)   (multiply by the reciprocal, as bitsandbytes
//               and ONNX Runtime's MatMulBnb4 quantizer do)
//   dequantize: x' = kNf4Levels[code] * absmax
// "Nearest" is decided against the 15 midpoints kNf4Thresholds with `v > threshold` → the upper level,
// exactly bitsandbytes' dQuantizeNF4 decision tree: a value on a midpoint takes the lower level, NaN
// takes code 0. Codes are packed like u4 (quant/pack.h); code 7 is exactly 0.0.
// Levels and midpoints: bitsandbytes csrc/kernels.cu (dDequantizeNF4 / dQuantizeNF4).
#pragma once
#include <cstdint>

namespace qforge::quant {

inline constexpr float kNf4Levels[16] = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

// kNf4Thresholds[k] = midpoint of kNf4Levels[k] and kNf4Levels[k + 1].
inline constexpr float kNf4Thresholds[15] = {
    -0.8480964004993439f,  -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
    -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
    0.1202552504837513f,   0.2035212516784668f,  0.2920137718319893f,  0.3893125355243683f,
    0.5016634166240692f,   0.6427869200706482f,  0.8614784181118011f,
};

// Code of the level nearest to a normalized value (the number of midpoints below it).
inline uint8_t nf4_code(float v) {
  int c = 0;
  for (float t : kNf4Thresholds) c += v > t;
  return static_cast<uint8_t>(c);
}

inline float nf4_level(int32_t code) { return kNf4Levels[code & 0xF]; }

// One element: inv_scale = 1.0f / absmax of its slice.
inline uint8_t nf4_quantize_value(float x, float inv_scale) { return nf4_code(x * inv_scale); }
inline float nf4_dequantize_value(int32_t code, float scale) { return nf4_level(code) * scale; }

}  // namespace qforge::quant
