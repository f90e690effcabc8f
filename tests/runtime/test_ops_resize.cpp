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
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("coordinate_transformation_mode", "tf_crop_and_resize")}), InputError);
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("mode", "linear"), attr_i("antialias", 1)}), InputError);
  EXPECT_THROW(resize(x, scales({1, 1, 2, 2}), {attr_s("mode", "area")}), InputError);
  EXPECT_THROW(resize(x, scales({1, 2}), {}), InputError);  // wrong count
  EXPECT_THROW(run1("Resize", {feed("x", x), omitted(), konst("sc", scales({1, 1, 2, 2})), konst("sz", ints({1, 1, 4, 4}))}),
               InputError);
  // an empty scales tensor counts as absent (opset 11-12 style with sizes)
  EXPECT_EQ(run1("Resize", {feed("x", x), konst("roi", f32({0}, {})), konst("sc", f32({0}, {})), konst("sz", ints({1, 1, 3, 3}))})
                .shape(),
            (Shape{1, 1, 3, 3}));
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
