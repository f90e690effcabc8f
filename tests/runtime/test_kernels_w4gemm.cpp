// Weight-only 4-bit MatMul kernels (runtime/kernels/w4gemm.h). The reference is checked against the
// spec (W[k][n] = (lut[q] - z) * s, y = x · W, in double); every kernel this CPU runs must equal the
// reference bit for bit over odd shapes (N not a multiple of 16, K not a multiple of 8 or of the
// block, M around the 4-row blocking).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "quant/nf4.h"
#include "runtime/kernels/w4gemm.h"

namespace qforge::runtime {
namespace {

enum class Fmt { s4, u4, nf4 };

struct Case {
  int64_t M, K, N, block;
  Fmt fmt;
  std::vector<int> q;         // [K][N]
  std::vector<float> s, z;    // [blocks][N]
  std::vector<float> x;       // [M][K]
  float lut[16];
  int64_t blocks() const { return (K + block - 1) / block; }
  int code(int64_t k, int64_t n) const { return q[k * N + n]; }
  float scale(int64_t b, int64_t n) const { return s[b * N + n]; }
  float zero(int64_t b, int64_t n) const { return z[b * N + n]; }
};

Case make_case(int64_t M, int64_t K, int64_t N, int64_t block, Fmt fmt, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(0, 15), zp(0, 15);
  std::uniform_real_distribution<float> sc(0.001f, 0.1f), xv(-2.f, 2.f);
  Case c{M, K, N, block, fmt, {}, {}, {}, {}, {}};
  if (fmt == Fmt::s4) w4_lut_s4(c.lut);
  if (fmt == Fmt::u4) w4_lut_u4(c.lut);
  if (fmt == Fmt::nf4) w4_lut_nf4(c.lut);
  for (int64_t i = 0; i < K * N; ++i) c.q.push_back(code(rng));
  for (int64_t i = 0; i < c.blocks() * N; ++i) {
    c.s.push_back(sc(rng));
    c.z.push_back(fmt == Fmt::u4 ? static_cast<float>(zp(rng)) : 0.f);
  }
  for (int64_t i = 0; i < M * K; ++i) c.x.push_back(xv(rng));
  return c;
}

std::vector<float> run_ref(const Case& c) {
  std::vector<float> y(static_cast<size_t>(c.M * c.N));
  w4gemm_ref(c.K, c.N, c.block, c.lut, [&](int64_t k, int64_t n) { return c.code(k, n); },
             [&](int64_t b, int64_t n) { return c.scale(b, n); }, [&](int64_t b, int64_t n) { return c.zero(b, n); },
             c.x.data(), c.M, y.data());
  return y;
}

W4Packed pack(const Case& c) {
  return pack_w4(c.K, c.N, c.block, c.lut, [&](int64_t k, int64_t n) { return c.code(k, n); },
                 [&](int64_t b, int64_t n) { return c.scale(b, n); }, [&](int64_t b, int64_t n) { return c.zero(b, n); });
}

TEST(W4Gemm, LookupTables) {
  float lut[16];
  w4_lut_s4(lut);
  EXPECT_EQ(lut[0], 0.f);
  EXPECT_EQ(lut[7], 7.f);
  EXPECT_EQ(lut[8], -8.f);   // 0b1000: two's complement nibble
  EXPECT_EQ(lut[15], -1.f);
  w4_lut_u4(lut);
  EXPECT_EQ(lut[15], 15.f);
  w4_lut_nf4(lut);
  EXPECT_EQ(lut[0], -1.f);
  EXPECT_EQ(lut[7], 0.f);
  EXPECT_EQ(lut[15], 1.f);
}

TEST(W4Gemm, ReferenceMatchesTheSpec) {
  for (Fmt f : {Fmt::s4, Fmt::u4, Fmt::nf4}) {
    const Case c = make_case(3, 100, 19, 32, f, 7);
    const std::vector<float> y = run_ref(c);
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        double want = 0, mag = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          const double w = (static_cast<double>(c.lut[c.code(k, n)]) - c.zero(k / c.block, n)) * c.scale(k / c.block, n);
          want += static_cast<double>(c.x[m * c.K + k]) * w;
          mag += std::fabs(static_cast<double>(c.x[m * c.K + k]) * w);
        }
        EXPECT_NEAR(y[m * c.N + n], want, 1e-6 * mag + 1e-7) << "m " << m << " n " << n;
      }
  }
}

TEST(W4Gemm, EveryKernelEqualsTheReferenceBitForBit) {
  const int64_t shapes[][4] = {{1, 8, 1, 8},   {1, 64, 16, 32},  {4, 100, 17, 32}, {5, 40, 33, 8},
                               {3, 257, 48, 64}, {1, 4096, 31, 32}, {9, 96, 15, 16},  {2, 7, 5, 8}};
  int checked = 0;
  for (const auto& kernel : w4gemm_kernels()) {
    linear_test::IsaScope scope(kernel.isa);
    if (scope.got() != kernel.isa) continue;  // this CPU lacks the ISA
    for (Fmt f : {Fmt::s4, Fmt::u4, Fmt::nf4})
      for (const auto& sh : shapes) {
        const Case c = make_case(sh[0], sh[1], sh[2], sh[3], f, static_cast<uint32_t>(sh[1] * 31 + sh[2]));
        const std::vector<float> want = run_ref(c);
        const W4Packed w = pack(c);
        for (int threads : {1, 2}) {
          std::vector<float> got(want.size(), -1.f);
          w4gemm_f32(kernel, w, c.x.data(), c.M, got.data(), threads);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
              << kernel.name << " M " << c.M << " K " << c.K << " N " << c.N << " block " << c.block << " fmt "
              << static_cast<int>(f) << " threads " << threads;
        }
        ++checked;
      }
  }
  EXPECT_GE(checked, 24);  // at least the scalar kernel over every case
}

TEST(W4Gemm, PackedBytesAreHalfAByteAWeightPlusScales) {
  const Case c = make_case(1, 4096, 4096, 32, Fmt::s4, 1);
  const W4Packed w = pack(c);
  EXPECT_EQ(static_cast<int64_t>(w.codes.size()), 4096 * 4096 / 2);
  EXPECT_EQ(static_cast<int64_t>(w.scales.size()), 4096 / 32 * 4096);
  EXPECT_FALSE(w.has_zeros());  // s4: every zero point is 0, none stored
  EXPECT_TRUE(pack(make_case(1, 64, 16, 32, Fmt::u4, 2)).has_zeros());
}

}  // namespace
}  // namespace qforge::runtime
