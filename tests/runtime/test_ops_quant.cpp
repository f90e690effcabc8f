// QuantizeLinear / DequantizeLinear. Expected values from the ONNX formula worked by hand:
// q = saturate(round_half_to_even(x / scale) + zero_point), y = (q - zero_point) * scale.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ew_test_util.h"

using namespace qforge;
using namespace qforge::ew_test;

TEST(OpsQuant, QuantizeRoundsHalfToEven) {
  const Tensor x = f32_tensor({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.4999f, 3.5f});
  const Tensor scale = f32_tensor({}, {1});
  const Tensor q = run_op1("QuantizeLinear", {x, scale, Tensor::from_vector<int8_t>(DType::s8, {}, {0})});
  EXPECT_EQ(q.dtype(), DType::s8);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{0, 2, 2, 0, -2, -2, 0, 4}));
  // Without zero_point: u8 output, zero point 0, negatives saturate at 0.
  const Tensor u = run_op1("QuantizeLinear", {x, scale});
  EXPECT_EQ(u.dtype(), DType::u8);
  EXPECT_EQ(u.to_i64_vector(), (std::vector<int64_t>{0, 2, 2, 0, 0, 0, 0, 4}));
}

TEST(OpsQuant, SingleScaleAndZeroPointMayDifferInRank) {
  // scale [1] with a scalar zero point, as ONNX Runtime's quantize_static writes and runs:
  // y = (q - zp) * scale = (10 - 4) * 0.5 = 3, (0 - 4) * 0.5 = -2.
  const Tensor q = Tensor::from_vector<uint8_t>(DType::u8, {2}, {10, 0});
  EXPECT_EQ(run_op1("DequantizeLinear", {q, f32_tensor({1}, {0.5f}), Tensor::from_vector<uint8_t>(DType::u8, {}, {4})})
                .to_f32_vector(),
            (std::vector<float>{3, -2}));
  EXPECT_EQ(run_op1("DequantizeLinear", {q, f32_tensor({}, {0.5f}), Tensor::from_vector<uint8_t>(DType::u8, {1}, {4})})
                .to_f32_vector(),
            (std::vector<float>{3, -2}));
}

TEST(OpsQuant, QuantizeSaturates) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = f32_tensor({7}, {-1000, -129, -128.4f, 127.4f, 128, 1e30f, inf});
  const Tensor s8 =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {1}), Tensor::from_vector<int8_t>(DType::s8, {}, {0})});
  EXPECT_EQ(s8.to_i64_vector(), (std::vector<int64_t>{-128, -128, -128, 127, 127, 127, 127}));
  const Tensor u8 =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {2}), Tensor::from_vector<uint8_t>(DType::u8, {}, {128})});
  // x/2 + 128: -500+128 → 0, -64.5 → -64 (even) +128 = 64, -64.2 → 64, 63.7 → 192, 64 → 192, big → 255.
  EXPECT_EQ(u8.to_i64_vector(), (std::vector<int64_t>{0, 64, 64, 192, 192, 255, 255}));
  // NaN goes to the lowest value of the range, as in ONNX Runtime.
  const Tensor n = run_op1("QuantizeLinear", {f32_tensor({2}, {nan, -inf}), f32_tensor({}, {1}),
                                              Tensor::from_vector<int8_t>(DType::s8, {}, {3})});
  EXPECT_EQ(n.to_i64_vector(), (std::vector<int64_t>{-128, -128}));
}

TEST(OpsQuant, QuantizeWorkedExampleU8) {
  // Range [-0.9, 5.0] onto u8: scale = 5.9 / 255, zero_point = round(0.9 / scale) = 39.
  const float scale = 5.9f / 255.0f;
  const Tensor x = f32_tensor({5}, {0.3f, -0.9f, 5.0f, 0.0f, 6.0f});
  const Tensor q =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {scale}), Tensor::from_vector<uint8_t>(DType::u8, {}, {39})});
  // 0.3 / 0.0231373 = 12.97 → 13 + 39 = 52; -0.9 → -38.9 → -39 + 39 = 0; 5.0 → 216.1 → 216 + 39 = 255.
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{52, 0, 255, 39, 255}));
  const Tensor y =
      run_op1("DequantizeLinear", {q, f32_tensor({}, {scale}), Tensor::from_vector<uint8_t>(DType::u8, {}, {39})});
  expect_near_all(y, {13 * scale, -39 * scale, 216 * scale, 0, 216 * scale}, 0, 0);
}

TEST(OpsQuant, QuantizeDividesLikeOnnxRuntime) {
  // x / scale in float32, not x * (1 / scale): with scale 0.1f, 1.55f / 0.1f = 15.499999 → 15,
  // whereas 1.55f * (1 / 0.1f) = 15.5 → 16. ONNX Runtime 1.32 gives {15, 23, -49, 5, -128}.
  const Tensor x = f32_tensor({5}, {1.55f, 2.35f, -4.95f, 0.5f, std::numeric_limits<float>::quiet_NaN()});
  const Tensor q =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {0.1f}), Tensor::from_vector<int8_t>(DType::s8, {}, {0})});
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{15, 23, -49, 5, -128}));
}

TEST(OpsQuant, PerAxis) {
  // x [2,3,2], axis 1: scales {1, 0.5, 2}, zero points {0, 10, -5} (s8).
  const Tensor x = f32_tensor({2, 3, 2}, {1, -1, 1, -1, 1, -1, 3, 4.5f, 3, 4.5f, 3, 4.5f});
  const Tensor s = f32_tensor({3}, {1, 0.5f, 2});
  const Tensor z = Tensor::from_vector<int8_t>(DType::s8, {3}, {0, 10, -5});
  const Tensor q = run_op1("QuantizeLinear", {x, s, z});
  // channel 0: 1,-1 / 3,4.5→4 (even); channel 1: 2+10,-2+10 / 6+10,9+10; channel 2: 0.5→0-5, -0.5→0-5
  // / 1.5→2-5, 2.25→2-5
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{1, -1, 12, 8, -5, -5, 3, 4, 16, 19, -3, -3}));
  const Tensor y = run_op1("DequantizeLinear", {q, s, z});
  expect_near_all(y, {1, -1, 1, -1, 0, 0, 3, 4, 3, 4.5f, 4, 4}, 0, 0);
  // Negative axis and axis 0.
  const Tensor q2 = run_op1("QuantizeLinear", {x, s, z}, {attr_i("axis", -2)});
  EXPECT_TRUE(q2.bit_equal(q));
  const Tensor s0 = f32_tensor({2}, {1, 2});
  const Tensor q0 = run_op1("QuantizeLinear", {x, s0}, {attr_i("axis", 0)});
  EXPECT_EQ(q0.to_i64_vector(), (std::vector<int64_t>{1, 0, 1, 0, 1, 0, 2, 2, 2, 2, 2, 2}));
  // Scale length must match dims[axis].
  EXPECT_THROW(run_op1("QuantizeLinear", {x, s0}), InputError);
  EXPECT_THROW(run_op1("QuantizeLinear", {x, s, z}, {attr_i("axis", 3)}), InputError);
  EXPECT_THROW(run_op1("QuantizeLinear", {x, s, Tensor::from_vector<int8_t>(DType::s8, {2}, {0, 0})}), InputError);
}

TEST(OpsQuant, PerAxisLargeMultiThreaded) {
  const Shape xs{4, 16, 33, 33};
  const Tensor x = rand_f32(xs, -3, 3, 41);
  std::vector<float> sv(16);
  std::vector<uint8_t> zv(16);
  for (int c = 0; c < 16; ++c) {
    sv[c] = 0.01f + 0.003f * c;
    zv[c] = static_cast<uint8_t>(100 + c);
  }
  const Tensor s = f32_tensor({16}, sv);
  const Tensor z = Tensor::from_vector<uint8_t>(DType::u8, {16}, zv);
  const Tensor q = run_op1("QuantizeLinear", {x, s, z}, {}, "", 4);
  const Tensor y = run_op1("DequantizeLinear", {q, s, z}, {}, "", 4);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int c = static_cast<int>((i / (33 * 33)) % 16);
    const float r = std::nearbyint(x.data<float>()[i] / sv[c]);
    const int64_t want = std::clamp<int64_t>(static_cast<int64_t>(r) + zv[c], 0, 255);
    ASSERT_EQ(q.data<uint8_t>()[i], want) << "index " << i;
    ASSERT_EQ(y.data<float>()[i], static_cast<float>(want - zv[c]) * sv[c]) << "index " << i;
  }
}

TEST(OpsQuant, Blocked) {
  // x [2,5], axis 1, block 2: scale [2,3] (ceil(5/2) = 3 blocks per row).
  const Tensor x = f32_tensor({2, 5}, {1, 2, 3, 4, 5, -1, -2, -3, -4, -5});
  const Tensor s = f32_tensor({2, 3}, {1, 2, 4, 0.5f, 1, 5});
  const Tensor z = Tensor::from_vector<int8_t>(DType::s8, {2, 3}, {0, 1, 2, 0, 0, 0});
  const Tensor q = run_op1("QuantizeLinear", {x, s, z}, {attr_i("axis", 1), attr_i("block_size", 2)});
  // row 0: 1/1, 2/1 | 3/2=1.5→2 +1, 4/2=2 +1 | 5/4=1.25→1 +2
  // row 1: -2, -4 | -3, -4 | -1
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{1, 2, 3, 3, 3, -2, -4, -3, -4, -1}));
  const Tensor y = run_op1("DequantizeLinear", {q, s, z}, {attr_i("axis", 1), attr_i("block_size", 2)});
  expect_near_all(y, {1, 2, 4, 4, 4, -1, -2, -3, -4, -5}, 0, 0);
  // Blocked along axis 0 of [4,2] with block 3: scale [2,2].
  const Tensor x0 = f32_tensor({4, 2}, {1, 1, 2, 2, 3, 3, 4, 4});
  const Tensor s0 = f32_tensor({2, 2}, {1, 2, 4, 8});
  const Tensor q0 = run_op1("QuantizeLinear", {x0, s0, Tensor::from_vector<int8_t>(DType::s8, {2, 2}, {0, 0, 0, 0})},
                            {attr_i("axis", 0), attr_i("block_size", 3)});
  EXPECT_EQ(q0.to_i64_vector(), (std::vector<int64_t>{1, 0, 2, 1, 3, 2, 1, 0}));
  // Wrong block count and negative block size.
  EXPECT_THROW(run_op1("QuantizeLinear", {x, s}, {attr_i("axis", 1), attr_i("block_size", 3)}), InputError);
  EXPECT_THROW(run_op1("QuantizeLinear", {x, s}, {attr_i("axis", 1), attr_i("block_size", -1)}), InputError);
}

TEST(OpsQuant, SixteenAndFourBit) {
  const Tensor x = f32_tensor({5}, {-70000, -1.5f, 0.5f, 2.5f, 70000});
  const Tensor s16 =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {1}), Tensor::from_vector<int16_t>(DType::s16, {}, {0})});
  EXPECT_EQ(s16.to_i64_vector(), (std::vector<int64_t>{-32768, -2, 0, 2, 32767}));
  const Tensor u16 =
      run_op1("QuantizeLinear", {x, f32_tensor({}, {1}), Tensor::from_vector<uint16_t>(DType::u16, {}, {100})});
  EXPECT_EQ(u16.to_i64_vector(), (std::vector<int64_t>{0, 98, 100, 102, 65535}));
  // output_dtype (opset 21) selects the type without a zero point.
  const Tensor o = run_op1("QuantizeLinear", {x, f32_tensor({}, {1})}, {attr_i("output_dtype", 5)});
  EXPECT_EQ(o.dtype(), DType::s16);
  EXPECT_THROW(run_op1("QuantizeLinear", {x, f32_tensor({}, {1}), Tensor::from_vector<uint8_t>(DType::u8, {}, {0})},
                       {attr_i("output_dtype", 3)}),
               InputError);
  // s4: range [-8, 7], packed two per byte, element 0 in the low nibble.
  const Tensor q4 = run_op1("QuantizeLinear", {x, f32_tensor({}, {1})}, {attr_i("output_dtype", 22)});
  EXPECT_EQ(q4.dtype(), DType::s4);
  EXPECT_EQ(q4.to_i64_vector(), (std::vector<int64_t>{-8, -2, 0, 2, 7}));
  EXPECT_EQ(q4.data<uint8_t>()[0], 0xE8);  // -2 = 0xE high, -8 = 0x8 low
  EXPECT_EQ(q4.data<uint8_t>()[1], 0x20);
  EXPECT_EQ(q4.data<uint8_t>()[2] & 0x0F, 0x7);
  const Tensor d4 = run_op1("DequantizeLinear", {q4, f32_tensor({}, {0.5f})});
  expect_near_all(d4, {-4, -1, 0, 1, 3.5f}, 0, 0);
  // u4 with a packed zero point of 8.
  std::vector<uint8_t> zp_byte = {0x08};
  Tensor z4(DType::u4, {});
  z4.data<uint8_t>()[0] = 0x08;
  const Tensor u4 = run_op1("QuantizeLinear", {x, f32_tensor({}, {1}), z4});
  EXPECT_EQ(u4.dtype(), DType::u4);
  EXPECT_EQ(u4.to_i64_vector(), (std::vector<int64_t>{0, 6, 8, 10, 15}));
  expect_near_all(run_op1("DequantizeLinear", {u4, f32_tensor({}, {1}), z4}), {-8, -2, 0, 2, 7}, 0, 0);
}

TEST(OpsQuant, DequantizeTypes) {
  const Tensor s8 = Tensor::from_vector<int8_t>(DType::s8, {4}, {-128, -1, 0, 127});
  expect_near_all(run_op1("DequantizeLinear", {s8, f32_tensor({}, {0.5f})}), {-64, -0.5f, 0, 63.5f}, 0, 0);
  expect_near_all(
      run_op1("DequantizeLinear", {s8, f32_tensor({}, {0.5f}), Tensor::from_vector<int8_t>(DType::s8, {}, {-1})}),
      {-63.5f, 0, 0.5f, 64}, 0, 0);
  // s32 (biases): zero point 0.
  const Tensor b = Tensor::from_vector<int32_t>(DType::s32, {3}, {-1000000, 0, 123456});
  expect_near_all(run_op1("DequantizeLinear", {b, f32_tensor({}, {0.001f})}), {-1000000 * 0.001f, 0, 123456 * 0.001f},
                  0, 0);
  // zero_point dtype must match x.
  EXPECT_THROW(run_op1("DequantizeLinear", {s8, f32_tensor({}, {1}), Tensor::from_vector<uint8_t>(DType::u8, {}, {0})}),
               InputError);
  // Unsupported input / scale dtypes are clean errors.
  EXPECT_THROW(run_op1("DequantizeLinear", {f32_tensor({1}, {1}), f32_tensor({}, {1})}), InputError);
  Tensor h(DType::f16, {});
  EXPECT_THROW(run_op1("DequantizeLinear", {s8, h}), InputError);
  EXPECT_THROW(run_op1("QuantizeLinear", {s8, f32_tensor({}, {1})}), InputError);
  EXPECT_THROW(run_op1("QuantizeLinear", {f32_tensor({1}, {1}), f32_tensor({}, {1})}, {attr_i("output_dtype", 17)}),
               InputError);  // float8
}

TEST(OpsQuant, InferenceSymbolic) {
  auto r = infer_op("QuantizeLinear", {ts(DType::f32, {dsym("N"), dk(3)}), ts(DType::f32, {}), ts(DType::s8, {})});
  EXPECT_EQ(r[0].dtype, DType::s8);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(3)}));
  r = infer_op("QuantizeLinear", {ts(DType::f32, {dsym("N"), dk(3)}), ts(DType::f32, {dk(3)})});
  EXPECT_EQ(r[0].dtype, DType::u8);
  r = infer_op("DequantizeLinear",
               {ts(DType::u8, {dsym("N"), dk(3)}), ts(DType::f32, {dk(3)}), ts(DType::u8, {dk(3)})});
  EXPECT_EQ(r[0].dtype, DType::f32);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(3)}));
  // Known shapes are checked statically.
  EXPECT_THROW(infer_op("QuantizeLinear", {ts(DType::f32, {dk(2), dk(3)}), ts(DType::f32, {dk(4)})}), InputError);
}
