// qforge.FakeQuant — the training-only fake-quantization node of QAT (src/train/qat.h); never exported
// (QAT export turns it back into QuantizeLinear / DequantizeLinear).
//
//   inputs   x f32; scale f32; zero_point (optional) f32 / u8 / s8 / s32 / s4 / u4, the shape of scale
//   attrs    qmin, qmax (required): the clipping range of the codes; axis (default 1), block_size
//            (default 0): the granularity exactly as DequantizeLinear reads it from scale's shape —
//            a scalar (or one-element) scale is per tensor, a 1-D scale of length dim[axis] per axis,
//            a scale of x's rank with ceil(dim[axis] / block_size) along axis per block.
//   output   y = (clamp(round_half_even(x / s) + z, qmin, qmax) - z) · s   (quant::fake_quantize_value)
// With [qmin, qmax] = the storage range of the zero point's type this is QuantizeLinear → DequantizeLinear
// bit for bit; a narrower range (symmetric s8 weights [-127, 127]) equals it for every x the stored
// weights can hold. A float zero point (trained by LSQ) is rounded half to even and clamped to
// [qmin, qmax] first, so the forward always uses an integer zero point.
// The backward (straight-through estimator, LSQ gradients for scale and zero point) is
// train::backward_fake_quant (src/train/backward_quant.cpp).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::runtime {

inline constexpr const char* kFakeQuantDomain = "qforge";
inline constexpr const char* kFakeQuantOp = "FakeQuant";

// Element (o, a, i) of x viewed as [outer, axis_len, inner] uses scale[scale_index(o, a, i)].
struct FakeQuantLayout {
  int64_t outer = 1, axis_len = 1, inner = 1;
  int64_t block = 0;  // > 0: per block along the axis
  bool per_tensor = true;
  int64_t scale_index(int64_t o, int64_t a, int64_t i) const {
    if (per_tensor) return 0;
    if (block == 0) return a;
    return (o * ((axis_len + block - 1) / block) + a / block) * inner + i;
  }
};

struct FakeQuantSpec {
  int32_t qmin = 0, qmax = 255;
  FakeQuantLayout layout;
};

// Reads the attributes and checks scale's (and zero_point's) shape against x: InputError naming the
// node otherwise (also for qmin > qmax or a range wider than 2^22 codes).
FakeQuantSpec fake_quant_spec(const ir::Node& node, const Shape& x, const Shape& scale, const Shape* zero_point);
// Zero point k as the forward uses it: integer types as stored, f32 rounded half to even; clamped to
// [qmin, qmax]. An empty tensor (omitted input) gives 0.
int32_t fake_quant_zero_point(const Tensor& zp, int64_t k, int32_t qmin, int32_t qmax);
// The forward over a whole tensor (y has x's shape). Scales must be finite and > 0: InputError naming
// the node otherwise.
void fake_quant_forward(const ir::Node& node, const Tensor& x, const Tensor& scale, const Tensor& zp, Tensor& y);

}  // namespace qforge::runtime
