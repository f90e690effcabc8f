// Observers and the streaming histogram. Expected values: hand calculation, or ONNX Runtime 1.32's
// onnxruntime.quantization.calibrate.HistogramCollector run once on the same arrays (script in the
// comment above kLogistic), with num_bins=2048 and num_quantized_bins=128.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/histogram.h"
#include "quant/observer.h"

namespace qforge::quant {
namespace {

Tensor vec(const std::vector<float>& v) { return Tensor::from_vector(DType::f32, {static_cast<int64_t>(v.size())}, v); }

Range observe(const std::string& method, const std::vector<std::vector<float>>& batches, ObserverOptions o = {}) {
  auto obs = make_observer(method, "t", o);
  for (const auto& b : batches) obs->update(vec(b));
  return obs->compute();
}

std::vector<float> one_to_n(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

// The array the ORT reference numbers were computed on (numpy):
//   k = np.arange(10000); u = ((k * 7919) % 10007 + 0.5) / 10007
//   x = np.log(u / (1 - u)).astype(np.float32); x[123] = 40.0      # logistic samples + one far outlier
//   c = HistogramCollector(method=M, symmetric=S, num_bins=2048, num_quantized_bins=128, percentile=P,
//                          scenario="same"); c.collect({"x": x}); c.compute_collection_result()["x"][:2]
// gave: entropy → (-9.90413761138916, 10.0390625); percentile 99 asymmetric → (-5.3125, 5.3125);
// percentile 99 symmetric → (-5.29296875, 5.29296875), min/max of x: -9.904138, 40.0.
std::vector<float> logistic_with_outlier() {
  std::vector<float> x(10000);
  for (int64_t k = 0; k < 10000; ++k) {
    const double u = (static_cast<double>((k * 7919) % 10007) + 0.5) / 10007.0;
    x[k] = static_cast<float>(std::log(u / (1 - u)));
  }
  x[123] = 40.0f;
  return x;
}

TEST(CalibObserverTable, KnownMethodsAndUnknownName) {
  for (const char* m : {"minmax", "moving-average", "percentile", "entropy", "mse"})
    EXPECT_NE(find_observer_method(m), nullptr) << m;
  try {
    make_observer("kl", "t", {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown calibration method 'kl'"), std::string::npos) << e.what();
  }
  ObserverOptions bad;
  bad.percentile = 120;
  EXPECT_THROW(make_observer("percentile", "t", bad), InputError);
}

TEST(CalibMinMax, SeveralBatches) {
  const Range r = observe("minmax", {{0.5f, 1.0f}, {-2.0f, 0.0f}, {3.5f, -1.0f}, {}});
  EXPECT_EQ(r, (Range{-2.0f, 3.5f}));
}

TEST(CalibMinMax, NoValuesIsAnInputError) {
  auto obs = make_observer("minmax", "act7", {});
  try {
    obs->compute();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("act7"), std::string::npos);
  }
}

TEST(CalibMovingAverage, Formula) {
  // First batch sets [-1, 2]; then min += 0.01 (batch_min - min):
  //   batch [-3, 4]: min = -1 + 0.01 (-3 + 1) = -1.02, max = 2 + 0.01 (4 - 2) = 2.02
  //   batch [0, 1]:  min = -1.02 + 0.01 (0 + 1.02) = -1.0098, max = 2.02 + 0.01 (1 - 2.02) = 2.0098
  const Range r = observe("moving-average", {{-1, 2, 0.5f}, {4, -3}, {0, 1}});
  EXPECT_NEAR(r.min, -1.0098, 1e-6);
  EXPECT_NEAR(r.max, 2.0098, 1e-6);
}

TEST(CalibPercentile, OneToTenThousandAsymmetric) {
  // Histogram over [-10000, 10000], 2048 bins of 9.765625; value v lands in bin 1024 + floor(v / 9.765625).
  // p = 98 cuts 1% per side. Left: cdf reaches 0.01 (100 values) first at bin 1034 (covers values up to
  // 107), lower edge -10000 + 1034 * 9.765625 = 97.65625. Right: cdf reaches 0.99 (9900 values) first at
  // bin 2037 (up to 9902), lower edge 9892.578125. ORT gives the same (97.65625, 9892.578125).
  ObserverOptions o;
  o.percentile = 98;
  const Range r = observe("percentile", {one_to_n(10000)}, o);
  EXPECT_FLOAT_EQ(r.min, 97.65625f);
  EXPECT_FLOAT_EQ(r.max, 9892.578125f);
}

TEST(CalibPercentile, OneToTenThousandSymmetric) {
  // |x| histogram over [0, 10000], 2048 bins of 4.8828125: cdf reaches 0.98 (9800 values) first at bin
  // 2007 (covers up to 9799.8), lower edge 2007 * 4.8828125 = 9799.8046875; -9799.8 is clamped to the
  // observed min 1. ORT (|x| histogram over [1, 10000]) gives (1.0, 9799.82421875): within one bin.
  ObserverOptions o;
  o.percentile = 98;
  o.scheme.symmetric = true;
  o.scheme.format = DType::s8;
  const Range r = observe("percentile", {one_to_n(10000)}, o);
  EXPECT_FLOAT_EQ(r.min, 1.0f);
  EXPECT_FLOAT_EQ(r.max, 9799.8046875f);
  EXPECT_NEAR(r.max, 9799.82421875, 10000.0 / 2048);
}

TEST(CalibPercentile, AgreesWithOrtOnLogistic) {
  ObserverOptions o;
  o.percentile = 99;
  const Range a = observe("percentile", {logistic_with_outlier()}, o);
  EXPECT_NEAR(a.min, -5.3125, 80.0 / 2048);
  EXPECT_NEAR(a.max, 5.3125, 80.0 / 2048);
  o.scheme = {DType::s8, true, false};
  const Range s = observe("percentile", {logistic_with_outlier()}, o);
  EXPECT_NEAR(s.min, -5.29296875, 40.0 / 2048);
  EXPECT_NEAR(s.max, 5.29296875, 40.0 / 2048);
}

TEST(CalibEntropy, FarOutlierIsClipped) {
  // 9999 logistic samples within |x| < 9.9 and one at 40: the KL search keeps the bulk and drops the
  // outlier, so the threshold lies far below 40. ORT's entropy calibrator on the same array gives
  // (-9.90413761138916, 10.0390625); ours agrees within one bin (80 / 2048 = 0.0390625).
  ObserverOptions ort;
  ort.quantized_bins = 128;  // ORT's num_quantized_bins
  const Range r = observe("entropy", {logistic_with_outlier()}, ort);
  EXPECT_FLOAT_EQ(r.min, -9.904138f);  // the window edge lies below min: clamped to it, as ORT does
  EXPECT_NEAR(r.max, 10.0390625, 80.0 / 2048);
  EXPECT_LT(r.max, 15.0f);
}

TEST(CalibEntropy, DefaultLevelsAreTheSchemes) {
  // quantized_bins 0: the scheme's 2^bits levels. More levels make a wider window worth its coarser
  // steps: u8 (256 levels) clips less than ORT's 128, and s4 (16 levels) clips more than both; every
  // one clips the outlier at 40.
  // (u8 and ORT's 128 both keep the whole bulk, |x| < 9.9: within two bins of each other.)
  const std::vector<float> x = logistic_with_outlier();
  ObserverOptions ort, s4;
  ort.quantized_bins = 128;
  s4.scheme = {DType::s4, true, false};
  const Range u8 = observe("entropy", {x}), r128 = observe("entropy", {x}, ort), r4 = observe("entropy", {x}, s4);
  EXPECT_GE(u8.max, r128.max - 2 * 80.0 / 2048);
  EXPECT_GT(u8.max, 9.8f);
  EXPECT_LT(r4.max, r128.max);
  EXPECT_LT(u8.max, 20.0f);
}

// |logistic| repeated `copies` times (the bulk, |x| < 9.9) with one outlier at 40.
std::vector<float> abs_logistic_with_outlier(int copies) {
  std::vector<float> x = logistic_with_outlier(), out;
  const float outlier = x[123];
  x[123] = x[124];
  for (float& v : x) v = std::fabs(v);
  for (int c = 0; c < copies; ++c) out.insert(out.end(), x.begin(), x.end());
  out[123] = outlier;
  return out;
}

TEST(CalibEntropy, NonNegativeTensorSearchesOneSidedWindows) {
  // A ReLU output, 100,000 values of |logistic| (below 9.9) and one outlier at 40, quantized over
  // [0, t]: the range starts at 0, the outlier is clipped and the bulk kept. (With 10,000 values, the KL cost of
  // one clipped value, ~ln(n) / n, equals that of merging the bulk into 4-bin levels, and the search
  // keeps the outlier: KL weighs probability mass, not distance.)
  const std::vector<float> x = abs_logistic_with_outlier(10);
  const Range one = observe("entropy", {x});
  EXPECT_EQ(one.min, 0.0f);
  EXPECT_LT(one.max, 20.0f);
  EXPECT_GT(one.max, 9.8f);
  // Uniform on [0, 10]: nothing to gain from clipping at 256 levels; the whole range is kept
  // (within one bin, 10 / 1024).
  std::vector<float> u(20000);
  for (size_t k = 0; k < u.size(); ++k) u[k] = 10.0f * static_cast<float>(k) / static_cast<float>(u.size() - 1);
  EXPECT_NEAR(observe("entropy", {u}).max, 10.0, 10.0 / 1024);
}

TEST(CalibEntropy, StreamingMatchesOneBatchWhenRangeIsSetFirst) {
  // Batches after the first stay inside its range → no re-binning → same histogram as one batch.
  std::vector<float> x = logistic_with_outlier();
  std::vector<float> first(x.begin(), x.begin() + 5000), second(x.begin() + 5000, x.end());
  EXPECT_EQ(observe("entropy", {first, second}), observe("entropy", {x}));
}

TEST(CalibMse, ClipsAFarOutlier) {
  // Logistic bulk (|x| < 9.9) and one sample at 40. Keeping the outlier costs the whole bulk a coarser
  // step; clipping it to c costs (40 - c)^2 once. With n samples and k codes the noise is about
  // n (range / k)^2 / 12: for u4 (k = 15) and n = 10^4, [-9.9, 40] gives ~9200 against ~1500 + 900 for
  // [-9.9, 10]; for u8 (k = 255) the trade only pays with more samples: n = 10^6 (the bulk repeated)
  // gives ~3200 against ~510 + 900. In both cases the best clip lies far below the outlier.
  const std::vector<float> x = logistic_with_outlier();
  ObserverOptions u4;
  u4.scheme = {DType::u4, false, false};
  const Range r4 = observe("mse", {x}, u4);
  EXPECT_LT(r4.max, 20.0f);
  EXPECT_GT(r4.max, 2.0f);
  std::vector<float> big;
  big.reserve(100 * x.size());
  for (int rep = 0; rep < 100; ++rep)
    for (size_t i = 0; i < x.size(); ++i)
      if (rep == 0 || i != 123) big.push_back(x[i]);
  const Range mm = observe("minmax", {big});
  EXPECT_EQ(mm.max, 40.0f);
  const Range r8 = observe("mse", {big});
  EXPECT_LT(r8.max, 20.0f);
  EXPECT_GT(r8.max, 2.0f);
  ObserverOptions s8;
  s8.scheme = {DType::s8, true, false};
  const Range s = observe("mse", {big}, s8);
  EXPECT_LT(s.max, 20.0f);
  EXPECT_FLOAT_EQ(s.min, -s.max);
}

TEST(CalibMse, UniformDataKeepsTheMinMaxRange) {
  // Uniform data: clipping trades squared clip error against a finer step; for 8 bits the optimum is
  // within about half a step of the data range (d/dc [c^3 / (12 * 255^2) + (1 - c)^3 / 3] = 0 gives
  // 1 - c ≈ 1/511), so MSE equals minmax to within one quantization step.
  std::vector<float> x(10000);
  for (int k = 0; k < 10000; ++k) x[k] = static_cast<float>((k + 0.5) / 10000.0);
  const Range mm = observe("minmax", {x});
  const Range mse = observe("mse", {x});
  EXPECT_NEAR(mse.min, mm.min, 1.0 / 255);
  EXPECT_NEAR(mse.max, mm.max, 1.0 / 255);
  for (auto& v : x) v = 2 * v - 1;  // uniform on [-1, 1], symmetric s8: step 2 / 254
  ObserverOptions sym;
  sym.scheme = {DType::s8, true, false};
  const Range s = observe("mse", {x}, sym);
  EXPECT_NEAR(s.max, 1.0, 2.0 / 254);
  EXPECT_NEAR(s.min, -1.0, 2.0 / 254);
}

TEST(CalibHistogram, WidensByPowersOfTwoMergingCounts) {
  // 8 bins. First batch {-1, 1}: T = 1, width 0.25; -1 → bin 0, 1 → bin 7 (the last bin is closed).
  // Batch {3}: T grows to 4 = 1 * 2^2, so each new bin (width 1) holds 4 old ones: old j → (j + 4 * 3) / 4:
  // bin 0 → 3, bin 7 → 4; 3 → floor((3 + 4) * 8 / 8) = bin 7.
  Histogram h(8);
  std::vector<float> a{-1, 1}, b{3};
  h.add(a, -1, 1);
  h.add(b, 3, 3);
  EXPECT_EQ(h.threshold(), 4.0);
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{0, 0, 0, 1, 1, 0, 0, 1}));
  EXPECT_EQ(h.total(), 3);
  EXPECT_EQ(h.min(), -1.0f);
  EXPECT_EQ(h.max(), 3.0f);
}

TEST(CalibHistogram, ZerosFirstThenARange) {
  Histogram h(4);
  std::vector<float> z{0, 0}, b{-2, 1};
  h.add(z, 0, 0);
  h.add(b, -2, 1);
  // T = 2, width 1: zeros stay in bin 2 ([0, 1)), -2 → bin 0, 1 → bin 3.
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{1, 0, 2, 1}));
}

TEST(CalibHistogram, MemoryDoesNotGrowWithBatches) {
  ObserverOptions o;
  o.bins = 256;
  auto obs = make_observer("entropy", "t", o);
  const auto* hobs = dynamic_cast<const HistogramObserver*>(obs.get());
  ASSERT_NE(hobs, nullptr);
  for (int b = 0; b < 200; ++b) {
    std::vector<float> v(64);
    for (int i = 0; i < 64; ++i) v[i] = static_cast<float>((i - 32) * (1 + b));  // range grows each batch
    obs->update(vec(v));
    ASSERT_EQ(hobs->histogram().bins(), 256);
    ASSERT_EQ(hobs->histogram().counts().size(), 256u);
  }
  EXPECT_EQ(hobs->histogram().total(), 200 * 64);
  EXPECT_EQ(obs->count(), 200 * 64);
}

TEST(CalibObserver, NonFiniteValuesNameTheTensor) {
  for (const char* m : {"minmax", "moving-average", "percentile", "entropy", "mse"}) {
    auto obs = make_observer(m, "conv3_out", {});
    obs->update(vec({1, 2}));
    try {
      obs->update(vec({1, NAN, 3}));
      FAIL() << m;
    } catch (const InputError& e) {
      const std::string w = e.what();
      EXPECT_NE(w.find("conv3_out"), std::string::npos) << w;
      EXPECT_NE(w.find("element 1"), std::string::npos) << w;
    }
    EXPECT_THROW(obs->update(vec({INFINITY})), InputError) << m;
  }
}

}  // namespace
}  // namespace qforge::quant
