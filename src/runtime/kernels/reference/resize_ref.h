// Resize (ONNX Resize-19), f32, separable per axis: every output element is
//   y[o] = sum over taps t0..t(r-1) of prod_d w_d(t_d) * x[i_0(t_0), ..., i_(r-1)(t_(r-1))]
// where axis d maps output index o_d to an input coordinate (coordinate_transformation_mode, in float):
//   half_pixel:           (o + 0.5) / scale - 0.5
//   half_pixel_symmetric: c * (1 - out / (scale * in)) + (o + 0.5) / scale - 0.5, with c = in / 2
//   pytorch_half_pixel:   out > 1 ? (o + 0.5) / scale - 0.5 : 0
//   align_corners:        out > 1 ? o * (in - 1) / (out - 1) : 0
//   asymmetric:           o / scale
// (When the scale comes from `sizes` (scale_is_ratio), scale = out / in and the coordinate is evaluated
// in double, then rounded to float, as ONNX Runtime does; so is half_pixel_symmetric's tail. This
// decides nearest-mode ties such as 2 / (4/7) = 3.5.)
// The mode then picks taps for coordinate x:
//   nearest: one tap, index = nearest_mode(x) clamped to [0, in-1]
//            (round_prefer_floor / round_prefer_ceil round halves down / up; floor; ceil)
//   linear:  x clamped to [0, in-1]; taps floor(x) (weight 1 - f) and floor(x)+1 (weight f), f = x - floor(x)
//   cubic:   taps floor(x)-1 .. floor(x)+2 with Keys coefficients (a = cubic_coeff_a) of f; indices are
//            clamped to [0, in-1], or with exclude_outside the outside taps get weight 0 and the rest
//            are renormalised.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

enum class ResizeMode { nearest, linear, cubic };
enum class ResizeCoord { half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric };
enum class ResizeNearest { round_prefer_floor, round_prefer_ceil, floor, ceil };

struct ResizeParams {
  ResizeMode mode = ResizeMode::nearest;
  ResizeCoord coord = ResizeCoord::half_pixel;
  ResizeNearest nearest = ResizeNearest::round_prefer_floor;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  std::vector<float> scales;          // one per axis
  std::vector<bool> scale_is_ratio;   // per axis: the scale is out / in from sizes (stretch policy)
};

// Taps of one axis: output index o uses (index[t], weight[t]) for t in [begin[o], begin[o + 1]).
struct ResizeTaps {
  std::vector<int64_t> begin;
  std::vector<int64_t> index;
  std::vector<float> weight;
};

ResizeTaps resize_taps(int64_t in, int64_t out, float scale, bool scale_is_ratio, const ResizeParams& p);

// An output of the input's shape is a copy of the input (as in ONNX Runtime, whatever the mode).
void resize_f32__ref(const float* src, const Shape& in_shape, float* dst, const Shape& out_shape,
                     const ResizeParams& p, int threads);

}  // namespace qforge::runtime
