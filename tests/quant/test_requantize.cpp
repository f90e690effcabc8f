// Requantization of int32 accumulators. Expected values: multipliers worked by hand (m * 2^(shift-31));
// outputs from the exact dyadic formula evaluated in 80-bit long double (the 62-bit product is exact
// there) and from the real-valued formula saturate(round_half_even(acc * M) + zp) in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "quant/requantize.h"

using namespace qforge::quant;

namespace {

static_assert(std::numeric_limits<long double>::digits >= 64, "needs x87 80-bit long double");

int64_t clamp64(long double v, int32_t qmin, int32_t qmax) {
  return static_cast<int64_t>(std::clamp<long double>(v, qmin, qmax));
}

// Accumulators to sweep: a dense band around 0, powers of two and their neighbours, extremes, random.
std::vector<int32_t> sweep_accumulators() {
  std::vector<int32_t> a;
  for (int32_t i = -3000; i <= 3000; ++i) a.push_back(i);
  for (int s = 1; s < 31; ++s)
    for (int64_t d : {-1, 0, 1}) {
      a.push_back(static_cast<int32_t>((int64_t{1} << s) + d));
      a.push_back(static_cast<int32_t>(-(int64_t{1} << s) + d));
    }
  a.push_back(std::numeric_limits<int32_t>::min());
  a.push_back(std::numeric_limits<int32_t>::max());
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> d(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  for (int i = 0; i < 20000; ++i) a.push_back(d(rng));
  return a;
}

}  // namespace

TEST(QuantRequantize, QuantizeMultiplier) {
  // 0.5 = 2^30 * 2^(0 - 31); 0.25 = 2^30 * 2^(-1 - 31); 1.5 = 0.75 * 2^1 → 0.75 * 2^31 = 1610612736.
  QuantizedMultiplier q = quantize_multiplier(0.5);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 0);
  EXPECT_EQ(multiplier_value(q), 0.5);
  q = quantize_multiplier(0.25);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, -1);
  EXPECT_EQ(multiplier_value(q), 0.25);
  q = quantize_multiplier(1.5);
  EXPECT_EQ(q.multiplier, 1610612736);
  EXPECT_EQ(q.shift, 1);
  // 1/3 = (2/3) * 2^-1: round(2/3 * 2^31 = 1431655765.33) = 1431655765.
  q = quantize_multiplier(1.0 / 3);
  EXPECT_EQ(q.multiplier, 1431655765);
  EXPECT_EQ(q.shift, -1);
  EXPECT_LE(std::fabs(multiplier_value(q) - 1.0 / 3) / (1.0 / 3), std::ldexp(1.0, -31));
  // 1e-6 = 0.524288 * 2^-19: round(0.524288 * 2^31 = 1125899906.84) = 1125899907.
  q = quantize_multiplier(1e-6);
  EXPECT_EQ(q.multiplier, 1125899907);
  EXPECT_EQ(q.shift, -19);
  EXPECT_LE(std::fabs(multiplier_value(q) - 1e-6) / 1e-6, std::ldexp(1.0, -31));
  // A mantissa that rounds up to 1.0 renormalises: 1 - 2^-40 → 2^30 * 2^(1 - 31) = 1.
  q = quantize_multiplier(1.0 - std::ldexp(1.0, -40));
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 1);
  // Zero and tiny multipliers: {0, 0}; huge ones clamp.
  EXPECT_EQ(quantize_multiplier(0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -33)).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -32)).multiplier, 1 << 30);  // 2^-32 still representable
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -32)).shift, -31);
  q = quantize_multiplier(std::ldexp(1.0, 31));
  EXPECT_EQ(q.multiplier, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(q.shift, 30);
}

TEST(QuantRequantize, TiesGoToEven) {
  const QuantizedMultiplier half = quantize_multiplier(0.5), quarter = quantize_multiplier(0.25);
  constexpr int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  // acc * 0.5: 0.5 → 0, 1.5 → 2, 2.5 → 2, -0.5 → 0, -1.5 → -2, -2.5 → -2.
  const int32_t acc[6] = {1, 3, 5, -1, -3, -5};
  const int32_t want[6] = {0, 2, 2, 0, -2, -2};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(requantize(acc[i], half, 0, lo, hi), want[i]) << acc[i];
    EXPECT_EQ(requantize_f32(acc[i], 0.5f, 0, -128, 127), want[i]) << acc[i];
    EXPECT_EQ(requantize(acc[i] * 2, quarter, 0, lo, hi), want[i]) << acc[i];
  }
  // Saturation after the zero point: 400 * 0.5 + 100 = 300 → 255; -400 * 0.5 + 100 = -100 → 0.
  EXPECT_EQ(requantize(400, half, 100, 0, 255), 255);
  EXPECT_EQ(requantize(-400, half, 100, 0, 255), 0);
  EXPECT_EQ(requantize(21, half, 100, 0, 255), 110);  // 10.5 → 10
  EXPECT_EQ(requantize_f32(400, 0.5f, 100, 0, 255), 255);
  EXPECT_EQ(requantize_f32(-400, 0.5f, 100, 0, 255), 0);
  EXPECT_EQ(requantize_f32(std::numeric_limits<int32_t>::min(), 1.0f, -3, -128, 127), -128);
  // A zero multiplier gives the zero point.
  EXPECT_EQ(requantize(123456, quantize_multiplier(0), 7, -128, 127), 7);
}

TEST(QuantRequantize, EqualsExactDyadicFormula) {
  const std::vector<int32_t> accs = sweep_accumulators();
  for (const double m : {0.5, 0.25, 1.0 / 3, 1e-6, 0.0123456, 0.999999, 1.7, 37.25, 3e-9, 1e-4 / 3}) {
    const QuantizedMultiplier q = quantize_multiplier(m);
    for (const auto& [zp, qmin, qmax] : std::vector<std::tuple<int32_t, int32_t, int32_t>>{
             {0, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}, {-5, -128, 127},
             {131, 0, 255}}) {
      for (const int32_t acc : accs) {
        const long double exact = std::ldexp(static_cast<long double>(acc) * q.multiplier, q.shift - 31);
        const int64_t want = clamp64(std::nearbyint(exact) + zp, qmin, qmax);
        ASSERT_EQ(requantize(acc, q, zp, qmin, qmax), want) << "m=" << m << " acc=" << acc << " zp=" << zp;
      }
    }
  }
}

TEST(QuantRequantize, MatchesRealFormulaAwayFromTies) {
  // saturate(round_half_even(acc * M) + zp) with the real M in double: equal, except where acc * M lies
  // within the multiplier's error (|acc| * M * 2^-31) of a tie, where it may differ by one. Dyadic M (0.5,
  // 0.25) are exact, so there every tie must match too; far outside [-128, 127] both saturate.
  const std::vector<int32_t> accs = sweep_accumulators();
  for (const double m : {0.5, 0.25, 1.0 / 3, 1e-6, 0.0123456, 0.999999, 1.7, 3e-9}) {
    const QuantizedMultiplier q = quantize_multiplier(m);
    const bool exact_m = multiplier_value(q) == m;
    int checked = 0;
    for (const int32_t acc : accs) {
      const double v = static_cast<double>(acc) * m;
      const double dist_to_tie = std::fabs(std::fabs(v - std::floor(v)) - 0.5);
      const int64_t want = clamp64(std::nearbyint(v) + 3, -128, 127);
      const int32_t got = requantize(acc, q, 3, -128, 127);
      if (exact_m || std::fabs(v) > 1000 || dist_to_tie > std::fabs(v) * std::ldexp(1.0, -30) + 1e-6) {
        ASSERT_EQ(got, want) << "m=" << m << " acc=" << acc;
        ++checked;
      } else {
        ASSERT_LE(std::llabs(got - want), 1) << "m=" << m << " acc=" << acc;
      }
    }
    EXPECT_GT(checked, static_cast<int>(accs.size()) * 99 / 100) << m;
  }
}

TEST(QuantRequantize, FloatPathEqualsFormula) {
  // requantize_f32 = saturate(round_half_even(float(acc) * scale) + zp), float32 product.
  const std::vector<int32_t> accs = sweep_accumulators();
  for (const float s : {0.5f, 1.0f / 3, 1e-6f, 0.0123456f, 2.75f}) {
    for (const int32_t acc : accs) {
      const float v = static_cast<float>(acc) * s;
      const int64_t want = clamp64(std::nearbyint(v) - 7, -128, 127);
      ASSERT_EQ(requantize_f32(acc, s, -7, -128, 127), want) << "s=" << s << " acc=" << acc;
      const int64_t want_u = clamp64(std::nearbyint(v) + 128, 0, 255);
      ASSERT_EQ(requantize_f32(acc, s, 128, 0, 255), want_u) << "s=" << s << " acc=" << acc;
    }
  }
}
