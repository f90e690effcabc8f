// Choosing scales and zero points. Expected values worked by hand from the policy in quant/qparams.h:
// asymmetric scale = (max' - min') / (qmax - qmin), zero_point = round_half_even(qmin - min' / scale);
// symmetric scale = amax / h, h = 127 (8-bit), 7 (4-bit), 63 (reduced 8-bit).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "quant/qparams.h"
#include "quant/qparams_tensors.h"
#include "quant/quantize.h"

using namespace qforge;
using namespace qforge::quant;

namespace {

Tensor f32(Shape shape, std::vector<float> v) { return Tensor::from_vector<float>(DType::f32, std::move(shape), v); }

QScheme asym(DType f, bool reduced = false) { return {f, false, reduced}; }
QScheme sym(DType f, bool reduced = false) { return {f, true, reduced}; }

// The InputError's message, or "" when none was thrown.
template <class Fn>
std::string input_error(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(QuantQParams, Ranges) {
  EXPECT_EQ(qrange(DType::s8, false, false), (QRange{-128, 127}));
  EXPECT_EQ(qrange(DType::s8, true, false), (QRange{-127, 127}));
  EXPECT_EQ(qrange(DType::u8, false, false), (QRange{0, 255}));
  EXPECT_EQ(qrange(DType::u8, true, false), (QRange{1, 255}));
  EXPECT_EQ(qrange(DType::s8, false, true), (QRange{-64, 63}));
  EXPECT_EQ(qrange(DType::s8, true, true), (QRange{-63, 63}));
  EXPECT_EQ(qrange(DType::u8, false, true), (QRange{0, 127}));
  EXPECT_EQ(qrange(DType::u8, true, true), (QRange{1, 127}));
  EXPECT_EQ(qrange(DType::s4, false, false), (QRange{-8, 7}));
  EXPECT_EQ(qrange(DType::s4, true, false), (QRange{-7, 7}));
  EXPECT_EQ(qrange(DType::u4, false, false), (QRange{0, 15}));
  EXPECT_EQ(qrange(DType::u4, true, false), (QRange{1, 15}));
  EXPECT_EQ(qrange(DType::s16, true, false), (QRange{-32767, 32767}));
  EXPECT_EQ(qrange(DType::u16, false, false), (QRange{0, 65535}));
  EXPECT_EQ(symmetric_zero_point(DType::s8, false), 0);
  EXPECT_EQ(symmetric_zero_point(DType::u8, false), 128);
  EXPECT_EQ(symmetric_zero_point(DType::u8, true), 64);
  EXPECT_EQ(symmetric_zero_point(DType::u4, false), 8);
  EXPECT_EQ(symmetric_zero_point(DType::u16, false), 32768);
  // Reduced range is an 8-bit notion: asking for it on 4-bit is a programmer error.
  EXPECT_THROW(qrange(DType::s4, false, true), InternalError);
}

TEST(QuantQParams, WorkedExampleU8) {
  // [-0.9, 5.0] → scale 5.9 / 255 = 0.0231372549, zero_point = round(0.9 / 0.0231372549 = 38.898) = 39.
  const QParams p = choose_qparams(-0.9, 5.0, asym(DType::u8), "act");
  ASSERT_EQ(p.num_scales(), 1);
  EXPECT_EQ(p.granularity(), QGranularity::per_tensor);
  EXPECT_FLOAT_EQ(p.scale[0], 0.0231372549f);
  EXPECT_NEAR(p.scale[0], 5.9 / 255, 1e-9);
  EXPECT_EQ(p.zero_point[0], 39);
  EXPECT_FALSE(p.symmetric);
  // 0.3 / 0.0231373 = 12.966 → 13, + 39 = 52; real 0 is exactly zero_point.
  const Tensor q = quantize(f32({3}, {0.3f, 0.0f, 5.0f}), p);
  EXPECT_EQ(q.dtype(), DType::u8);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{52, 39, 255}));
  EXPECT_EQ(dequantize(q, p).data<float>()[1], 0.0f);
}

TEST(QuantQParams, AsymmetricWidensToZero) {
  // [2, 4] → [0, 4]: scale 4/255, zero point 0. [-4, -2] → [-4, 0]: zero point 0 + 4 / (4/255) = 255.
  ScaleZeroPoint a = choose_scale_zero_point(2, 4, asym(DType::u8), "t");
  EXPECT_FLOAT_EQ(a.scale, 4.0f / 255);
  EXPECT_EQ(a.zero_point, 0);
  a = choose_scale_zero_point(-4, -2, asym(DType::u8), "t");
  EXPECT_FLOAT_EQ(a.scale, 4.0f / 255);
  EXPECT_EQ(a.zero_point, 255);
  // s8 [-1, 1.55]: scale 2.55 / 255 = 0.01, zero point -128 + 1 / 0.01 = -28.
  a = choose_scale_zero_point(-1, 1.55, asym(DType::s8), "t");
  EXPECT_FLOAT_EQ(a.scale, 0.01f);
  EXPECT_EQ(a.zero_point, -28);
  // s4 [-1, 2]: scale 3 / 15 = 0.2, zero point -8 + 1 / 0.2 = -3. u4 [0, 7.5]: scale 0.5, zero point 0.
  a = choose_scale_zero_point(-1, 2, asym(DType::s4), "t");
  EXPECT_FLOAT_EQ(a.scale, 0.2f);
  EXPECT_EQ(a.zero_point, -3);
  a = choose_scale_zero_point(0, 7.5, asym(DType::u4), "t");
  EXPECT_FLOAT_EQ(a.scale, 0.5f);
  EXPECT_EQ(a.zero_point, 0);
  // Zero point rounds half to even: u8 [-1.5, 253.5] → scale 1, zero point 0 + 1.5 → 2;
  // [-2.5, 252.5] → 2.5 → 2.
  a = choose_scale_zero_point(-1.5, 253.5, asym(DType::u8), "t");
  EXPECT_EQ(a.scale, 1.0f);
  EXPECT_EQ(a.zero_point, 2);
  a = choose_scale_zero_point(-2.5, 252.5, asym(DType::u8), "t");
  EXPECT_EQ(a.zero_point, 2);
}

TEST(QuantQParams, Symmetric) {
  // s8: amax 2.54 → scale 0.02, zero point 0, codes [-127, 127].
  ScaleZeroPoint a = choose_scale_zero_point(-0.5, 2.54, sym(DType::s8), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.02f);
  EXPECT_EQ(a.zero_point, 0);
  // u8: amax 1.27 → scale 0.01, zero point 128, codes [1, 255].
  a = choose_scale_zero_point(-1.27, 0.5, sym(DType::u8), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.01f);
  EXPECT_EQ(a.zero_point, 128);
  // s4: amax 3.5 → 3.5 / 7 = 0.5; u4 symmetric: zero point 8.
  a = choose_scale_zero_point(-3.5, 1, sym(DType::s4), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.5f);
  EXPECT_EQ(a.zero_point, 0);
  a = choose_scale_zero_point(-3.5, 1, sym(DType::u4), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.5f);
  EXPECT_EQ(a.zero_point, 8);
  // -amax and +amax both land on codes: -127 and 127 (s8), 1 and 255 (u8).
  const QParams p = choose_qparams(-1.27, 1.27, sym(DType::u8), "w");
  EXPECT_EQ(quantize(f32({2}, {-1.27f, 1.27f}), p).to_i64_vector(), (std::vector<int64_t>{1, 255}));
}

TEST(QuantQParams, ReducedRange) {
  // s8 7-bit [-64, 63]: [-1, 1.54] → scale 2.54 / 127 = 0.02, zero point -64 + 1 / 0.02 = -14.
  ScaleZeroPoint a = choose_scale_zero_point(-1, 1.54, asym(DType::s8, true), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.02f);
  EXPECT_EQ(a.zero_point, -14);
  // u8 7-bit [0, 127]: [0, 12.7] → scale 0.1, zero point 0.
  a = choose_scale_zero_point(0, 12.7, asym(DType::u8, true), "a");
  EXPECT_FLOAT_EQ(a.scale, 0.1f);
  EXPECT_EQ(a.zero_point, 0);
  // Symmetric 7-bit: amax 6.3 → 6.3 / 63 = 0.1; u8 zero point 64.
  a = choose_scale_zero_point(-6.3, 1, sym(DType::s8, true), "w");
  EXPECT_FLOAT_EQ(a.scale, 0.1f);
  EXPECT_EQ(a.zero_point, 0);
  a = choose_scale_zero_point(-6.3, 1, sym(DType::u8, true), "w");
  EXPECT_EQ(a.zero_point, 64);
  // Quantizing with reduced params never leaves the 7-bit range, even past the calibrated range.
  const QParams p = choose_qparams(0, 12.7, asym(DType::u8, true), "a");
  EXPECT_EQ(quantize(f32({3}, {12.7f, 100.0f, -5.0f}), p).to_i64_vector(), (std::vector<int64_t>{127, 127, 0}));
}

TEST(QuantQParams, DegenerateRanges) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const QScheme& s : {asym(DType::u8), asym(DType::s8), sym(DType::s8), sym(DType::u8), asym(DType::s4),
                           sym(DType::u4), asym(DType::u8, true)}) {
    SCOPED_TRACE(std::string(dtype_name(s.format)) + (s.symmetric ? " symmetric" : " asymmetric"));
    // All zeros, denormal spans, and normal values whose scale would be denormal (2e-38 / 7 < FLT_MIN): scale 1.
    for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
             {0, 0}, {0, 1e-40}, {-1e-39, 1e-39}, {1e-40, 1e-40}, {0, 2e-38}, {-2e-38, 2e-38}, {-FLT_MIN, 0}}) {
      const ScaleZeroPoint a = choose_scale_zero_point(lo, hi, s, "t");
      EXPECT_EQ(a.scale, 1.0f) << lo << " " << hi;
      EXPECT_EQ(a.zero_point, s.symmetric ? symmetric_zero_point(s.format, s.reduced_range) : 0);
    }
    // Tiny but with a normal scale: not degenerate.
    const ScaleZeroPoint t = choose_scale_zero_point(0, 1e-30, s, "t");
    EXPECT_TRUE(std::isnormal(t.scale));
    EXPECT_LT(t.scale, 1e-30f);
    // Huge ranges: finite scales.
    const ScaleZeroPoint h = choose_scale_zero_point(-FLT_MAX, FLT_MAX, s, "t");
    EXPECT_TRUE(std::isfinite(h.scale) && h.scale > 0);
    EXPECT_NE(h.scale, inf);
  }
  // Zero tensor: 0 round-trips exactly. Constant 3.0: [0, 3] → scale 3/255 (u8), 3/127 (s8 symmetric);
  // 3.0 maps to the end code and back to exactly 3.0 (3.0f / 0.011764706f = 255.0, 255 * 0.011764706f = 3.0f).
  for (const QScheme& s : {asym(DType::u8), sym(DType::s8), asym(DType::s8)}) {
    const Tensor zeros = f32({4}, {0, 0, 0, 0});
    const QParams pz = choose_qparams_per_tensor(zeros, s, "zeros");
    EXPECT_EQ(pz.scale[0], 1.0f);
    EXPECT_EQ(fake_quantize(zeros, pz).to_f32_vector(), (std::vector<float>{0, 0, 0, 0}));
    const Tensor threes = f32({2}, {3, 3});
    const QParams p3 = choose_qparams_per_tensor(threes, s, "threes");
    EXPECT_EQ(fake_quantize(threes, p3).to_f32_vector(), (std::vector<float>{3, 3}));
  }
  EXPECT_FLOAT_EQ(choose_qparams(3, 3, asym(DType::u8), "c").scale[0], 3.0f / 255);
  EXPECT_FLOAT_EQ(choose_qparams(3, 3, sym(DType::s8), "c").scale[0], 3.0f / 127);
}

TEST(QuantQParams, NonFiniteIsInputErrorNamingTheTensor) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (const auto& r : std::vector<std::pair<double, double>>{{nan, 1}, {0, nan}, {-inf, 1}, {0, inf}, {2, 1}}) {
    const std::string msg = input_error([&] { choose_qparams(r.first, r.second, asym(DType::u8), "conv1/out"); });
    EXPECT_NE(msg.find("'conv1/out'"), std::string::npos) << msg;
  }
  EXPECT_NE(input_error([&] { choose_scale_nf4(nan, 1, "w4"); }).find("'w4'"), std::string::npos);
  const Tensor w = f32({2, 2}, {1, 2, static_cast<float>(nan), 4});
  std::string msg = input_error([&] { choose_qparams_per_channel(w, 0, sym(DType::s8), "fc.weight"); });
  EXPECT_NE(msg.find("'fc.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("element 2"), std::string::npos) << msg;
  const Tensor wi = f32({2, 2}, {1, 2, 3, static_cast<float>(-inf)});
  msg = input_error([&] { choose_qparams_per_tensor(wi, asym(DType::u8), "x"); });
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  msg = input_error([&] { choose_qparams_per_group(wi, 1, 2, sym(DType::s4), "g"); });
  EXPECT_NE(msg.find("'g'"), std::string::npos) << msg;
  // Bad axis / group size from a recipe: InputError too.
  EXPECT_THROW(choose_qparams_per_channel(w, 2, sym(DType::s8), "w"), InputError);
  EXPECT_THROW(choose_qparams_per_group(w, 0, 0, sym(DType::s8), "w"), InputError);
}

TEST(QuantQParams, PerChannelSymmetricS8) {
  // W [2, 3] = [[0.5, -1.27, 0.3], [2.54, 1.0, -0.02]], per channel along axis 0:
  // row 0 amax 1.27 → scale 0.01: 0.5 → 50, -1.27 → -127, 0.3 → 30
  // row 1 amax 2.54 → scale 0.02: 2.54 → 127, 1.0 → 50, -0.02 → -1
  const Tensor w = f32({2, 3}, {0.5f, -1.27f, 0.3f, 2.54f, 1.0f, -0.02f});
  const QParams p = choose_qparams_per_channel(w, 0, sym(DType::s8), "w");
  EXPECT_EQ(p.granularity(), QGranularity::per_channel);
  EXPECT_EQ(p.axis, 0);
  ASSERT_EQ(p.num_scales(), 2);
  EXPECT_FLOAT_EQ(p.scale[0], 0.01f);
  EXPECT_FLOAT_EQ(p.scale[1], 0.02f);
  EXPECT_EQ(p.zero_point, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(p.scale_shape(w.shape()), (Shape{2}));
  const Tensor q = quantize(w, p);
  EXPECT_EQ(q.dtype(), DType::s8);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{50, -127, 30, 127, 50, -1}));
  const std::vector<float> y = dequantize(q, p).to_f32_vector();
  const std::vector<float> want = {50 * 0.01f, -127 * 0.01f, 30 * 0.01f, 127 * 0.02f, 50 * 0.02f, -1 * 0.02f};
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], want[i]) << i;
  // Along axis 1 (ONNX-style -1 accepted): columns amax 2.54, 1.27, 0.3 → scales 0.02, 0.01, 0.3/127.
  const QParams pc = choose_qparams_per_channel(w, -1, sym(DType::s8), "w");
  EXPECT_EQ(pc.axis, 1);
  ASSERT_EQ(pc.num_scales(), 3);
  EXPECT_FLOAT_EQ(pc.scale[0], 0.02f);
  EXPECT_FLOAT_EQ(pc.scale[1], 0.01f);
  EXPECT_FLOAT_EQ(pc.scale[2], 0.3f / 127);
  // 0.5/0.02 = 25, -1.27/0.01 = -127, 0.3 → 127, 2.54 → 127, 1.0/0.01 = 100, -0.02/(0.3/127) = -8.47 → -8
  EXPECT_EQ(quantize(w, pc).to_i64_vector(), (std::vector<int64_t>{25, -127, 127, 127, 100, -8}));
}

TEST(QuantQParams, PerGroup) {
  // x [2, 5], groups of 2 along axis 1 → scale [2, 3] (ceil(5/2) = 3), symmetric s8 (scale = amax/127):
  // row 0: {1.5, -2} amax 2, {0.5, 0.2} amax 0.5, {3} amax 3
  // row 1: {-0.05, 0.2} amax 0.2, {2, -8} amax 8, {0} → degenerate, scale 1
  const Tensor x = f32({2, 5}, {1.5f, -2, 0.5f, 0.2f, 3, -0.05f, 0.2f, 2, -8, 0});
  const QParams p = choose_qparams_per_group(x, 1, 2, sym(DType::s8), "w");
  EXPECT_EQ(p.granularity(), QGranularity::per_group);
  EXPECT_EQ(p.scale_shape(x.shape()), (Shape{2, 3}));
  ASSERT_EQ(p.num_scales(), 6);
  const float want_scale[6] = {2.0f / 127, 0.5f / 127, 3.0f / 127, 0.2f / 127, 8.0f / 127, 1.0f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(p.scale[i], want_scale[i]) << i;
  // 1.5 → 95.25 → 95, -2 → -127, 0.5 → 127, 0.2 → 50.8 → 51, 3 → 127,
  // -0.05 → -31.75 → -32, 0.2 → 127, 2 → 31.75 → 32, -8 → -127, 0 → 0
  const Tensor q = quantize(x, p);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{95, -127, 127, 51, 127, -32, 127, 32, -127, 0}));
  // Groups along axis 0 of [4, 2] with group 3 → scale [2, 2]; asymmetric u4.
  // column 0 rows 0-2 {0, 1.6, 3} → [0, 3]: scale 0.2, zp 0; row 3 {-1.5} → [-1.5, 0]: scale 0.1, zp 15.
  // column 1 rows 0-2 {-3, 0, 0} → scale 0.2, zp 15; row 3 {0.75} → scale 0.05, zp 0.
  const Tensor x0 = f32({4, 2}, {0, -3, 1.6f, 0, 3, 0, -1.5f, 0.75f});
  const QParams p0 = choose_qparams_per_group(x0, 0, 3, asym(DType::u4), "w");
  EXPECT_EQ(p0.scale_shape(x0.shape()), (Shape{2, 2}));
  const float want0[4] = {0.2f, 0.2f, 0.1f, 0.05f};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(p0.scale[i], want0[i]) << i;
  EXPECT_EQ(p0.zero_point, (std::vector<int32_t>{0, 15, 15, 0}));
  const Tensor q0 = quantize(x0, p0);
  EXPECT_EQ(q0.dtype(), DType::u4);
  // 0, -3/0.2 + 15 = 0, 1.6/0.2 = 8, 0 + 15, 3/0.2 = 15, 0 + 15, -1.5/0.1 + 15 = 0, 0.75/0.05 = 15
  EXPECT_EQ(q0.to_i64_vector(), (std::vector<int64_t>{0, 0, 8, 15, 15, 15, 0, 15}));
}

TEST(QuantQParams, CheckRejectsBadParams) {
  const Shape x{4, 3};
  QParams p;
  p.format = DType::u8;
  p.axis = 1;
  p.scale = {0.1f, 0.2f, 0.3f};
  p.zero_point = {0, 128, 255};
  EXPECT_NO_THROW(check_qparams(p, x, "w"));
  QParams bad = p;
  bad.scale.pop_back();
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // count
  bad = p;
  bad.scale[1] = 0;
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // zero scale
  bad.scale[1] = -0.1f;
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // negative
  bad.scale[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // NaN
  bad.scale[1] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // Inf
  bad = p;
  bad.zero_point[2] = 256;
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // zero point out of range
  bad = p;
  bad.axis = 2;
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);  // axis
  bad = p;
  bad.group_size = 2;  // per group along axis 1 of [4, 3]: needs [4, 2] scales
  EXPECT_THROW(check_qparams(bad, x, "w"), InputError);
  bad.scale.assign(8, 0.1f);
  bad.zero_point.assign(8, 0);
  EXPECT_NO_THROW(check_qparams(bad, x, "w"));
  EXPECT_EQ(bad.expected_num_scales(x), 8);
  const std::string msg = [&] {
    try {
      QParams z = p;
      z.zero_point[0] = -1;
      check_qparams(z, x, "layer3.weight");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(msg.find("'layer3.weight'"), std::string::npos) << msg;
  // f16 casts carry no scales.
  EXPECT_NO_THROW(check_qparams(qparams_cast(DType::f16), x, "w"));
}

TEST(QuantQParams, OnnxTensors) {
  // Per group: u4 groups of 3 along axis 0 of [4, 2] → scale [2, 2], zero points packed low nibble first:
  // {0, 15, 15, 0} → bytes 0xF0, 0x0F.
  QParams p;
  p.format = DType::u4;
  p.axis = 0;
  p.group_size = 3;
  p.scale = {0.2f, 0.2f, 0.1f, 0.05f};
  p.zero_point = {0, 15, 15, 0};
  const Shape x{4, 2};
  const QParamTensors t = qparams_to_tensors(p, x);
  EXPECT_EQ(t.scale.shape(), (Shape{2, 2}));
  EXPECT_EQ(t.scale.to_f32_vector(), p.scale);
  EXPECT_EQ(t.zero_point.dtype(), DType::u4);
  EXPECT_EQ(t.zero_point.data<uint8_t>()[0], 0xF0);
  EXPECT_EQ(t.zero_point.data<uint8_t>()[1], 0x0F);
  EXPECT_EQ(t.axis, 0);
  EXPECT_EQ(t.block_size, 3);
  const QParams back = qparams_from_tensors(DType::u4, t.scale, &t.zero_point, t.axis, t.block_size, x, "w");
  EXPECT_EQ(back.scale, p.scale);
  EXPECT_EQ(back.zero_point, p.zero_point);
  EXPECT_EQ(back.axis, 0);
  EXPECT_EQ(back.group_size, 3);
  // Per channel with a negative ONNX axis; per tensor from a scalar or a one-element 1-D scale.
  const Tensor s3 = f32({3}, {0.1f, 0.2f, 0.3f});
  const Tensor z3 = Tensor::from_vector<int8_t>(DType::s8, {3}, {0, -1, 5});
  const QParams pc = qparams_from_tensors(DType::s8, s3, &z3, -1, 0, {2, 3}, "w");
  EXPECT_EQ(pc.granularity(), QGranularity::per_channel);
  EXPECT_EQ(pc.axis, 1);
  EXPECT_EQ(pc.zero_point, (std::vector<int32_t>{0, -1, 5}));
  const QParams pt = qparams_from_tensors(DType::u8, f32({1}, {0.5f}), nullptr, 1, 0, {2, 3}, "a");
  EXPECT_EQ(pt.granularity(), QGranularity::per_tensor);
  EXPECT_EQ(pt.zero_point, (std::vector<int32_t>{0}));
  EXPECT_EQ(qparams_to_tensors(pt, {2, 3}).scale.shape(), (Shape{}));
  // Bad parameters from a model: zero / NaN scale, wrong zero point dtype or shape, wrong count, axis.
  const Tensor z3u = Tensor::from_vector<uint8_t>(DType::u8, {3}, {0, 1, 2});
  EXPECT_THROW(qparams_from_tensors(DType::s8, f32({3}, {0.1f, 0, 0.3f}), &z3, 1, 0, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::s8, f32({}, {std::nanf("")}), nullptr, 1, 0, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::s8, s3, &z3u, 1, 0, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::s8, s3, &z3, 0, 0, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::s8, s3, &z3, 2, 0, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::s8, s3, &z3, 1, -2, {2, 3}, "w"), InputError);
  EXPECT_THROW(qparams_from_tensors(DType::f32, s3, nullptr, 1, 0, {2, 3}, "w"), InputError);
}
