// Reduce* and ArgMax/ArgMin through runtime::Session; expected values by hand or naive loops.
#include <cmath>
#include <limits>

#include "shape_test_util.h"

namespace qforge {
namespace {

using namespace shape_test;

// x[i][j][k] = 12 i + 4 j + k, shape [2, 3, 4]
Tensor x234() { return iota_f32({2, 3, 4}); }

TEST(OpsReduceMean, AxesKeepdims) {
  // mean over j: (12i + k) + 4 * mean(0,1,2) = 12 i + k + 4
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) want.push_back(static_cast<float>(12 * i + k + 4));
  expect_f32(run1("ReduceMean", {feed("x", x234()), konst("a", ints({1}))}), {2, 1, 4}, want);
  expect_f32(run1("ReduceMean", {feed("x", x234()), konst("a", ints({-2}))}, {attr_i("keepdims", 0)}), {2, 4}, want);
  // mean over i and k: 6 + 4 j + 1.5
  expect_f32(run1("ReduceMean", {feed("x", x234()), konst("a", ints({0, -1}))}, {attr_i("keepdims", 0)}), {3},
             {7.5f, 11.5f, 15.5f});
}

TEST(OpsReduceMean, EmptyAxesReducesAllOrNoop) {
  expect_f32(run1("ReduceMean", {feed("x", x234())}), {1, 1, 1}, {11.5f});
  expect_f32(run1("ReduceMean", {feed("x", x234()), konst("a", ints({}))}, {attr_i("keepdims", 0)}), {}, {11.5f});
  Tensor y = run1("ReduceMean", {feed("x", x234())}, {attr_i("noop_with_empty_axes", 1)});
  expect_f32(y, {2, 3, 4}, x234().to_f32_vector());
  EXPECT_THROW(run1("ReduceMean", {feed("x", x234()), konst("a", ints({3}))}), InputError);
  EXPECT_THROW(run1("ReduceMean", {feed("x", x234()), konst("a", ints({1, -2}))}), InputError);
}

TEST(OpsReduceSum, FloatAndInt) {
  // sum over k: 4 * (12 i + 4 j) + 6
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) want.push_back(static_cast<float>(4 * (12 * i + 4 * j) + 6));
  expect_f32(run1("ReduceSum", {feed("x", x234()), konst("a", ints({2}))}, {attr_i("keepdims", 0)}), {2, 3}, want);
  expect_i64(run1("ReduceSum", {feed("x", s64({2, 2}, {1, 2, 3, 4})), konst("a", ints({0}))}), {1, 2}, {4, 6});
  Tensor s = run1("ReduceSum", {feed("x", s32({2, 2}, {1, 2, 3, 4}))}, {attr_i("keepdims", 0)});
  ASSERT_EQ(s.dtype(), DType::s32);
  EXPECT_EQ(s.to_i64_vector(), (std::vector<int64_t>{10}));
  // Long sums stay accurate: 1e6 values of 0.1f
  Tensor many(DType::f32, {1000000});
  for (int i = 0; i < 1000000; ++i) many.data<float>()[i] = 0.1f;
  Tensor big = run1("ReduceSum", {feed("x", many)}, {attr_i("keepdims", 0)});
  EXPECT_NEAR(big.data<float>()[0], 1e6 * static_cast<double>(0.1f), 1e-5 * 1e5);
}

TEST(OpsReduceMaxMin, AxesAndEmptyReduction) {
  Tensor x = f32({2, 3}, {3, -1, 7, 2, 9, -4});
  expect_f32(run1("ReduceMax", {feed("x", x), konst("a", ints({1}))}), {2, 1}, {7, 9});
  expect_f32(run1("ReduceMin", {feed("x", x), konst("a", ints({0}))}, {attr_i("keepdims", 0)}), {3}, {2, -1, -4});
  expect_i64(run1("ReduceMax", {feed("x", s64({3}, {5, -2, 8}))}, {attr_i("keepdims", 0)}), {}, {8});
  // reduction over an empty axis: max -> -inf, sum -> 0 (ONNX 18)
  Tensor e(DType::f32, {2, 0});
  Tensor m = run1("ReduceMax", {feed("x", e), konst("a", ints({1}))}, {attr_i("keepdims", 0)});
  ASSERT_EQ(m.shape(), (Shape{2}));
  EXPECT_EQ(m.data<float>()[0], -std::numeric_limits<float>::infinity());
  expect_f32(run1("ReduceSum", {feed("x", e), konst("a", ints({1}))}, {attr_i("keepdims", 0)}), {2}, {0, 0});
}

TEST(OpsReduceOther, ProdL1L2LogSumExp) {
  Tensor x = f32({2, 2}, {1, -2, 3, 4});
  expect_f32(run1("ReduceProd", {feed("x", x), konst("a", ints({1}))}, {attr_i("keepdims", 0)}), {2}, {-2, 12});
  expect_f32(run1("ReduceL1", {feed("x", x), konst("a", ints({1}))}, {attr_i("keepdims", 0)}), {2}, {3, 7});
  expect_f32(run1("ReduceL2", {feed("x", x), konst("a", ints({1}))}, {attr_i("keepdims", 0)}), {2},
             {std::sqrt(5.f), 5.f});
  expect_f32(run1("ReduceSumSquare", {feed("x", x), konst("a", ints({1}))}, {attr_i("keepdims", 0)}), {2}, {5, 25});
  expect_f32(run1("ReduceLogSum", {feed("x", f32({2}, {1, 2}))}, {attr_i("keepdims", 0)}), {}, {std::log(3.f)});
  // log(e^1000 + e^1000) = 1000 + log 2, no overflow
  expect_f32(run1("ReduceLogSumExp", {feed("x", f32({2}, {1000, 1000}))}, {attr_i("keepdims", 0)}), {},
             {1000.f + std::log(2.f)});
  expect_f32(run1("ReduceLogSumExp", {feed("x", x), konst("a", ints({0}))}), {1, 2},
             {std::log(std::exp(1.f) + std::exp(3.f)), std::log(std::exp(-2.f) + std::exp(4.f))});
}

// noop_with_empty_axes = 1 with no axes reduces nothing: each element is a one-element group, so
// the elementwise step of the reduction still applies (ONNX reference / ONNX Runtime):
// LogSum log(x), SumSquare x^2, L1 |x|, L2 sqrt(x^2) = |x|, LogSumExp log(exp(x)) = x, Sum/Mean/... x.
TEST(OpsReduceNoop, ElementwiseStepStillApplies) {
  Tensor x = f32({2, 2}, {-2, 0.5f, 3, 4});
  const std::vector<ir::Attribute> noop = {attr_i("noop_with_empty_axes", 1)};
  expect_f32(run1("ReduceSumSquare", {feed("x", x)}, noop), {2, 2}, {4, 0.25f, 9, 16});
  expect_f32(run1("ReduceSumSquare", {feed("x", x), konst("a", ints({}))}, noop), {2, 2}, {4, 0.25f, 9, 16});
  expect_f32(run1("ReduceL1", {feed("x", x)}, noop), {2, 2}, {2, 0.5f, 3, 4});
  expect_f32(run1("ReduceL2", {feed("x", x)}, noop), {2, 2}, {2, 0.5f, 3, 4});
  expect_f32(run1("ReduceLogSumExp", {feed("x", x)}, noop), {2, 2}, {-2, 0.5f, 3, 4});
  expect_f32(run1("ReduceSum", {feed("x", x)}, noop), {2, 2}, {-2, 0.5f, 3, 4});
  expect_f32(run1("ReduceProd", {feed("x", x)}, noop), {2, 2}, {-2, 0.5f, 3, 4});
  Tensor pos = f32({3}, {1, 0.5f, 4});
  expect_f32(run1("ReduceLogSum", {feed("x", pos)}, noop), {3}, {0, -std::log(2.f), 2 * std::log(2.f)});
  Tensor ls = run1("ReduceLogSum", {feed("x", x)}, noop);  // log(-2) is NaN
  EXPECT_TRUE(std::isnan(ls.data<float>()[0]));
  EXPECT_FLOAT_EQ(ls.data<float>()[2], std::log(3.f));
  // integer kinds: |x| and x^2 in the element type
  expect_i64(run1("ReduceSumSquare", {feed("x", s64({3}, {-3, 2, 5}))}, noop), {3}, {9, 4, 25});
  Tensor l1 = run1("ReduceL1", {feed("x", s32({3}, {-3, 2, -5}))}, noop);
  EXPECT_EQ(l1.to_i64_vector(), (std::vector<int64_t>{3, 2, 5}));
  // a scalar reduced over all of its (zero) axes is still log'd / squared
  expect_f32(run1("ReduceLogSum", {feed("x", f32({}, {4}))}), {}, {2 * std::log(2.f)});
  expect_f32(run1("ReduceSumSquare", {feed("x", f32({}, {-3}))}), {}, {9});
}

TEST(OpsReduceArgMax, AxisKeepdimsSelectLast) {
  Tensor x = f32({2, 4}, {1, 5, 5, 2, 7, 0, 7, -1});
  expect_i64(run1("ArgMax", {feed("x", x)}, {attr_i("axis", 1)}), {2, 1}, {1, 0});
  expect_i64(run1("ArgMax", {feed("x", x)}, {attr_i("axis", -1), attr_i("keepdims", 0), attr_i("select_last_index", 1)}),
             {2}, {2, 2});
  expect_i64(run1("ArgMax", {feed("x", x)}), {1, 4}, {1, 0, 1, 0});
  expect_i64(run1("ArgMin", {feed("x", x)}, {attr_i("axis", 1), attr_i("keepdims", 0)}), {2}, {0, 3});
  expect_i64(run1("ArgMax", {feed("x", s64({3}, {4, 9, 9}))}, {attr_i("select_last_index", 1)}), {1}, {2});
}

TEST(OpsReduceInfer, SymbolicAndUnknownAxes) {
  auto x = ts(DType::f32, {S("N"), K(3), K(4)});
  Tensor axes = ints({-1});
  auto at = ts(DType::s64, {K(1)});
  EXPECT_EQ(dims_string(infer_node("ReduceMean", {x, at}, {nullptr, &axes})[0]), "[N,3,1]");
  EXPECT_EQ(dims_string(infer_node("ReduceSum", {x, at}, {nullptr, &axes}, {attr_i("keepdims", 0)})[0]), "[N,3]");
  EXPECT_EQ(dims_string(infer_node("ReduceMax", {x, at}, {nullptr, nullptr}, {attr_i("keepdims", 0)})[0]), "[?,?]");
  EXPECT_EQ(dims_string(infer_node("ReduceMax", {x, at}, {nullptr, nullptr})[0]), "[?,?,?]");
  EXPECT_EQ(dims_string(infer_node("ArgMax", {x}, {nullptr}, {attr_i("axis", 1), attr_i("keepdims", 0)})[0]), "[N,4]");
  EXPECT_EQ(infer_node("ArgMax", {x}, {nullptr})[0].dtype, DType::s64);
}

}  // namespace
}  // namespace qforge
