// Channels-last variants of the integer ops (qforge.nhwc_in / qforge.nhwc_out, ops/qlinear.h):
// QConv (im2col: pointwise read in place, unpadded, padded, grouped, dilated; depthwise), QMaxPool,
// QAvgPool (window, count_include_pad, global) in all four input / output layout combinations, under
// every ISA, against the NCHW op at ISA ref (the spec), byte for byte. The layout changes of the
// expected values are the plain loops below, not the runtime's transposes. Also: the attributes on a
// value of another rank than 4 are InputErrors naming the node.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>
#include <vector>

#include "core/error.h"
#include "linear_test_util.h"

using namespace qforge;
using linear_test::attr_i;
using linear_test::attr_ints;

namespace {

// [N][C][H][W] ↔ [N][H][W][C] (one-byte elements).
Tensor to_nhwc(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor y(x.dtype(), {N, H, W, C});
  const auto* s = static_cast<const uint8_t*>(x.raw());
  auto* d = static_cast<uint8_t*>(y.raw());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < H * W; ++p) d[(n * H * W + p) * C + c] = s[(n * C + c) * H * W + p];
  return y;
}
Tensor to_nchw(const Tensor& x) {
  const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  Tensor y(x.dtype(), {N, C, H, W});
  const auto* s = static_cast<const uint8_t*>(x.raw());
  auto* d = static_cast<uint8_t*>(y.raw());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < H * W; ++p) d[(n * C + c) * H * W + p] = s[(n * H * W + p) * C + c];
  return y;
}

Tensor random_q8(DType dt, const Shape& s, std::mt19937& rng) {
  Tensor t(dt, s);
  for (auto& v : t.span<uint8_t>()) v = static_cast<uint8_t>(rng());
  return t;
}
Tensor scalar_f32(float v) { return Tensor::from_vector<float>(DType::f32, {}, {v}); }
Tensor scalar_zp(DType dt, int v) {
  return dt == DType::u8 ? Tensor::from_vector<uint8_t>(DType::u8, {}, {static_cast<uint8_t>(v)})
                         : Tensor::from_vector<int8_t>(DType::s8, {}, {static_cast<int8_t>(v)});
}

// Runs op on x (NCHW) in each of the four layout combinations under ref and every SIMD level, and
// compares with the NCHW op at ISA ref. inputs[0] is replaced by x in the layout of each case.
void expect_layouts_equal(const std::string& op, std::vector<Tensor> inputs, const std::vector<ir::Attribute>& attrs,
                          const std::string& what) {
  const Tensor x = inputs[0];
  Tensor want;
  {
    linear_test::IsaScope s(Isa::ref);
    want = linear_test::run_op(op, inputs, attrs, 1, true, "qforge", 1)[0];
  }
  std::vector<Isa> isas = {Isa::ref};
  for (Isa i : linear_test::simd_levels()) isas.push_back(i);
  for (Isa isa : isas) {
    linear_test::IsaScope s(isa);
    for (int combo = 0; combo < 4; ++combo) {
      const bool in_l = combo & 1, out_l = combo & 2;
      std::vector<ir::Attribute> a = attrs;
      if (in_l) a.push_back(attr_i("qforge.nhwc_in", 1));
      if (out_l) a.push_back(attr_i("qforge.nhwc_out", 1));
      inputs[0] = in_l ? to_nhwc(x) : x;
      for (int threads : {1, 2}) {
        if (threads == 2 && combo != 3) continue;
        Tensor got = linear_test::run_op(op, inputs, a, 1, true, "qforge", threads)[0];
        if (out_l) got = to_nchw(got);
        ASSERT_TRUE(got.bit_equal(want)) << what << " isa " << isa_name(isa) << " nhwc_in " << in_l << " nhwc_out "
                                         << out_l << " threads " << threads;
      }
    }
  }
}

struct ConvCase {
  int64_t n, c, m, group, h, w, k, s, d, p;
  DType x_t;
  int x_zp;
  DType y_t;
  int y_zp;
};

TEST(QlinearNhwc, ConvAllLayoutsEqualNchw) {
  const DType u8 = DType::u8, s8 = DType::s8;
  const ConvCase cases[] = {
      {2, 16, 24, 1, 7, 9, 1, 1, 1, 0, u8, 128, u8, 0},    // pointwise: x is A
      {1, 17, 5, 1, 5, 5, 1, 1, 1, 0, s8, -3, s8, 7},      // pointwise, odd channels
      {2, 8, 12, 1, 9, 11, 1, 2, 1, 0, u8, 0, u8, 200},    // 1×1 stride 2 (unpadded im2col)
      {1, 3, 8, 1, 11, 9, 3, 1, 1, 1, u8, 255, u8, 128},   // padded
      {2, 32, 33, 1, 8, 17, 3, 2, 1, 1, s8, -128, u8, 3},  // strided, W >= 16
      {1, 6, 9, 3, 10, 10, 3, 1, 2, 2, u8, 1, s8, -5},     // grouped, dilated
      {1, 1, 4, 1, 6, 7, 3, 1, 1, 0, u8, 17, u8, 0},       // one channel, unpadded 3×3
      {2, 24, 24, 24, 9, 9, 3, 1, 1, 1, u8, 128, u8, 0},   // depthwise
      {1, 17, 17, 17, 8, 13, 3, 2, 1, 1, s8, 5, s8, -9},   // depthwise, stride 2, odd channels
      {1, 40, 40, 40, 5, 18, 5, 1, 2, 4, u8, 90, u8, 30},  // depthwise 5×5 dilated
  };
  std::mt19937 rng(5);
  for (const ConvCase& q : cases) {
    const int64_t cg = q.c / q.group, K = cg * q.k * q.k;
    std::vector<Tensor> in;
    in.push_back(random_q8(q.x_t, {q.n, q.c, q.h, q.w}, rng));
    in.push_back(scalar_f32(0.02f));
    in.push_back(scalar_zp(q.x_t, q.x_zp));
    Tensor w = random_q8(DType::s8, {q.m, cg, q.k, q.k}, rng);
    for (auto& v : w.span<int8_t>()) v = v == -128 ? int8_t{-127} : v;
    in.push_back(w);
    std::vector<float> ws;
    std::vector<int32_t> b;
    std::uniform_real_distribution<float> us(0.5f, 1.5f);
    std::uniform_int_distribution<int> ub(-3000, 3000);
    for (int64_t m = 0; m < q.m; ++m) {
      ws.push_back(us(rng) / (127.f * std::sqrt(static_cast<float>(K))));
      b.push_back(ub(rng));
    }
    in.push_back(Tensor::from_vector(DType::f32, {q.m}, ws));
    in.push_back(scalar_f32(0.012f));
    in.push_back(scalar_zp(q.y_t, q.y_zp));
    in.push_back(Tensor::from_vector(DType::s32, {q.m}, b));
    std::vector<ir::Attribute> attrs = {attr_ints("kernel_shape", {q.k, q.k}), attr_ints("strides", {q.s, q.s}),
                                        attr_ints("dilations", {q.d, q.d}), attr_ints("pads", {q.p, q.p, q.p, q.p}),
                                        attr_i("group", q.group)};
    if (q.y_t == DType::u8 && q.y_zp == 0) attrs.push_back(attr_i("qforge.qmax", 250));  // a fused clamp
    expect_layouts_equal("QConv", in, attrs,
                         fmt::format("conv n{} c{} m{} g{} {}x{} k{} s{} d{} p{}", q.n, q.c, q.m, q.group, q.h, q.w,
                                     q.k, q.s, q.d, q.p));
  }
}

struct PoolCase {
  int64_t n, c, h, w, k, s, d, p;
  bool include_pad = false, global = false;
};

const PoolCase kPoolCases[] = {
    {2, 32, 28, 28, 2, 2, 1, 0},       {1, 3, 7, 9, 2, 2, 1, 0},  {1, 17, 9, 11, 3, 2, 1, 1},
    {1, 5, 6, 7, 2, 1, 1, 0},          {1, 3, 5, 5, 2, 2, 1, 1},  // 2×2: overlapping; touching padding
    {2, 5, 8, 8, 3, 1, 1, 1, true},    {1, 64, 6, 10, 3, 1, 2, 2}, {1, 1, 5, 5, 5, 1, 1, 2},
    {3, 20, 7, 7, 1, 1, 1, 0, false, true}, {1, 130, 1, 1, 1, 1, 1, 0, false, true}, {2, 16, 3, 5, 1, 1, 1, 0, false, true},
};

TEST(QlinearNhwc, MaxPoolAllLayoutsEqualNchw) {
  std::mt19937 rng(7);
  for (const PoolCase& q : kPoolCases) {
    if (q.global || q.include_pad) continue;
    const std::vector<ir::Attribute> attrs = {attr_ints("kernel_shape", {q.k, q.k}), attr_ints("strides", {q.s, q.s}),
                                              attr_ints("dilations", {q.d, q.d}), attr_ints("pads", {q.p, q.p, q.p, q.p})};
    for (DType dt : {DType::u8, DType::s8})
      expect_layouts_equal("QMaxPool", {random_q8(dt, {q.n, q.c, q.h, q.w}, rng)}, attrs,
                           fmt::format("maxpool {} n{} c{} {}x{} k{} s{} d{} p{}", dtype_name(dt), q.n, q.c, q.h, q.w,
                                       q.k, q.s, q.d, q.p));
  }
}

TEST(QlinearNhwc, AvgPoolAllLayoutsEqualNchw) {
  std::mt19937 rng(9);
  for (const PoolCase& q : kPoolCases) {
    if (q.d != 1) continue;  // AveragePool dilations: opset 19, not read by QAvgPool
    std::vector<ir::Attribute> attrs;
    if (q.global) attrs = {attr_i("qforge.global", 1)};
    else
      attrs = {attr_ints("kernel_shape", {q.k, q.k}), attr_ints("strides", {q.s, q.s}),
               attr_ints("pads", {q.p, q.p, q.p, q.p}), attr_i("count_include_pad", q.include_pad)};
    for (DType dt : {DType::u8, DType::s8}) {
      const int x_zp = dt == DType::u8 ? 131 : -7, y_zp = dt == DType::u8 ? 120 : 3;
      std::vector<Tensor> in = {random_q8(dt, {q.n, q.c, q.h, q.w}, rng), scalar_f32(0.05f), scalar_zp(dt, x_zp),
                                scalar_f32(0.03f), scalar_zp(dt, y_zp)};
      expect_layouts_equal("QAvgPool", in, attrs,
                           fmt::format("avgpool {} n{} c{} {}x{} k{} s{} p{} include_pad {} global {}", dtype_name(dt),
                                       q.n, q.c, q.h, q.w, q.k, q.s, q.p, q.include_pad, q.global));
    }
  }
}

TEST(QlinearNhwcBadInput, LayoutAttributeOnAnotherRankThan4) {
  std::mt19937 rng(3);
  const Tensor x3 = random_q8(DType::u8, {1, 4, 9}, rng);
  const std::vector<ir::Attribute> attrs = {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}),
                                            attr_i("qforge.nhwc_in", 1)};
  try {
    linear_test::run_op("QMaxPool", {x3}, attrs, 1, true, "qforge");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("qforge.nhwc_in needs rank 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n0"), std::string::npos) << e.what();
  }
  const std::vector<ir::Attribute> out_attrs = {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}),
                                                attr_i("qforge.nhwc_out", 1)};
  EXPECT_THROW(linear_test::run_op("QMaxPool", {x3}, out_attrs, 1, true, "qforge"), InputError);
}

}  // namespace
