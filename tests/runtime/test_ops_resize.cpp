// Resize and Pad; expected values worked by hand from the ONNX spec formulas (see comments).
#include <cmath>

#include "shape_test_util.h"

namespace qforge {
namespace {

using namespace shape_test;

Tensor scales(std::vector<float> v) { return f32({static_cast<int64_t>(v.size())}, v); }

Tensor resize(const Tensor& x, const Tensor& sc, std::vector<ir::Attribute> attrs) {
  return run1("Resize", {feed("x", x), omitted(), konst("sc", sc)}, attrs);
}

Tensor resize_sizes(const Tensor& x, const Tensor& sz, std::vector<ir::Attribute> attrs) {
  return run1("Resize", {feed("x", x), omitted(), omitted(), konst("sz", sz)}, attrs);
}

// 2x2 -> 4x4 rows of a 1-D source [a, b] expanded by per-output source indices.
std::vector<float> pick2d(const std::vector<float>& src, int in_w, const std::vector<int>& rows, const std::vector<int>& cols) {
  std::vector<float> out;
  for (int r : rows)
    for (int c : cols) out.push_back(src[r * in_w + c]);
  return out;
}

const std::vector<float> k2x2 = {1, 2, 3, 4};

TEST(OpsResizeNearest, Upsample2x2To4x4EachCoordinateMode) {
  Tensor x = f32({1, 1, 2, 2}, k2x2);
  Tensor sc = scales({1, 1, 2, 2});
  // half_pixel: x = (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> round_prefer_floor 0, 0, 1, 1
  expect_f32(resize(x, sc, {}), {1, 1, 4, 4}, pick2d(k2x2, 2, {0, 0, 1, 1}, {0, 0, 1, 1}));
  // asymmetric: x = o / 2 = 0, 0.5, 1, 1.5 -> round_prefer_floor 0, 0, 1, 1; round_prefer_ceil 0, 1, 1, 2->1
  expect_f32(resize(x, sc, {attr_s("coordinate_transformation_mode", "asymmetric")}), {1, 1, 4, 4},
             pick2d(k2x2, 2, {0, 0, 1, 1}, {0, 0, 1, 1}));
  expect_f32(resize(x, sc, {attr_s("coordinate_transformation_mode", "asymmetric"), attr_s("nearest_mode", "round_prefer_ceil")}),
             {1, 1, 4, 4}, pick2d(k2x2, 2, {0, 1, 1, 1}, {0, 1, 1, 1}));
  expect_f32(resize(x, sc, {attr_s("coordinate_transformation_mode", "asymmetric"), attr_s("nearest_mode", "floor")}),
             {1, 1, 4, 4}, pick2d(k2x2, 2, {0, 0, 1, 1}, {0, 0, 1, 1}));
  expect_f32(resize(x, sc, {attr_s("coordinate_transformation_mode", "asymmetric"), attr_s("nearest_mode", "ceil")}),
             {1, 1, 4, 4}, pick2d(k2x2, 2, {0, 1, 1, 1}, {0, 1, 1, 1}));
  // align_corners: x = o * 1 / 3 = 0, .33, .67, 1 -> 0, 0, 1, 1
  expect_f32(resize(x, sc, {attr_s("coordinate_transformation_mode", "align_corners")}), {1, 1, 4, 4},
             pick2d(k2x2, 2, {0, 0, 1, 1}, {0, 0, 1, 1}));
  // half_pixel with ceil: -0.25 -> 0, 0.25 -> 1, 0.75 -> 1, 1.25 -> 2 -> clamped 1
  expect_f32(resize(x, sc, {attr_s("nearest_mode", "ceil")}), {1, 1, 4, 4}, pick2d(k2x2, 2, {0, 1, 1, 1}, {0, 1, 1, 1}));
}

TEST(OpsResizeNearest, Downsample4x4To3x3) {
  Tensor x = iota_f32({1, 1, 4, 4});  // x[i][j] = 4 i + j
  std::vector<float> src = x.to_f32_vector();
  // half_pixel, scale 0.75: x = (o + 0.5) / 0.75 - 0.5 = 0.1667, 1.5, 2.8333
  expect_f32(resize(x, scales({1, 1, 0.75f, 0.75f}), {}), {1, 1, 3, 3}, pick2d(src, 4, {0, 1, 3}, {0, 1, 3}));
  expect_f32(resize(x, scales({1, 1, 0.75f, 0.75f}), {attr_s("nearest_mode", "round_prefer_ceil")}), {1, 1, 3, 3},
             pick2d(src, 4, {0, 2, 3}, {0, 2, 3}));
  // sizes give the same scale 3/4
  expect_f32(resize_sizes(x, ints({1, 1, 3, 3}), {}), {1, 1, 3, 3}, pick2d(src, 4, {0, 1, 3}, {0, 1, 3}));
}

TEST(OpsResizeLinear, Upsample2x2To4x4EachCoordinateMode) {
  Tensor x = f32({1, 1, 2, 2}, k2x2);
  Tensor sc = scales({1, 1, 2, 2});
  // half_pixel: coords -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1) -> the ONNX spec example
  expect_f32(resize(x, sc, {attr_s("mode", "linear")}), {1, 1, 4, 4},
             {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  // pytorch_half_pixel equals half_pixel when the output length > 1
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "pytorch_half_pixel")}),
             {1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  // align_corners: coords k/3 -> row k = r0 + 2k/3 with r0 = 1, 4/3, 5/3, 2
  std::vector<float> ac;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) ac.push_back(1.f + c / 3.f + 2.f * r / 3.f);
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}),
             {1, 1, 4, 4}, ac);
  // asymmetric: coords 0, 0.5, 1, 1.5 (clamped 1)
  std::vector<float> as;
  const float t[4] = {0, 0.5f, 1, 1};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) as.push_back(1.f + t[c] + 2.f * t[r]);
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "asymmetric")}),
             {1, 1, 4, 4}, as);
}

TEST(OpsResizeLinear, Downsample4x4To3x3) {
  // x[i][j] = 4 i + j is linear in the indices, so y = 4 c(i) + c(j) where c are the mapped coordinates
  // (all inside [0, 3] here, so no clamping).
  Tensor x = iota_f32({1, 1, 4, 4});
  auto grid = [](const std::vector<float>& c) {
    std::vector<float> y;
    for (float ci : c)
      for (float cj : c) y.push_back(4 * ci + cj);
    return y;
  };
  Tensor sc = scales({1, 1, 0.75f, 0.75f});
  expect_f32(resize(x, sc, {attr_s("mode", "linear")}), {1, 1, 3, 3}, grid({1.f / 6, 1.5f, 17.f / 6}));
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}),
             {1, 1, 3, 3}, grid({0, 1.5f, 3}));
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "asymmetric")}),
             {1, 1, 3, 3}, grid({0, 4.f / 3, 8.f / 3}));
  // half_pixel_symmetric with scale 0.75: out 3 = 0.75 * 4 exactly, so adjustment 1 and offset 0
  expect_f32(resize(x, sc, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "half_pixel_symmetric")}),
             {1, 1, 3, 3}, grid({1.f / 6, 1.5f, 17.f / 6}));
  expect_f32(resize_sizes(x, ints({3, 3}), {attr_s("mode", "linear"), attr_ints("axes", {2, 3})}), {1, 1, 3, 3},
             grid({1.f / 6, 1.5f, 17.f / 6}));
}

TEST(OpsResizeLinear, HalfPixelSymmetricAndPytorchSingleOutput) {
  Tensor x = f32({1, 4}, {0, 1, 2, 3});
  // scale 0.7: out = floor(2.8) = 2; adjustment = 2 / 2.8; offset = 2 * (1 - adjustment);
  // c(o) = offset + (o + 0.5) / 0.7 - 0.5
  const double adj = 2 / 2.8, off = 2 * (1 - adj);
  expect_f32(resize(x, scales({1, 0.7f}), {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "half_pixel_symmetric")}),
             {1, 2}, {static_cast<float>(off + 0.5 / 0.7 - 0.5), static_cast<float>(off + 1.5 / 0.7 - 0.5)});
  // pytorch_half_pixel with one output: coordinate 0; half_pixel: (0.5) / 0.25 - 0.5 = 1.5
  expect_f32(resize_sizes(x, ints({1, 1}), {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "pytorch_half_pixel")}),
             {1, 1}, {0});
  expect_f32(resize_sizes(x, ints({1, 1}), {attr_s("mode", "linear")}), {1, 1}, {1.5f});
}

// Cubic per the spec: taps floor(x)-1 .. floor(x)+2, Keys coefficients with a, indices clamped.
std::vector<float> naive_cubic_1d(const std::vector<float>& v, int out, float scale, float a, bool exclude) {
  std::vector<float> y;
  const int n = static_cast<int>(v.size());
  for (int o = 0; o < out; ++o) {
    double x = (o + 0.5) / scale - 0.5;
    double f = std::floor(x), r = x - f;
    auto w = [&](double t) {  // Keys kernel
      t = std::fabs(t);
      if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
      return 0.0;
    };
    double c[4] = {w(r + 1), w(r), w(1 - r), w(2 - r)}, sum = 0, acc = 0;
    for (int k = 0; k < 4; ++k) {
      int idx = static_cast<int>(f) - 1 + k;
      if (exclude && (idx < 0 || idx >= n)) c[k] = 0;
      sum += c[k];
    }
    for (int k = 0; k < 4; ++k) {
      int idx = std::clamp(static_cast<int>(f) - 1 + k, 0, n - 1);
      acc += (exclude ? c[k] / sum : c[k]) * v[idx];
    }
    y.push_back(static_cast<float>(acc));
  }
  return y;
}

TEST(OpsResizeCubic, OneAxisDefaultAndExcludeOutside) {
  std::vector<float> v = {1, 4, 2, 8, -3};
  Tensor x = f32({1, 5}, v);
  expect_f32(resize(x, scales({1, 2}), {attr_s("mode", "cubic")}), {1, 10}, naive_cubic_1d(v, 10, 2, -0.75f, false), 1e-5f);
  expect_f32(resize(x, scales({1, 2}), {attr_s("mode", "cubic"), attr_f("cubic_coeff_a", -0.5f), attr_i("exclude_outside", 1)}),
             {1, 10}, naive_cubic_1d(v, 10, 2, -0.5f, true), 1e-5f);
}

TEST(OpsResize, KeepAspectRatioPolicy) {
  Tensor x = iota_f32({1, 1, 4, 4});
  std::vector<float> src = x.to_f32_vector();
  // not_larger: s = min(3/4, 7/4) = 0.75 -> 3x3, nearest at 0.1667, 1.5, 2.8333 -> 0, 1, 3
  expect_f32(resize_sizes(x, ints({3, 7}), {attr_ints("axes", {2, 3}), attr_s("keep_aspect_ratio_policy", "not_larger")}),
             {1, 1, 3, 3}, pick2d(src, 4, {0, 1, 3}, {0, 1, 3}));
  // not_smaller: s = max(1/4, 2/4) = 0.5 -> 2x2; half_pixel (o + 0.5) * 2 - 0.5 = 0.5, 2.5 -> 0, 2
  expect_f32(resize_sizes(x, ints({1, 2}), {attr_ints("axes", {-2, -1}), attr_s("keep_aspect_ratio_policy", "not_smaller")}),
             {1, 1, 2, 2}, pick2d(src, 4, {0, 2}, {0, 2}));
}

TEST(OpsResize, MatchesOnnxRuntimeOnTiesAndSameShape) {
  Tensor x = f32({1, 7}, {0, 1, 2, 3, 4, 5, 6});
  // sizes 7 -> 4: scale is exactly 4/7, so o = 2 maps to 3.5 and round_prefer_ceil picks 4
  // (ONNX Runtime 1.32 gives 0, 2, 4, 5; float arithmetic would give 3.4999998 -> 3).
  expect_f32(resize_sizes(x, ints({1, 4}), {attr_s("coordinate_transformation_mode", "asymmetric"),
                                            attr_s("nearest_mode", "round_prefer_ceil")}),
             {1, 4}, {0, 2, 4, 5});
  // scale 1.1 on 7 gives 7 outputs: ONNX Runtime copies the input when the shape is unchanged.
  expect_f32(resize(x, scales({1, 1.1f}), {attr_s("mode", "linear")}), {1, 7}, {0, 1, 2, 3, 4, 5, 6});
}

TEST(OpsResize, RefusesUnsupportedAndInvalid) {
  Tensor x = f32({1, 1, 2, 2}, k2x2);
  // tf_crop_and_resize needs roi, with a start and an end per resized axis
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("coordinate_transformation_mode", "tf_crop_and_resize")}), InputError);
  EXPECT_THROW(run1("Resize", {feed("x", x), konst("roi", f32({4}, {0, 0, 1, 1})), konst("sc", scales({1, 1, 2, 2}))},
                    {attr_s("coordinate_transformation_mode", "tf_crop_and_resize")}),
               InputError);
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("coordinate_transformation_mode", "tf_crop_and_pad")}), InputError);
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("mode", "area")}), InputError);
  EXPECT_THROW(resize(x, scales({1, 2}), {}), InputError);  // wrong count
  EXPECT_THROW(run1("Resize", {feed("x", x), omitted(), konst("sc", scales({1, 1, 2, 2})), konst("sz", ints({1, 1, 4, 4}))}),
               InputError);
  // an empty scales tensor counts as absent (opset 11-12 style with sizes)
  EXPECT_EQ(run1("Resize", {feed("x", x), konst("roi", f32({0}, {})), konst("sc", f32({0}, {})), konst("sz", ints({1, 1, 3, 3}))})
                .shape(),
            (Shape{1, 1, 3, 3}));
}

// tf_half_pixel_for_nn (opset 11): x = (o + 0.5) / scale, no -0.5.
TEST(OpsResizeNearest, TfHalfPixelForNn) {
  Tensor x = f32({1, 4}, {10, 20, 30, 40});
  const auto mode = attr_s("coordinate_transformation_mode", "tf_half_pixel_for_nn");
  // scale 1.5 -> 6 outputs at x = 1/3, 1, 5/3, 7/3, 3, 11/3
  expect_f32(resize(x, scales({1, 1.5f}), {mode}), {1, 6}, {10, 20, 30, 30, 40, 40});  // 0 1 2 2 3 4->3
  expect_f32(resize(x, scales({1, 1.5f}), {mode, attr_s("nearest_mode", "floor")}), {1, 6}, {10, 20, 20, 30, 40, 40});
  expect_f32(resize(x, scales({1, 1.5f}), {mode, attr_s("nearest_mode", "ceil")}), {1, 6}, {20, 20, 30, 40, 40, 40});
  // scale 0.5 -> x = 1, 3 (half_pixel would give 0.5, 2.5 -> 0, 2)
  expect_f32(resize(x, scales({1, 0.5f}), {mode}), {1, 2}, {20, 40});
  // from sizes: 4 -> 8 is scale 2, x = 0.25, 0.75, 1.25, ... 3.75 -> round_prefer_ceil 0 1 1 2 2 3 3 4->3
  expect_f32(resize_sizes(x, ints({1, 8}), {mode, attr_s("nearest_mode", "round_prefer_ceil")}), {1, 8},
             {10, 20, 20, 30, 30, 40, 40, 40});
  // an axis with scale 1 keeps its indices (ONNX Runtime): with ceil, (o + 0.5) / 1 would pick row o + 1.
  // Axis 1: x = 0.25, 0.75, 1.25, 1.75 -> ceil 1, 1, 2 -> 1, 2 -> 1
  expect_f32(resize(f32({2, 2}, {1, 2, 3, 4}), scales({1, 2}), {mode, attr_s("nearest_mode", "ceil")}), {2, 4},
             {2, 2, 2, 2, 4, 4, 4, 4});
}

// tf_crop_and_resize: x = start * (in - 1) + o * (end - start) * (in - 1) / (out - 1); outside [0, in - 1]
// the element is extrapolation_value. The data x[i][j] = 4 i + j + 1 is linear in the indices, so linear
// mode gives 1 + 4 h + w at the mapped coordinates (h, w) (the ONNX spec's examples).
TEST(OpsResizeCrop, LinearSpecExamples) {
  Tensor x = f32({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  auto crop = [&](std::vector<float> roi, std::vector<ir::Attribute> attrs) {
    attrs.push_back(attr_s("mode", "linear"));
    attrs.push_back(attr_s("coordinate_transformation_mode", "tf_crop_and_resize"));
    return run1("Resize", {feed("x", x), konst("roi", f32({8}, roi)), omitted(), konst("sz", ints({1, 1, 3, 3}))}, attrs);
  };
  // h = 1.2 + o * 0.2 * 3 / 2 = 1.2, 1.5, 1.8; w = 1.8, 2.1, 2.4
  std::vector<float> want;
  for (float h : {1.2f, 1.5f, 1.8f})
    for (float w : {1.8f, 2.1f, 2.4f}) want.push_back(1 + 4 * h + w);
  expect_f32(crop({0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f}, {}), {1, 1, 3, 3}, want, 1e-5f);
  // h = 1.2, 2.4, 3.6 (> 3: outside); w = 1.8, 3.45, 5.1 (both > 3: outside)
  expect_f32(crop({0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f}, {attr_f("extrapolation_value", 10)}), {1, 1, 3, 3},
             {1 + 4 * 1.2f + 1.8f, 10, 10, 1 + 4 * 2.4f + 1.8f, 10, 10, 10, 10, 10}, 1e-5f);
}

TEST(OpsResizeCrop, NearestAxesSameShapeAndSingleOutput) {
  Tensor x = f32({1, 5}, {0, 10, 20, 30, 40});
  auto crop = [&](std::vector<float> roi, int64_t size, std::vector<ir::Attribute> attrs) {
    attrs.push_back(attr_s("coordinate_transformation_mode", "tf_crop_and_resize"));
    attrs.push_back(attr_ints("axes", {1}));
    return run1("Resize", {feed("x", x), konst("roi", f32({2}, roi)), omitted(), konst("sz", ints({size}))}, attrs);
  };
  // x = 0.4 + o * 0.8 * 4 / 3 = 0.4, 1.47, 2.53, 3.6 -> 0, 1, 3, 4
  expect_f32(crop({0.1f, 0.9f}, 4, {}), {1, 4}, {0, 10, 30, 40});
  // x = -1 + o * 1.5 * 4 / 3 = -1, 1, 3, 5: the ends are outside
  expect_f32(crop({-0.25f, 1.25f}, 4, {attr_f("extrapolation_value", -1)}), {1, 4}, {-1, 10, 30, -1});
  // the output keeps the input's shape but the roi still crops (per the spec and the ONNX reference;
  // ONNX Runtime 1.32 returns the input unchanged here): x = 1 + o * 0.5 * 4 / 4 = 1, 1.5, 2, 2.5, 3
  expect_f32(crop({0.25f, 0.75f}, 5, {attr_s("mode", "linear")}), {1, 5}, {10, 15, 20, 25, 30});
  // one output: x = (start + end) / 2 * (in - 1) = 0.5 * 4 = 2
  expect_f32(crop({0.25f, 0.75f}, 1, {attr_s("mode", "linear")}), {1, 1}, {20});
}

// antialias (linear): with scale s < 1 the triangle is stretched to radius 1 / s input pixels; taps j
// around c = x + 0.5 get weight 1 - |j + 0.5 - c| * s, clamped indices, normalised to sum 1.
TEST(OpsResizeAntialias, LinearHandWorked) {
  Tensor x = f32({1, 4}, {1, 2, 3, 4});
  // s = 0.5, out 2: o = 0 at x = 0.5 (c = 1): j = -1, 0, 1, 2 weigh .25 .75 .75 .25 (/2); j = -1 joins j = 0:
  //   0.5 * 1 + 0.375 * 2 + 0.125 * 3 = 1.625; o = 1 at x = 2.5 mirrors it: 0.125 * 2 + 0.375 * 3 + 0.5 * 4
  expect_f32(resize(x, scales({1, 0.5f}), {attr_s("mode", "linear"), attr_i("antialias", 1)}), {1, 2}, {1.625f, 3.375f});
  // exclude_outside drops j = -1 (and j = 4) before normalising: (.75 * 1 + .75 * 2 + .25 * 3) / 1.75 = 12 / 7
  expect_f32(resize(x, scales({1, 0.5f}), {attr_s("mode", "linear"), attr_i("antialias", 1), attr_i("exclude_outside", 1)}),
             {1, 2}, {12.f / 7, 23.f / 7}, 1e-6f);
  // 4x4 -> 2x2 at s = 0.6 (ONNX's test_resize_downsample_scales_linear_antialias data):
  //   o = 0: x = 1/3, c = 5/6, j = -1..2 weigh .2 .8 .6 0 (/1.6); j = -1 joins j = 0, so index 0 gets
  //          .625 and index 1 .375: the weighted mean index is 0.375
  //   o = 1: x = 2, c = 2.5, j = 1..3 weigh .4 1 .4 (/1.8): weighted mean index 2
  // and the data 4 i + j + 1 is linear, so y = 1 + 4 h + w with h, w in {0.375, 2}
  Tensor x44 = f32({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  expect_f32(resize(x44, scales({1, 1, 0.6f, 0.6f}), {attr_s("mode", "linear"), attr_i("antialias", 1)}), {1, 1, 2, 2},
             {2.875f, 4.5f, 9.375f, 11.f}, 1e-5f);
  // upsampling: antialias changes nothing (the ONNX spec's 2x2 -> 4x4 linear example)
  expect_f32(resize(f32({1, 1, 2, 2}, k2x2), scales({1, 1, 2, 2}), {attr_s("mode", "linear"), attr_i("antialias", 1)}),
             {1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  // nearest ignores antialias
  expect_f32(resize(f32({1, 4}, {1, 2, 3, 4}), scales({1, 0.5f}), {attr_i("antialias", 1)}), {1, 2}, {1, 3});
}

TEST(OpsResizeAntialias, CubicMatchesOnnxRuntime) {
  // Keys kernel (a = -0.75) stretched by 1 / 0.6; values from ONNX Runtime 1.32 (the ONNX reference
  // agrees within 1e-5).
  Tensor x44 = f32({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  expect_f32(resize(x44, scales({1, 1, 0.6f, 0.6f}), {attr_s("mode", "cubic"), attr_i("antialias", 1)}), {1, 1, 2, 2},
             {2.5180712f, 4.285886f, 9.58933f, 11.357143f}, 2e-5f);
}

TEST(OpsResizeInfer, SymbolicBatch) {
  auto x = ts(DType::f32, {S("N"), K(3), K(8), K(8)});
  Tensor sc = scales({1, 1, 2, 2});
  auto st = ts(DType::f32, {K(4)});
  EXPECT_EQ(dims_string(infer_node("Resize", {x, runtime::TypeShape{}, st}, {nullptr, nullptr, &sc})[0]), "[N,3,16,16]");
  EXPECT_EQ(dims_string(infer_node("Resize", {x, runtime::TypeShape{}, st}, {nullptr, nullptr, nullptr})[0]), "[?,?,?,?]");
  Tensor sz = ints({5, 6});
  EXPECT_EQ(dims_string(infer_node("Resize", {x, runtime::TypeShape{}, runtime::TypeShape{}, ts(DType::s64, {K(2)})},
                                   {nullptr, nullptr, nullptr, &sz}, {attr_ints("axes", {2, 3})})[0]),
            "[N,3,5,6]");
}

// ---- Pad
const std::vector<float> kPadData = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};  // [3, 2], the spec's example

TEST(OpsPad, SpecExamples) {
  Tensor x = f32({3, 2}, kPadData);
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({0, 2, 0, 0})), konst("v", f32({}, {0.f}))}), {3, 4},
             {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({0, 2, 0, 0}))}, {attr_s("mode", "reflect")}), {3, 4},
             {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({0, 2, 0, 0}))}, {attr_s("mode", "edge")}), {3, 4},
             {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({2, 1, 1, 1}))}, {attr_s("mode", "wrap")}), {6, 4},
             {3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f,
              3.4f, 2.3f, 3.4f, 2.3f, 5.7f, 4.5f, 5.7f, 4.5f, 1.2f, 1.0f, 1.2f, 1.0f});
}

TEST(OpsPad, ConstantValueAxesAndReflect) {
  Tensor x = f32({1, 4}, {1, 2, 3, 4});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({1, 2})), konst("v", f32({}, {-1.f})), konst("a", ints({-1}))}),
             {1, 7}, {-1, 1, 2, 3, 4, -1, -1});
  // reflect mirrors on the edge element: [3, 2, | 1 2 3 4 | 3, 2]
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({0, 2, 0, 2}))}, {attr_s("mode", "reflect")}), {1, 8},
             {3, 2, 1, 2, 3, 4, 3, 2});
  // s64 data, constant mode, both axes
  expect_i64(run1("Pad", {feed("x", s64({1, 2}, {5, 6})), konst("p", ints({1, 0, 0, 1})), konst("v", s64({}, {9}))}), {2, 3},
             {9, 9, 9, 5, 6, 9});
}

TEST(OpsPad, NegativePadsCropFirst) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({-1, -2}))}), {1}, {2});
  // crop then pad (as ONNX Runtime): [3, 4] edge-padded by 3 -> 3 4 4 4 4; [2, 3, 4] wrapped by 2 -> 2 3 4 2 3
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({-2, 3}))}, {attr_s("mode", "edge")}), {5}, {3, 4, 4, 4, 4});
  expect_f32(run1("Pad", {feed("x", x), konst("p", ints({-1, 2}))}, {attr_s("mode", "wrap")}), {5}, {2, 3, 4, 2, 3});
  EXPECT_THROW(run1("Pad", {feed("x", x), konst("p", ints({-3, -2}))}), InputError);
  EXPECT_THROW(run1("Pad", {feed("x", x), konst("p", ints({1, 1, 1}))}), InputError);
}

TEST(OpsPadInfer, SymbolicDimsKept) {
  auto x = ts(DType::f32, {S("N"), K(3), K(8)});
  Tensor p = ints({0, 0, 1, 0, 0, 2});
  EXPECT_EQ(dims_string(infer_node("Pad", {x, ts(DType::s64, {K(6)})}, {nullptr, &p})[0]), "[N,3,11]");
  EXPECT_EQ(dims_string(infer_node("Pad", {x, ts(DType::s64, {K(6)})}, {nullptr, nullptr})[0]), "[?,?,?]");
}

}  // namespace
}  // namespace qforge
