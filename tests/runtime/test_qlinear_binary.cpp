// qforge.QAdd / qforge.QMul on same-shape inputs (ops/qlinear_misc.cpp, kernels/qbinary.h) against
// the definition written here with quant::quantize_value (the one definition of quantization):
// y = Q(DQ(a) ∘ DQ(b)), byte for byte, under the reference ISA (table lookup) and AVX-512 (vector
// kernel), u8 / s8 inputs and outputs, Relu-like clamps, lengths that are not multiples of 16.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "linear_test_util.h"
#include "quant/quantize.h"
#include "runtime/kernels/qbinary.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

Tensor scalar_f32(float v) { return Tensor::from_vector(DType::f32, {}, std::vector<float>{v}); }

Tensor scalar_zp(DType dt, int32_t v) {
  Tensor t(dt, {});
  if (dt == DType::u8) t.data<uint8_t>()[0] = static_cast<uint8_t>(v);
  else t.data<int8_t>()[0] = static_cast<int8_t>(v);
  return t;
}

int32_t code(const Tensor& t, int64_t i) {
  return t.dtype() == DType::u8 ? t.data<uint8_t>()[i] : t.data<int8_t>()[i];
}

TEST(QlinearBinary, SameShapeEqualsDefinition) {
  struct Case {
    DType ta, tb, ty;
    float sa, sb, sy;
    int32_t za, zb, zy;
    bool mul;
  };
  const Case cases[] = {
      {DType::u8, DType::u8, DType::u8, 0.02f, 0.031f, 0.045f, 128, 3, 7, false},
      {DType::u8, DType::s8, DType::s8, 0.5f, 0.013f, 0.37f, 0, -5, -128, false},
      {DType::s8, DType::s8, DType::u8, 0.011f, 0.017f, 0.003f, 10, 0, 0, true},
      {DType::u8, DType::u8, DType::u8, 1.f / 3, 1.f / 7, 0.25f, 255, 0, 128, true},
  };
  std::mt19937 rng(3);
  for (const Case& c : cases)
    for (int64_t n : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{1000}, int64_t{40001}}) {
      Tensor a(c.ta, {n}), b(c.tb, {n});
      for (auto& v : a.span<uint8_t>()) v = static_cast<uint8_t>(rng());
      for (auto& v : b.span<uint8_t>()) v = static_cast<uint8_t>(rng());
      int32_t qmin = 0, qmax = 255;
      if (c.ty == DType::s8) qmin = -128, qmax = 127;
      std::vector<int32_t> want(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const float da = quant::dequantize_value(code(a, i), c.sa, c.za);
        const float db = quant::dequantize_value(code(b, i), c.sb, c.zb);
        want[i] = quant::quantize_value(c.mul ? da * db : da + db, c.sy, c.zy, qmin, qmax);
      }
      for (Isa isa : {Isa::ref, Isa::avx512}) {
        linear_test::IsaScope s(isa);
        if (s.got() != isa) continue;
        const auto y = linear_test::run_op(c.mul ? "QMul" : "QAdd",
                                           {a, scalar_f32(c.sa), scalar_zp(c.ta, c.za), b, scalar_f32(c.sb),
                                            scalar_zp(c.tb, c.zb), scalar_f32(c.sy), scalar_zp(c.ty, c.zy)},
                                           {}, 1, true, "qforge", 1);
        ASSERT_EQ(y[0].dtype(), c.ty);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(code(y[0], i), want[i]) << (c.mul ? "QMul" : "QAdd") << " isa " << int(isa) << " n=" << n
                                            << " at " << i;
      }
    }
}

}  // namespace

namespace qforge::runtime {
namespace {

TEST(QLutKernel, VbmiEqualsTheTableLookup) {
  if (!cpu_features().avx512vbmi) GTEST_SKIP() << "no AVX-512 VBMI";
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> u(0, 255);
  uint8_t table[256];
  for (auto& v : table) v = static_cast<uint8_t>(u(rng));
  for (uint8_t flip : {0, 0x80})
    for (int64_t n : {0, 1, 63, 64, 65, 127, 200, 1000}) {
      std::vector<uint8_t> x(static_cast<size_t>(n) + 64), y(static_cast<size_t>(n) + 64, 0xEE);
      for (auto& v : x) v = static_cast<uint8_t>(u(rng));
      if (n >= 2) x[0] = 0, x[1] = 255;
      qlut_8__avx512vbmi(table, flip, x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], table[x[i] ^ flip]) << "n " << n << " at " << i;
      for (size_t i = static_cast<size_t>(n); i < y.size(); ++i) ASSERT_EQ(y[i], 0xEE) << "wrote past n = " << n;
    }
}

}  // namespace
}  // namespace qforge::runtime
