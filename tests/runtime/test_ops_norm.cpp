// BatchNormalization (inference) and LayerNormalization; expected values from the spec formulas,
// evaluated by naive loops in double.
#include <cmath>

#include "shape_test_util.h"

namespace qforge {
namespace {

using namespace shape_test;

TEST(OpsNormBatchNorm, Rank4AndRank2) {
  // x[n][c][hw], 2 channels
  Tensor x = f32({1, 2, 1, 3}, {1, 2, 3, -1, 0, 1});
  Tensor scale = f32({2}, {2, 0.5f}), bias = f32({2}, {0.1f, -1}), mean = f32({2}, {2, 0}), var = f32({2}, {4, 0.25f});
  const double eps = 1e-5;
  std::vector<float> want;
  const double sc[2] = {2, 0.5}, b[2] = {0.1, -1}, m[2] = {2, 0}, v[2] = {4, 0.25};
  const float xs[6] = {1, 2, 3, -1, 0, 1};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i)
      want.push_back(static_cast<float>((xs[c * 3 + i] - m[c]) / std::sqrt(v[c] + eps) * sc[c] + b[c]));
  expect_f32(run1("BatchNormalization", {feed("x", x), konst("s", scale), konst("b", bias), konst("m", mean),
                                         konst("v", var)}),
             {1, 2, 1, 3}, want);
  // epsilon attribute and rank 2 input [N, C]
  Tensor x2 = f32({2, 2}, {1, 1, 3, 0});
  std::vector<float> want2;
  const float x2s[4] = {1, 1, 3, 0};
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 2; ++c)
      want2.push_back(static_cast<float>((x2s[n * 2 + c] - m[c]) / std::sqrt(v[c] + 0.5) * sc[c] + b[c]));
  expect_f32(run1("BatchNormalization", {feed("x", x2), konst("s", scale), konst("b", bias), konst("m", mean),
                                         konst("v", var)},
                  {attr_f("epsilon", 0.5f)}),
             {2, 2}, want2);
}

TEST(OpsNormBatchNorm, RejectsTrainingMode) {
  Tensor p = f32({1}, {1});
  EXPECT_THROW(run1("BatchNormalization", {feed("x", f32({1, 1}, {1})), konst("s", p), konst("b", p), konst("m", p),
                                           konst("v", p)},
                    {attr_i("training_mode", 1)}),
               InputError);
  EXPECT_THROW(run1("BatchNormalization", {feed("x", f32({1, 2}, {1, 2})), konst("s", p), konst("b", p), konst("m", p),
                                           konst("v", p)}),
               InputError);  // 1 value for 2 channels
}

// Naive layer norm over the trailing `cols` values of each row.
void naive_layernorm(const std::vector<float>& x, int64_t cols, const std::vector<float>& scale,
                     const std::vector<float>& bias, double eps, std::vector<float>& y, std::vector<float>& mean,
                     std::vector<float>& inv_std) {
  const int64_t rows = static_cast<int64_t>(x.size()) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0;
    for (int64_t j = 0; j < cols; ++j) m += x[r * cols + j];
    m /= cols;
    double v = 0;
    for (int64_t j = 0; j < cols; ++j) v += (x[r * cols + j] - m) * (x[r * cols + j] - m);
    v /= cols;
    const double is = 1 / std::sqrt(v + eps);
    for (int64_t j = 0; j < cols; ++j)
      y.push_back(static_cast<float>((x[r * cols + j] - m) * is * scale[j] + (bias.empty() ? 0 : bias[j])));
    mean.push_back(static_cast<float>(m));
    inv_std.push_back(static_cast<float>(is));
  }
}

TEST(OpsNormLayerNorm, LastAxisWithBias) {
  Tensor x = f32({2, 3}, {1, 2, 4, -3, 0, 3});
  std::vector<float> y, m, is;
  naive_layernorm(x.to_f32_vector(), 3, {1, 2, 0.5f}, {0, 1, -1}, 1e-5, y, m, is);
  expect_f32(run1("LayerNormalization", {feed("x", x), konst("s", f32({3}, {1, 2, 0.5f})), konst("b", f32({3}, {0, 1, -1}))}),
             {2, 3}, y);
}

TEST(OpsNormLayerNorm, AxisOneWithStatisticsOutputs) {
  Tensor x = iota_f32({2, 2, 3});
  x.data<float>()[4] = 10;
  // normalise over [2, 3]: scale of shape [3] broadcasts over the normalised shape
  std::vector<float> scale6 = {1, 2, 3, 1, 2, 3}, y, m, is;
  naive_layernorm(x.to_f32_vector(), 6, scale6, {}, 1e-3, y, m, is);
  auto out = run_node("LayerNormalization", {feed("x", x), konst("s", f32({3}, {1, 2, 3}))},
                      {attr_i("axis", 1), attr_f("epsilon", 1e-3f)}, 3);
  expect_f32(out[0], {2, 2, 3}, y);
  expect_f32(out[1], {2, 1, 1}, m);
  expect_f32(out[2], {2, 1, 1}, is);
}

TEST(OpsNormInfer, SymbolicAndErrors) {
  auto x = ts(DType::f32, {S("N"), K(8), K(16)});
  auto s = ts(DType::f32, {K(16)});
  auto out = infer_node("LayerNormalization", {x, s}, {nullptr, nullptr}, {}, 3);
  EXPECT_EQ(dims_string(out[0]), "[N,8,16]");
  EXPECT_EQ(dims_string(out[1]), "[N,8,1]");
  EXPECT_THROW(infer_node("LayerNormalization", {x, ts(DType::f32, {K(8)})}, {nullptr, nullptr}), InputError);
  auto bx = ts(DType::f32, {S("N"), K(3), S("H"), S("W")});
  auto p = ts(DType::f32, {K(3)});
  EXPECT_EQ(dims_string(infer_node("BatchNormalization", {bx, p, p, p, p}, {nullptr, nullptr, nullptr, nullptr, nullptr})[0]),
            "[N,3,H,W]");
}

}  // namespace
}  // namespace qforge
