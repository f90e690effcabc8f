// Quantization parameters and how they are chosen from a range.
//
// Meaning (DESIGN vocabulary, = ONNX QuantizeLinear / DequantizeLinear):
//   real = scale * (q - zero_point);   q = saturate(round_half_to_even(real / scale) + zero_point)
// The rounding rule lives in quant/quantize.h. The RANGE POLICY lives here, once:
//
//   format  storage range   symmetric range (zero_point)     reduced_range (7-bit, 8-bit formats only)
//   s8      [-128, 127]     [-127, 127]  (0)                 [-64, 63]; symmetric [-63, 63] (0)
//   u8      [0, 255]        [1, 255]     (128)               [0, 127];  symmetric [1, 127] (64)
//   s4      [-8, 7]         [-7, 7]      (0)                 -
//   u4      [0, 15]         [1, 15]      (8)                 -
//   s16/u16 [-32768, 32767] / [0, 65535], symmetric [-32767, 32767] (0) / [1, 65535] (32768)
//   nf4     16 NormalFloat levels in [-1, 1] times a per-slice absmax scale (quant/nf4.h); no zero point
//
// Symmetric ranges drop the lowest code so that +amax and -amax both fit: scale = amax / h with
// h = (qmax - qmin - 1) / 2 (127 for s8 and u8, 7 for s4 and u4, 63 reduced), zero_point = 0 for signed
// formats and qmin + h + 1 (the middle code) for unsigned ones. qforge's default is symmetric weights
// (s8 [-127, 127]) and asymmetric activations (u8 [0, 255]); the recipe chooses, this file only obeys.
//
// Asymmetric: the range is first widened to contain 0 (min' = min(min, 0), max' = max(max, 0)), then
//   scale = (max' - min') / (qmax - qmin),  zero_point = clamp(round_half_even(qmin - min' / scale))
// computed in double and the scale stored as float; real 0.0 quantizes to zero_point exactly.
//
// Degenerate ranges — all zeros, denormal spans, or any range whose scale would fall below FLT_MIN (the
// smallest normal float): scale = 1.0; zero_point = the symmetric zero point (0 signed, middle code
// unsigned) for symmetric schemes, 0 for asymmetric ones. Nothing ever divides by zero or by a denormal
// and 0.0 stays exact. A nonzero constant c (min == max == c) is not degenerate: the range widens to
// [min(c, 0), max(c, 0)] and c maps to an end code (and back to c when c / scale lands on it exactly).
// nf4: scale = absmax, or 1.0 below FLT_MIN.
// A non-finite min or max, or min > max, is untrusted input: InputError naming the tensor.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace qforge::quant {

enum class QGranularity { per_tensor, per_channel, per_group };

// An inclusive integer range of codes.
struct QRange {
  int32_t qmin = 0, qmax = 0;
  bool operator==(const QRange&) const = default;
};

// Integer formats qforge quantizes to: s8 u8 s16 u16 s4 u4.
bool qformat_is_integer(DType format);
// The storage range of an integer format (what ONNX QuantizeLinear saturates to).
QRange qrange_storage(DType format);
// The range codes are chosen in under the policy above. reduced_range needs an 8-bit format.
QRange qrange(DType format, bool symmetric, bool reduced_range);
// The zero point a symmetric scheme uses (0 signed, middle code unsigned).
int32_t symmetric_zero_point(DType format, bool reduced_range);

// How to quantize one tensor: the format and the range policy.
struct QScheme {
  DType format = DType::s8;
  bool symmetric = false;
  bool reduced_range = false;
};

struct QParams {
  static constexpr int kPerTensor = -1;
  DType format = DType::s8;  // s8 u8 s16 u16 s4 u4 nf4 f16 bf16 (f16/bf16: no scale, a cast)
  // Per tensor: one scale. Per channel: one per index of `axis`. Per group: laid out like ONNX
  // blocked quantization — x's shape with dim[axis] replaced by ceil(dim[axis] / group_size).
  std::vector<float> scale;
  // One per scale for integer formats (0 for symmetric signed); empty for nf4 / f16 / bf16.
  std::vector<int32_t> zero_point;
  // kPerTensor (-1), or a NON-NEGATIVE axis (normalize ONNX's negative axes before storing).
  int axis = kPerTensor;
  // 0: per channel along `axis` (or per tensor); > 0: per group of group_size along `axis`.
  int64_t group_size = 0;
  bool symmetric = false;
  bool reduced_range = false;

  QGranularity granularity() const;
  int64_t num_scales() const { return static_cast<int64_t>(scale.size()); }
  // The range codes are clamped to when quantizing (qrange(format, symmetric, reduced_range)).
  QRange range() const;
  // Scale count the layout needs for a tensor of shape x (1 per tensor).
  int64_t expected_num_scales(const Shape& x) const;
  // Shape of the ONNX scale / zero_point tensor: {} per tensor, {dim[axis]} per channel, blocked shape
  // per group.
  Shape scale_shape(const Shape& x) const;
};

// A float cast (f16 / bf16): no scale, no zero point.
QParams qparams_cast(DType format);

// Checks untrusted parameters (read from a model or a calibration file) against a tensor shape:
// scale count and layout, scales finite and > 0, zero points inside the storage range, axis and group
// size valid. InputError naming `name` on the first problem.
void check_qparams(const QParams& p, const Shape& x, const std::string& name);

struct MinMax {
  float min = 0, max = 0;
};

// Scale and zero point for one range under a scheme (integer formats). Computed in double; see the
// policy above. InputError naming `name` when min or max is not finite or min > max.
struct ScaleZeroPoint {
  float scale = 1;
  int32_t zero_point = 0;
};
ScaleZeroPoint choose_scale_zero_point(double min, double max, const QScheme& scheme, const std::string& name);
// nf4: scale = absmax = max(|min|, |max|); 1.0 when absmax < FLT_MIN.
float choose_scale_nf4(double min, double max, const std::string& name);

// Per-tensor parameters from a range (calibration results).
QParams choose_qparams(double min, double max, const QScheme& scheme, const std::string& name);
// Per-slice parameters from per-slice ranges laid out as QParams::scale describes.
QParams choose_qparams_from_ranges(std::span<const MinMax> ranges, int axis, int64_t group_size,
                                   const QScheme& scheme, const std::string& name);

// Ranges measured on an f32 tensor (weights). NaN / Inf anywhere → InputError naming the tensor and
// the element. An empty tensor or slice gives [0, 0].
MinMax tensor_min_max(const Tensor& x, const std::string& name);
// One range per channel of `axis` (group_size 0) or per group of group_size along `axis`, in the
// QParams::scale layout. axis may be negative (ONNX style).
std::vector<MinMax> slice_min_max(const Tensor& x, int axis, int64_t group_size, const std::string& name);

// Parameters measured on an f32 tensor: per tensor, per channel (`axis`), per group.
QParams choose_qparams_per_tensor(const Tensor& x, const QScheme& scheme, const std::string& name);
QParams choose_qparams_per_channel(const Tensor& x, int axis, const QScheme& scheme, const std::string& name);
QParams choose_qparams_per_group(const Tensor& x, int axis, int64_t group_size, const QScheme& scheme,
                                 const std::string& name);

// The [outer, axis_len, inner] view of a shape around an axis that QParams layouts index with:
// per channel, element (o, a, i) uses scale[a]; per group, scale[(o * groups + a / group_size) * inner + i].
struct SliceLayout {
  int64_t outer = 1, axis_len = 1, inner = 1, group_size = 0, groups = 1;
};
SliceLayout slice_layout(const Shape& x, int axis, int64_t group_size);

}  // namespace qforge::quant
