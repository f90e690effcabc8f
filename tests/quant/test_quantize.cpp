// Whole-tensor quantize / dequantize and the element formulas. Expected values: by hand from the ONNX
// QuantizeLinear formula (round half to even, saturate), and ONNX Runtime 1.32 outputs where stated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "quant/pack.h"
#include "quant/quantize.h"

using namespace qforge;
using namespace qforge::quant;

namespace {

Tensor f32(Shape shape, std::vector<float> v) { return Tensor::from_vector<float>(DType::f32, std::move(shape), v); }

QParams per_tensor(DType format, float scale, int32_t zp, bool symmetric = false) {
  QParams p;
  p.format = format;
  p.scale = {scale};
  p.zero_point = {zp};
  p.symmetric = symmetric;
  return p;
}

}  // namespace

TEST(QuantQuantize, RoundHalfToEven) {
  EXPECT_EQ(round_half_even(0.5f), 0.0f);
  EXPECT_EQ(round_half_even(1.5f), 2.0f);
  EXPECT_EQ(round_half_even(2.5f), 2.0f);
  EXPECT_EQ(round_half_even(-0.5f), 0.0f);
  EXPECT_EQ(round_half_even(-1.5f), -2.0f);
  EXPECT_EQ(round_half_even(-2.5), -2.0);
  EXPECT_EQ(round_half_even(std::nextafter(2.5f, 3.0f)), 3.0f);
  // Scale 1, zero point 0: ties go to the even code in every format.
  const Tensor x = f32({7}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f});
  EXPECT_EQ(quantize(x, per_tensor(DType::s8, 1, 0)).to_i64_vector(), (std::vector<int64_t>{0, 2, 2, 0, -2, -2, 4}));
  EXPECT_EQ(quantize(x, per_tensor(DType::s4, 1, 0)).to_i64_vector(), (std::vector<int64_t>{0, 2, 2, 0, -2, -2, 4}));
  // With zero point 10 on u8: 10 + {0, 2, 2, 0, -2, -2, 4}.
  EXPECT_EQ(quantize(x, per_tensor(DType::u8, 1, 10)).to_i64_vector(),
            (std::vector<int64_t>{10, 12, 12, 10, 8, 8, 14}));
}

TEST(QuantQuantize, Saturates) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = f32({8}, {-1000, -128.6f, -128.4f, 127.4f, 127.6f, inf, -inf, nan});
  EXPECT_EQ(quantize(x, per_tensor(DType::s8, 1, 0)).to_i64_vector(),
            (std::vector<int64_t>{-128, -128, -128, 127, 127, 127, -128, -128}));
  // u8, zero point 128, scale 2: x/2 + 128.
  EXPECT_EQ(quantize(x, per_tensor(DType::u8, 2, 128)).to_i64_vector(),
            (std::vector<int64_t>{0, 64, 64, 192, 192, 255, 0, 0}));
  EXPECT_EQ(quantize(x, per_tensor(DType::u4, 1, 8)).to_i64_vector(),
            (std::vector<int64_t>{0, 0, 0, 15, 15, 15, 0, 0}));
  // Symmetric params clamp to their narrower range: -1000 → -127, not -128.
  EXPECT_EQ(quantize(x, per_tensor(DType::s8, 1, 0, true)).to_i64_vector(),
            (std::vector<int64_t>{-127, -127, -127, 127, 127, 127, -127, -127}));
  EXPECT_EQ(quantize(x, per_tensor(DType::s4, 1, 0, true)).to_i64_vector(),
            (std::vector<int64_t>{-7, -7, -7, 7, 7, 7, -7, -7}));
  // 16-bit formats.
  const Tensor big = f32({4}, {-70000, -1.5f, 2.5f, 70000});
  EXPECT_EQ(quantize(big, per_tensor(DType::s16, 1, 0)).to_i64_vector(),
            (std::vector<int64_t>{-32768, -2, 2, 32767}));
  EXPECT_EQ(quantize(big, per_tensor(DType::u16, 1, 100)).to_i64_vector(), (std::vector<int64_t>{0, 98, 102, 65535}));
}

TEST(QuantQuantize, EqualsOnnxRuntimeQuantizeLinear) {
  // ONNX Runtime 1.32, QuantizeLinear opset 21, scale 0.037 (float32), per tensor.
  const Tensor x = f32({16}, {0.0185f, -0.0185f, 0.0555f, 0.0925f, -0.0925f, 1.0f, -1.0f, 4.7f, -4.8f, 0.3f, 0.037f,
                              12.3456f, -0.7777f, 0.12345f, 3.3e-3f, -2.2f});
  EXPECT_EQ(quantize(x, per_tensor(DType::s8, 0.037f, 3)).to_i64_vector(),
            (std::vector<int64_t>{3, 3, 5, 5, 1, 30, -24, 127, -127, 11, 4, 127, -18, 6, 3, -56}));
  EXPECT_EQ(quantize(x, per_tensor(DType::u8, 0.037f, 128)).to_i64_vector(),
            (std::vector<int64_t>{128, 128, 130, 130, 126, 155, 101, 255, 0, 136, 129, 255, 107, 131, 128, 69}));
  EXPECT_EQ(quantize(x, per_tensor(DType::s4, 0.037f, -1)).to_i64_vector(),
            (std::vector<int64_t>{-1, -1, 1, 1, -3, 7, -8, 7, -8, 7, 0, 7, -8, 2, -1, -8}));
  EXPECT_EQ(quantize(x, per_tensor(DType::u4, 0.037f, 8)).to_i64_vector(),
            (std::vector<int64_t>{8, 8, 10, 10, 6, 15, 0, 15, 0, 15, 9, 15, 0, 11, 8, 0}));
  // x / scale is one float32 division, not x * (1 / scale): 1.55f / 0.1f = 15.499999 → 15 (a multiply
  // by 1/0.1f gives 15.5 → 16). ONNX Runtime: {15, 23, -49, 5, -128}.
  const Tensor y = f32({5}, {1.55f, 2.35f, -4.95f, 0.5f, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_EQ(quantize(y, per_tensor(DType::s8, 0.1f, 0)).to_i64_vector(), (std::vector<int64_t>{15, 23, -49, 5, -128}));
}

TEST(QuantQuantize, FormulaSweep) {
  // Every element equals the formula written directly: clamp(nearbyint(x / s) + zp) in float32.
  for (const DType f : {DType::s8, DType::u8, DType::s4, DType::u4}) {
    const QRange r = qrange_storage(f);
    const float scale = 0.0173f;
    const int32_t zp = (r.qmin + r.qmax) / 2 + 1;
    std::vector<float> v;
    for (int i = -3000; i <= 3000; ++i) v.push_back(static_cast<float>(i) * 0.00123f);
    const Tensor x = f32({static_cast<int64_t>(v.size())}, v);
    const std::vector<int64_t> q = quantize(x, per_tensor(f, scale, zp)).to_i64_vector();
    for (size_t i = 0; i < v.size(); ++i) {
      const double want = std::clamp<double>(std::nearbyint(v[i] / scale) + zp, r.qmin, r.qmax);
      ASSERT_EQ(q[i], static_cast<int64_t>(want)) << dtype_name(f) << " x=" << v[i];
    }
  }
}

TEST(QuantQuantize, Int4PackingOrder) {
  // Element 2i in the low nibble: [1, -2, 3] → 0xE1 (-2 = 0xE high, 1 low), 0x03.
  EXPECT_EQ(pack_s4x2(1, -2), 0xE1);
  EXPECT_EQ(pack_s4x2(-8, 7), 0x78);
  EXPECT_EQ(pack_u4x2(15, 0), 0x0F);
  const Tensor q = quantize(f32({3}, {1, -2, 3}), per_tensor(DType::s4, 1, 0));
  EXPECT_EQ(q.dtype(), DType::s4);
  EXPECT_EQ(q.nbytes(), 2u);
  EXPECT_EQ(q.data<uint8_t>()[0], 0xE1);
  EXPECT_EQ(q.data<uint8_t>()[1], 0x03);
  // u4 [1, 14, 3] packs the same bytes.
  const Tensor u = quantize(f32({3}, {1, 14, 3}), per_tensor(DType::u4, 1, 0));
  EXPECT_EQ(u.data<uint8_t>()[0], 0xE1);
  EXPECT_EQ(u.data<uint8_t>()[1], 0x03);
  const uint8_t bytes[2] = {0xE1, 0x03};
  EXPECT_EQ(unpack_s4(bytes, 0), 1);
  EXPECT_EQ(unpack_s4(bytes, 1), -2);
  EXPECT_EQ(unpack_s4(bytes, 2), 3);
  EXPECT_EQ(unpack_u4(bytes, 1), 14);
  int8_t out[3];
  unpack_s4(bytes, 3, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], -2);
  EXPECT_EQ(out[2], 3);
  const int8_t codes[5] = {-8, 7, 0, -1, 5};
  uint8_t packed[3] = {0xFF, 0xFF, 0xFF};
  pack_4bit(codes, 5, packed);
  EXPECT_EQ(packed[0], 0x78);
  EXPECT_EQ(packed[1], 0xF0);
  EXPECT_EQ(packed[2], 0x05);  // odd count: high nibble 0
}

TEST(QuantQuantize, DequantizeEveryFormat) {
  // (q - zp) * scale.
  const QParams s8 = per_tensor(DType::s8, 0.5f, -1);
  const Tensor q8 = Tensor::from_vector<int8_t>(DType::s8, {4}, {-128, -1, 0, 127});
  EXPECT_EQ(dequantize(q8, s8).to_f32_vector(), (std::vector<float>{-63.5f, 0, 0.5f, 64}));
  const QParams u8 = per_tensor(DType::u8, 0.25f, 128);
  const Tensor qu = Tensor::from_vector<uint8_t>(DType::u8, {3}, {0, 128, 255});
  EXPECT_EQ(dequantize(qu, u8).to_f32_vector(), (std::vector<float>{-32, 0, 31.75f}));
  Tensor q4(DType::s4, {3});
  q4.data<uint8_t>()[0] = 0xE1;
  q4.data<uint8_t>()[1] = 0x08;
  EXPECT_EQ(dequantize(q4, per_tensor(DType::s4, 2, 0)).to_f32_vector(), (std::vector<float>{2, -4, -16}));
  Tensor qu4(DType::u4, {2});
  qu4.data<uint8_t>()[0] = 0xF0;
  EXPECT_EQ(dequantize(qu4, per_tensor(DType::u4, 1, 8)).to_f32_vector(), (std::vector<float>{-8, 7}));
  // Per channel along axis 1 of [2, 2]: scales {1, 0.5}, zero points {0, 10}.
  QParams pc;
  pc.format = DType::s8;
  pc.axis = 1;
  pc.scale = {1, 0.5f};
  pc.zero_point = {0, 10};
  const Tensor qc = Tensor::from_vector<int8_t>(DType::s8, {2, 2}, {3, 12, -3, 8});
  EXPECT_EQ(dequantize(qc, pc).to_f32_vector(), (std::vector<float>{3, 1, -3, -1}));
  EXPECT_EQ(quantize(f32({2, 2}, {3, 1, -3, -1}), pc).to_i64_vector(), (std::vector<int64_t>{3, 12, -3, 8}));
}

TEST(QuantQuantize, HalfFloats) {
  // IEEE half: 1 = 0x3C00, -2 = 0xC000, 0.1 → 0x2E66; bfloat16: 1 = 0x3F80, -2 = 0xC000,
  // 0.1f = 0x3DCCCCCD → 0x3DCD (round to nearest).
  const Tensor x = f32({3}, {1, -2, 0.1f});
  const Tensor h = quantize(x, qparams_cast(DType::f16));
  ASSERT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.data<uint16_t>()[0], 0x3C00);
  EXPECT_EQ(h.data<uint16_t>()[1], 0xC000);
  EXPECT_EQ(h.data<uint16_t>()[2], 0x2E66);
  const Tensor b = quantize(x, qparams_cast(DType::bf16));
  ASSERT_EQ(b.dtype(), DType::bf16);
  EXPECT_EQ(b.data<uint16_t>()[0], 0x3F80);
  EXPECT_EQ(b.data<uint16_t>()[1], 0xC000);
  EXPECT_EQ(b.data<uint16_t>()[2], 0x3DCD);
  const std::vector<float> hb = dequantize(h, qparams_cast(DType::f16)).to_f32_vector();
  EXPECT_EQ(hb[0], 1.0f);
  EXPECT_EQ(hb[2], 0.0999755859375f);
  EXPECT_EQ(dequantize(b, qparams_cast(DType::bf16)).to_f32_vector()[2], 0.10009765625f);
}

TEST(QuantQuantize, FakeQuantizeAndBias) {
  // Fake quantization: the nearest representable value, saturated.
  const QParams p = per_tensor(DType::u8, 0.1f, 10);
  EXPECT_EQ(fake_quantize(f32({3}, {0.26f, -5, 0}), p).to_f32_vector(),
            (std::vector<float>{3 * 0.1f, -10 * 0.1f, 0}));
  EXPECT_EQ(fake_quantize_value(0.26f, 0.1f, 10, 0, 255), 3 * 0.1f);
  // Bias: round_half_even(b / scale) into int32.
  EXPECT_EQ(quantize_bias_s32(1.0f, 0.001f).value, 1000);
  EXPECT_EQ(quantize_bias_s32(2.5f, 1.0f).value, 2);
  EXPECT_EQ(quantize_bias_s32(-3.5f, 1.0f).value, -4);
  EXPECT_FALSE(quantize_bias_s32(-3.5f, 1.0f).saturated);
  const BiasS32 big = quantize_bias_s32(1e10f, 1.0f);
  EXPECT_TRUE(big.saturated);
  EXPECT_EQ(big.value, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(quantize_bias_s32(-1e10f, 1.0f).value, std::numeric_limits<int32_t>::min());
}
