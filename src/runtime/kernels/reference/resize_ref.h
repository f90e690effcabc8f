// Resize (ONNX Resize-19), f32, separable per axis: every output element is
//   y[o] = sum over taps t0..t(r-1) of prod_d w_d(t_d) * x[i_0(t_0), ..., i_(r-1)(t_(r-1))]
// where axis d maps output index o_d to an input coordinate (coordinate_transformation_mode, in float):
//   half_pixel:           (o + 0.5) / scale - 0.5
//   half_pixel_symmetric: c * (1 - out / (scale * in)) + (o + 0.5) / scale - 0.5, with c = in / 2
//   pytorch_half_pixel:   out > 1 ? (o + 0.5) / scale - 0.5 : 0
//   align_corners:        out > 1 ? o * (in - 1) / (out - 1) : 0
//   asymmetric:           o / scale
//   tf_half_pixel_for_nn: (o + 0.5) / scale                                  (opset 11 only)
//   tf_crop_and_resize:   out > 1 ? start * (in - 1) + o * (end - start) * (in - 1) / (out - 1)
//                                 : (start + end) / 2 * (in - 1)              (start, end: the axis' roi)
//                         a coordinate outside [0, in - 1] gives extrapolation_value for the element.
// (When the scale comes from `sizes` (scale_is_ratio), scale = out / in and the coordinate is evaluated
// in double, then rounded to float; so is half_pixel_symmetric's tail. This decides nearest-mode ties
// such as 2 / (4/7) = 3.5, and agrees with ONNX Runtime 1.32 on every round_prefer_floor tie of sizes
// 1..29 -> 1..39. At exact ties under the other nearest modes, and within an ulp or two of a .5 with
// float scales, ONNX Runtime 1.32 follows no float or double operation order tried, so it may pick the
// neighbouring index there.)
// An axis whose scale is 1 maps o to o in every mode but tf_crop_and_resize (as ONNX Runtime does).
// The mode then picks taps for coordinate x:
//   nearest: one tap, index = nearest_mode(x) clamped to [0, in-1]
//            (round_prefer_floor / round_prefer_ceil round halves down / up; floor; ceil)
//   linear:  x clamped to [0, in-1]; taps floor(x) (weight 1 - f) and floor(x)+1 (weight f), f = x - floor(x)
//   cubic:   taps floor(x)-1 .. floor(x)+2 with Keys coefficients (a = cubic_coeff_a) of f; indices are
//            clamped to [0, in-1], or with exclude_outside the outside taps get weight 0 and the rest
//            are renormalised.
// antialias (linear / cubic): when downsampling (scale < 1) the filter is stretched by 1 / scale
// (ONNX Runtime's and Pillow's form, equal to the ONNX reference's): with s = min(scale, 1), support
// R = s^-1 (linear) or 2 s^-1 (cubic) and c = x + 0.5, the taps are j in [floor(c - R + 0.5),
// floor(c + R + 0.5)) with weight K((j + 0.5 - c) * s), K the triangle 1 - |t| or the Keys kernel,
// normalised to sum 1; indices outside [0, in-1] are clamped (their weight joins the edge tap), or
// with exclude_outside dropped before normalising. Upsampling with antialias equals plain linear / cubic.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace qforge::runtime {

enum class ResizeMode { nearest, linear, cubic };
enum class ResizeCoord {
  half_pixel,
  half_pixel_symmetric,
  pytorch_half_pixel,
  align_corners,
  asymmetric,
  tf_half_pixel_for_nn,
  tf_crop_and_resize,
};
enum class ResizeNearest { round_prefer_floor, round_prefer_ceil, floor, ceil };

struct ResizeParams {
  ResizeMode mode = ResizeMode::nearest;
  ResizeCoord coord = ResizeCoord::half_pixel;
  ResizeNearest nearest = ResizeNearest::round_prefer_floor;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  bool antialias = false;             // linear / cubic only
  float extrapolation_value = 0.f;    // tf_crop_and_resize only
  std::vector<float> scales;          // one per axis
  std::vector<bool> scale_is_ratio;   // per axis: the scale is out / in from sizes (stretch policy)
  std::vector<float> roi_start;       // per axis, tf_crop_and_resize only (normalised coordinates)
  std::vector<float> roi_end;
};

// Taps of one axis: output index o uses (index[t], weight[t]) for t in [begin[o], begin[o + 1]);
// outside[o] != 0: the source coordinate lies outside the input (tf_crop_and_resize), o has no taps
// and every element it touches is extrapolation_value.
struct ResizeTaps {
  std::vector<int64_t> begin;
  std::vector<int64_t> index;
  std::vector<float> weight;
  std::vector<uint8_t> outside;
};

ResizeTaps resize_taps(int64_t in, int64_t out, int axis, const ResizeParams& p);

// An output of the input's shape is a copy of the input (as in ONNX Runtime, whatever the mode),
// except for tf_crop_and_resize, where the roi still crops.
void resize_f32__ref(const float* src, const Shape& in_shape, float* dst, const Shape& out_shape,
                     const ResizeParams& p, int threads);

}  // namespace qforge::runtime
