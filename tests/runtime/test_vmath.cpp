// The AVX2 transcendental kernels (kernels/vmath.h) against the reference kernels / libm in double,
// with the accuracy bounds stated in vmath.h, over a dense sweep plus special values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ew_test_util.h"
#include "runtime/kernels/reference/softmax_ref.h"
#include "runtime/kernels/vmath.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::ew_test;

namespace {

std::vector<float> sweep() {
  std::vector<float> v;
  for (float x = -30.0f; x <= 30.0f; x += 0.0137f) v.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.0624f, 0.0626f, -0.0625f, 88.0f, -88.0f, 100.0f,
                  -100.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    v.push_back(x);
  return v;  // odd length: exercises the tail
}

double ref_value(ActivationKind k, double x) {
  switch (k) {
    case ActivationKind::sigmoid: return 1 / (1 + std::exp(-x));
    case ActivationKind::tanh: return std::tanh(x);
    case ActivationKind::gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case ActivationKind::gelu_tanh: return 0.5 * x * (1 + std::tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)));
    default: return 0;
  }
}

}  // namespace

TEST(Vmath, ActivationsWithinBounds) {
  if (!cpu_features().avx2 || !cpu_features().fma) GTEST_SKIP() << "no AVX2+FMA";
  const std::vector<float> x = sweep();
  for (ActivationKind k :
       {ActivationKind::sigmoid, ActivationKind::tanh, ActivationKind::gelu, ActivationKind::gelu_tanh}) {
    SCOPED_TRACE(static_cast<int>(k));
    ASSERT_TRUE(activation_f32_has_avx2(k));
    std::vector<float> y(x.size());
    activation_f32__avx2(k, x.data(), y.data(), static_cast<int64_t>(x.size()));
    int bad = 0;
    for (size_t i = 0; i < x.size() && bad < 5; ++i) {
      const double want = ref_value(k, x[i]);
      if (std::isnan(want)) {
        if (!std::isnan(y[i])) ++bad, ADD_FAILURE() << "x " << x[i] << ": got " << y[i] << ", want NaN";
        continue;
      }
      if (std::isinf(want)) {
        if (y[i] != static_cast<float>(want)) ++bad, ADD_FAILURE() << "x " << x[i] << ": got " << y[i];
        continue;
      }
      const double bound = k == ActivationKind::gelu ? 2e-7 * std::fabs(x[i]) + 1e-37 : 2e-7 + 1e-6 * std::fabs(want);
      if (!(std::fabs(y[i] - want) <= bound))
        ++bad, ADD_FAILURE() << "x " << x[i] << ": got " << y[i] << ", want " << want;
    }
  }
}

TEST(Vmath, SoftmaxMatchesReference) {
  if (!cpu_features().avx2 || !cpu_features().fma) GTEST_SKIP() << "no AVX2+FMA";
  for (int64_t n : {1, 2, 7, 8, 9, 17, 33, 129, 1000}) {
    SCOPED_TRACE(n);
    const Tensor x = rand_f32({3, n}, -20, 20, static_cast<uint32_t>(n));
    for (bool log : {false, true}) {
      std::vector<float> a(x.numel()), b(x.numel());
      softmax_rows_f32__avx2(x.data<float>(), a.data(), 3, n, log, 1);
      softmax_f32__ref(x.data<float>(), b.data(), 3, n, 1, log, 1);
      for (int64_t i = 0; i < x.numel(); ++i)
        ASSERT_NEAR(a[i], b[i], 1e-6 * std::fabs(b[i]) + 1e-7) << "index " << i << " log " << log;
    }
  }
}
