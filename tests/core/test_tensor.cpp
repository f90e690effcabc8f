#include <gtest/gtest.h>

#include <limits>

#include "core/tensor.h"

using namespace qforge;

TEST(Tensor, NumelChecked) {
  EXPECT_EQ(shape_numel_checked({2, 3, 4}, "t"), 24);
  EXPECT_THROW(shape_numel_checked({-1, 3}, "t"), InputError);
  EXPECT_THROW(shape_numel_checked({int64_t{1} << 40, int64_t{1} << 40}, "t"), InputError);
}

TEST(Tensor, SubByteStorage) {
  EXPECT_EQ(dtype_storage_bytes(DType::s4, 5), 3u);
  EXPECT_EQ(dtype_storage_bytes(DType::f16, 5), 10u);
}

// Expected bit patterns from IEEE 754 binary16 / bfloat16 definitions.
TEST(Tensor, HalfConversions) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(70000.0f), 0x7C00);                  // overflow to inf
  EXPECT_EQ(f32_to_f16(5.960464477539063e-08f), 0x0001);     // smallest subnormal
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3C00);         // tie to even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3C02);         // tie to even (up)
  EXPECT_FLOAT_EQ(f16_to_f32(0x3555), 0.33325195f);
  EXPECT_FLOAT_EQ(f16_to_f32(0x0001), 5.960464477539063e-08f);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3F80);               // tie to even (down)
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3F82);               // tie to even (up)
  EXPECT_FLOAT_EQ(bf16_to_f32(0x4049), 3.140625f);
}
