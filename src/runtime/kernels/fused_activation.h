// An activation fused into the output stage of a Conv / Gemm / MatMul kernel (set by the
// fuse_activation pass as qforge.activation* node attributes):
//   none
//   clamp:  y = min(max(x, lo), hi)     Relu = clamp [0, +inf), Clip = clamp [min, max]
//   leaky:  y = x < 0 ? alpha * x : x   LeakyRelu
// NaN passes through every kind (as in the unfused ops).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace qforge::runtime {

struct FusedActivation {
  enum class Kind : uint8_t { none, clamp, leaky };
  Kind kind = Kind::none;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  float alpha = 0.01f;

  float apply(float v) const {
    switch (kind) {
      case Kind::none: return v;
      case Kind::clamp: return v < lo ? lo : (v > hi ? hi : v);
      case Kind::leaky: return v < 0.f ? alpha * v : v;
    }
    return v;
  }
  void apply(float* y, size_t n) const {
    if (kind == Kind::none) return;
    for (size_t i = 0; i < n; ++i) y[i] = apply(y[i]);
  }
};

}  // namespace qforge::runtime
