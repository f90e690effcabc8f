// The entropy calibrator's KL-sum kernels (runtime/kernels/kl_sum.h):
// - kl_log_f64 against the C library's log: within 1 ulp over 200,000 values spread over 2^-30 .. 2^40
//   and the awkward spots (1, √2 on both sides of the mantissa split, powers of two);
// - the reference kernel against the sum written out with std::log in long double (relative 1e-13);
// - every SIMD kernel of the table this CPU runs against the reference, bit for bit, over lengths
//   around the 8-lane blocks (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 255, 1025, 2049) with zeros in p
//   and q.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/kl_sum.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::linear_test;

namespace {

int64_t ulps_apart(double a, double b) {
  const auto ia = std::bit_cast<int64_t>(a), ib = std::bit_cast<int64_t>(b);
  return ia > ib ? ia - ib : ib - ia;  // both positive or both negative here
}

TEST(KlSumKernel, LogWithinOneUlpOfTheLibrary) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> expo(-30, 40);
  std::vector<double> xs = {1.0, 2.0, 0.5, 1024.0, 1e-4, 3.0, 10.0, std::nextafter(1.0, 2.0), std::nextafter(1.0, 0.0),
                            kl_log::kSqrt2, std::nextafter(kl_log::kSqrt2, 2.0), std::nextafter(kl_log::kSqrt2, 0.0)};
  for (int i = 0; i < 200000; ++i) xs.push_back(std::exp2(expo(rng)));
  for (double x : xs) {
    const double got = kl_log_f64(x), want = std::log(x);
    if (want == 0) {
      EXPECT_EQ(got, 0.0) << x;
      continue;
    }
    ASSERT_LE(ulps_apart(got, want), 1) << "x=" << x << " got " << got << " want " << want;
  }
}

// p: histogram-like counts with runs of zeros; q: positive where p is, sometimes zero elsewhere.
void make_pq(int64_t n, uint32_t seed, std::vector<double>& p, std::vector<double>& q) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> count(0, 5000), coin(0, 3);
  std::uniform_real_distribution<double> scale(0.2, 3.0);
  p.assign(static_cast<size_t>(n), 0.0);
  q.assign(static_cast<size_t>(n), 0.0);
  for (int64_t k = 0; k < n; ++k) {
    if (coin(rng) != 0) p[k] = count(rng) + 1;
    if (p[k] != 0) q[k] = p[k] * scale(rng);
  }
}

void smoothing(const std::vector<double>& v, double& e1) {
  int64_t z = 0;
  for (double x : v) z += x == 0;
  e1 = kKlEps * static_cast<double>(z) / static_cast<double>(static_cast<int64_t>(v.size()) - z);
}

const std::vector<int64_t> kLengths = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 255, 1025, 2049};

TEST(KlSumKernel, ReferenceEqualsTheSumWrittenOut) {
  for (int64_t n : kLengths) {
    std::vector<double> p, q;
    make_pq(n, static_cast<uint32_t>(n), p, q);
    p[0] = 11;  // at least one non-zero
    q[0] = 9;
    double e1p, e1q;
    smoothing(p, e1p);
    smoothing(q, e1q);
    long double want = 0;
    for (int64_t k = 0; k < n; ++k) {
      const long double ps = p[k] != 0 ? p[k] - e1p : kKlEps, qs = q[k] != 0 ? q[k] - e1q : kKlEps;
      want += ps * std::log(ps / qs);
    }
    const double got = kl_sum_f64__ref(p.data(), q.data(), n, e1p, e1q);
    EXPECT_NEAR(got, static_cast<double>(want), 1e-13 * std::max<double>(1.0, std::fabs(static_cast<double>(want))))
        << "n=" << n;
  }
}

TEST(KlSumKernel, EveryIsaEqualsTheReferenceBitForBit) {
  int ran = 0;
  for (const KlSumKernel& k : kl_sum_kernels()) {
    IsaScope scope(k.isa);
    if (scope.got() != k.isa) continue;
    ++ran;
    for (int64_t n : kLengths) {
      for (uint32_t seed = 1; seed <= 3; ++seed) {
        std::vector<double> p, q;
        make_pq(n, seed * 1000 + static_cast<uint32_t>(n), p, q);
        double e1p = seed == 3 ? 0.0 : 2.5e-5, e1q = seed == 3 ? 0.0 : 1.5e-5;
        const double want = kl_sum_f64__ref(p.data(), q.data(), n, e1p, e1q);
        const double got = k.fn(p.data(), q.data(), n, e1p, e1q);
        EXPECT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(want))
            << k.name << " n=" << n << " seed=" << seed << " got " << got << " want " << want;
      }
    }
  }
  EXPECT_GE(ran, 1);
}

}  // namespace
