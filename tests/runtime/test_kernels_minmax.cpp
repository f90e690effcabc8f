// The calibration observers' minmax_f32 kernels (runtime/kernels/minmax.h): every kernel of the table
// this CPU runs against std::minmax_element and std::isfinite over lengths around the 64-lane blocks,
// with the extremes and a non-finite value (+inf, -inf, NaN) at the first, a middle and the last index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/minmax.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::linear_test;

namespace {

const std::vector<size_t> kLengths = {1, 2, 3, 15, 16, 17, 63, 64, 65, 127, 129, 255, 1000, 4097};

TEST(MinMaxKernel, EveryIsaGivesTheExactExtremesAndFlagsNonFinite) {
  int ran = 0;
  for (const MinMaxKernel& k : minmax_kernels()) {
    IsaScope scope(k.isa);
    if (scope.got() != k.isa) continue;
    ++ran;
    for (size_t n : kLengths) {
      std::mt19937 rng(static_cast<uint32_t>(n));
      std::uniform_real_distribution<float> u(-3.f, 5.f);
      std::vector<float> x(n);
      for (float& v : x) v = u(rng);
      for (size_t at : {size_t{0}, n / 2, n - 1}) {
        std::vector<float> y = x;
        y[at] = 1e6f;  // the maximum where the lanes split differently
        const auto [mn, mx] = std::minmax_element(y.begin(), y.end());
        const MinMaxF32 r = k.fn(y.data(), n);
        EXPECT_TRUE(r.finite) << k.name << " n=" << n;
        EXPECT_EQ(r.min, *mn) << k.name << " n=" << n << " at=" << at;
        EXPECT_EQ(r.max, *mx) << k.name << " n=" << n << " at=" << at;
        for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()}) {
          y[at] = bad;
          EXPECT_FALSE(k.fn(y.data(), n).finite) << k.name << " n=" << n << " at=" << at << " value " << bad;
        }
      }
    }
  }
  EXPECT_GE(ran, 1);
}

}  // namespace
