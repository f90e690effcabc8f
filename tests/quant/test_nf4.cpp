// NF4: the QLoRA NormalFloat levels (bitsandbytes csrc/kernels.cu), nearest level with per-group absmax
// scales. Expected codes worked by hand against the level table below.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "quant/nf4.h"
#include "quant/qparams.h"
#include "quant/quantize.h"

using namespace qforge;
using namespace qforge::quant;

namespace {

Tensor f32(Shape shape, std::vector<float> v) { return Tensor::from_vector<float>(DType::f32, std::move(shape), v); }

// QLoRA / bitsandbytes NF4 levels, written out independently of quant/nf4.h.
constexpr double kQloraLevels[16] = {-1.0,
                                     -0.6961928009986877,
                                     -0.5250730514526367,
                                     -0.39491748809814453,
                                     -0.28444138169288635,
                                     -0.18477343022823334,
                                     -0.09105003625154495,
                                     0.0,
                                     0.07958029955625534,
                                     0.16093020141124725,
                                     0.24611230194568634,
                                     0.33791524171829224,
                                     0.44070982933044434,
                                     0.5626170039176941,
                                     0.7229568362236023,
                                     1.0};

}  // namespace

TEST(QuantNf4, LevelsAndMidpoints) {
  for (int k = 0; k < 16; ++k) EXPECT_EQ(kNf4Levels[k], static_cast<float>(kQloraLevels[k])) << k;
  for (int k = 0; k < 15; ++k) {
    EXPECT_NEAR(kNf4Thresholds[k], (kQloraLevels[k] + kQloraLevels[k + 1]) / 2, 1e-7) << k;
    // A value on the midpoint takes the lower level; just above it the upper one.
    EXPECT_EQ(nf4_code(kNf4Thresholds[k]), k);
    EXPECT_EQ(nf4_code(std::nextafter(kNf4Thresholds[k], 2.0f)), k + 1);
  }
  for (int k = 0; k < 16; ++k) EXPECT_EQ(nf4_code(kNf4Levels[k]), k);
  EXPECT_EQ(nf4_code(0.0f), 7);
  EXPECT_EQ(nf4_code(-0.0f), 7);
  EXPECT_EQ(nf4_code(5.0f), 15);
  EXPECT_EQ(nf4_code(-5.0f), 0);
  EXPECT_EQ(nf4_code(std::numeric_limits<float>::quiet_NaN()), 0);
}

TEST(QuantNf4, HandCheckedGroups) {
  // Two groups of 4 along axis 0, both absmax 2:
  // {0.5, -1, 2, 0.1} / 2 = {0.25, -0.5, 1, 0.05}:
  //   0.25 lies between 0.2461 (10) and 0.3379 (11), closer to 10; -0.5 between -0.5251 (2) and -0.3949 (3),
  //   closer to 2; 1 → 15; 0.05 between 0 (7) and 0.0796 (8), closer to 8.
  // {-0.3, 1.5, 0, -2} / 2 = {-0.15, 0.75, 0, -1}:
  //   -0.15 between -0.1848 (5) and -0.0911 (6), closer to 5; 0.75 between 0.7230 (14) and 1 (15), closer to
  //   14; 0 → 7; -1 → 0.
  const Tensor x = f32({8}, {0.5f, -1, 2, 0.1f, -0.3f, 1.5f, 0, -2});
  const QParams p = choose_qparams_per_group(x, 0, 4, {DType::nf4, true, false}, "w");
  EXPECT_EQ(p.format, DType::nf4);
  EXPECT_TRUE(p.zero_point.empty());
  EXPECT_EQ(p.scale, (std::vector<float>{2, 2}));
  const Tensor q = quantize(x, p);
  ASSERT_EQ(q.dtype(), DType::nf4);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{10, 2, 15, 8, 5, 14, 7, 0}));
  // Packed like u4, element 2i in the low nibble.
  const uint8_t want_bytes[4] = {0x2A, 0x8F, 0xE5, 0x07};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.data<uint8_t>()[i], want_bytes[i]) << i;
  const std::vector<float> y = dequantize(q, p).to_f32_vector();
  const int codes[8] = {10, 2, 15, 8, 5, 14, 7, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], static_cast<float>(kQloraLevels[codes[i]]) * 2.0f) << i;
}

TEST(QuantNf4, GroupsAlongAxisAndDegenerate) {
  // [4, 2], groups of 2 along axis 0 → scales [2, 2]: column 0 rows 0-1 {4, -1} absmax 4, rows 2-3 {0, 0}
  // → scale 1 (degenerate), column 1 rows 0-1 {0.5, 0.25} absmax 0.5, rows 2-3 {-3, 3} absmax 3.
  const Tensor x = f32({4, 2}, {4, 0.5f, -1, 0.25f, 0, -3, 0, 3});
  const QParams p = choose_qparams_per_group(x, 0, 2, {DType::nf4, true, false}, "w");
  EXPECT_EQ(p.scale_shape(x.shape()), (Shape{2, 2}));
  EXPECT_EQ(p.scale, (std::vector<float>{4, 0.5f, 1, 3}));
  // 4/4 = 1 → 15; 0.5/0.5 → 15; -1/4 = -0.25 between -0.2844 (4) and -0.1848 (5), closer to 4;
  // 0.25/0.5 = 0.5 between 0.4407 (12) and 0.5626 (13), closer to 12; 0 → 7; -1 → 0; 0 → 7; 1 → 15.
  const Tensor q = quantize(x, p);
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{15, 15, 4, 12, 7, 0, 7, 15}));
  const std::vector<float> y = dequantize(q, p).to_f32_vector();
  EXPECT_EQ(y[4], 0.0f);
  EXPECT_EQ(y[6], 0.0f);
  EXPECT_EQ(y[7], 3.0f);
  // Per channel (no groups) and per tensor work the same way.
  const QParams pt = choose_qparams_per_tensor(x, {DType::nf4, true, false}, "w");
  EXPECT_EQ(pt.scale, (std::vector<float>{4}));
  EXPECT_EQ(quantize(x, pt).to_i64_vector()[7], 14);  // 3/4 = 0.75 → 14
  // NaN in the weights is refused with the tensor's name.
  const Tensor bad = f32({2}, {1, std::numeric_limits<float>::quiet_NaN()});
  try {
    choose_qparams_per_group(bad, 0, 2, {DType::nf4, true, false}, "lm_head.weight");
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'lm_head.weight'"), std::string::npos) << e.what();
  }
}
