// The calibration histogram's bin-index kernels (runtime/kernels/hist_bins.h): every kernel of the table
// this CPU runs gives the bins of the formula floor((v + t) · N / 2t) clamped to [0, N - 1], written
// out here in long double, on values at and next to every bin edge, at ±t and 0, over lengths around
// the vector widths.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/hist_bins.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::linear_test;

namespace {

TEST(HistBinsKernel, EveryIsaGivesTheBinOfTheFormula) {
  const int32_t n = 2048;
  const double t = 6.5, scale = n / (2 * t);
  std::vector<float> v = {static_cast<float>(-t), 0.0f, -0.0f, static_cast<float>(t)};
  for (int32_t b = 0; b <= n; ++b) {  // the edges and the floats on either side
    const auto e = static_cast<float>(-t + b * (2 * t / n));
    for (float x : {std::nextafter(e, -10.0f), e, std::nextafter(e, 10.0f)})
      if (x >= -t && x <= t) v.push_back(x);
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(static_cast<float>(-t), static_cast<float>(t));
  for (int i = 0; i < 5000; ++i) v.push_back(u(rng));
  std::vector<int32_t> want(v.size());
  for (size_t j = 0; j < v.size(); ++j) {
    // The double computation rounds (v + t) and the product; long double agrees except within a
    // rounding of an edge, where either neighbour is the right bin: those are checked by the kernels'
    // agreement below, not here.
    const auto x = (static_cast<double>(v[j]) + t) * scale;
    want[j] = std::clamp<int32_t>(static_cast<int32_t>(std::floor(x)), 0, n - 1);
    const long double exact = (static_cast<long double>(v[j]) + t) * n / (2 * t);
    ASSERT_LE(std::fabs(static_cast<long double>(want[j]) - std::clamp<long double>(std::floor(exact), 0, n - 1)), 1)
        << v[j];
  }
  int ran = 0;
  for (const HistBinsKernel& k : hist_bins_kernels()) {
    IsaScope scope(k.isa);
    if (scope.got() != k.isa) continue;
    ++ran;
    for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{15}, size_t{16}, size_t{17}, size_t{33}, v.size()}) {
      std::vector<int32_t> got(len, -1);
      k.fn(v.data(), len, t, scale, n, got.data());
      for (size_t j = 0; j < len; ++j) ASSERT_EQ(got[j], want[j]) << k.name << " v=" << v[j] << " j=" << j;
    }
  }
  EXPECT_GE(ran, 1);
}

}  // namespace
