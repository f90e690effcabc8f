// Shape / data-movement ops through runtime::Session; expected values derived by hand from the ONNX
// spec or by naive index loops written here.
#include <cstring>
#include <limits>

#include "shape_test_util.h"

namespace qforge {
namespace {

using namespace shape_test;

TEST(OpsShapeFlatten, AxisVariants) {
  Tensor x = iota_f32({2, 3, 4});
  EXPECT_EQ(run1("Flatten", {feed("x", x)}).shape(), (Shape{2, 12}));  // default axis 1
  EXPECT_EQ(run1("Flatten", {feed("x", x)}, {attr_i("axis", 0)}).shape(), (Shape{1, 24}));
  EXPECT_EQ(run1("Flatten", {feed("x", x)}, {attr_i("axis", -1)}).shape(), (Shape{6, 4}));
  EXPECT_EQ(run1("Flatten", {feed("x", x)}, {attr_i("axis", 3)}).shape(), (Shape{24, 1}));
  Tensor y = run1("Flatten", {feed("x", x)}, {attr_i("axis", 2)});
  expect_f32(y, {6, 4}, x.to_f32_vector());
  EXPECT_THROW(run1("Flatten", {feed("x", x)}, {attr_i("axis", 4)}), InputError);
}

TEST(OpsShapeReshape, ZeroCopiesAndMinusOne) {
  Tensor x = iota_f32({2, 3, 4});
  Tensor y = run1("Reshape", {feed("x", x), konst("s", ints({0, -1}))});
  expect_f32(y, {2, 12}, x.to_f32_vector());
  EXPECT_EQ(run1("Reshape", {feed("x", x), konst("s", ints({-1, 0, 2}))}).shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(run1("Reshape", {feed("x", x), feed("s", ints({4, 6}))}).shape(), (Shape{4, 6}));  // shape fed at run time
}

TEST(OpsShapeReshape, AllowZero) {
  Tensor x(DType::f32, {0, 3});
  EXPECT_EQ(run1("Reshape", {feed("x", x), konst("s", ints({3, 0}))}, {attr_i("allowzero", 1)}).shape(), (Shape{3, 0}));
  // allowzero = 0: 0 copies the input dim
  EXPECT_EQ(run1("Reshape", {feed("x", x), konst("s", ints({0, 3}))}).shape(), (Shape{0, 3}));
}

TEST(OpsShapeReshape, IncompatibleNamesNode) {
  try {
    run1("Reshape", {feed("x", iota_f32({2, 3})), konst("s", ints({5, -1}))});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("n0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5,-1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2,3]"), std::string::npos) << msg;
  }
  EXPECT_THROW(run1("Reshape", {feed("x", iota_f32({2, 3})), konst("s", ints({4, 2}))}), InputError);
  EXPECT_THROW(run1("Reshape", {feed("x", iota_f32({2, 3})), konst("s", ints({-1, -1}))}), InputError);
}

// Naive transpose: out[j] = in[i] with i[perm[k]] = j[k].
Tensor naive_transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  const int r = x.rank();
  Shape os(r);
  for (int k = 0; k < r; ++k) os[k] = x.dim(static_cast<int>(perm[k]));
  Tensor y(x.dtype(), os);
  const size_t e = static_cast<size_t>(dtype_bits(x.dtype()) / 8);
  std::vector<int64_t> j(r, 0);
  for (int64_t flat = 0; flat < y.numel(); ++flat) {
    int64_t rem = flat;
    for (int k = r - 1; k >= 0; --k) { j[k] = rem % os[k]; rem /= os[k]; }
    std::vector<int64_t> i(r);
    for (int k = 0; k < r; ++k) i[perm[k]] = j[k];
    int64_t src = 0;
    for (int d = 0; d < r; ++d) src = src * x.dim(d) + i[d];
    std::memcpy(static_cast<char*>(y.raw()) + flat * e, static_cast<const char*>(x.raw()) + src * e, e);
  }
  return y;
}

TEST(OpsShapeTranspose, DefaultPermReverses) {
  Tensor x = iota_f32({2, 3, 4});
  Tensor y = run1("Transpose", {feed("x", x)});
  EXPECT_EQ(y.shape(), (Shape{4, 3, 2}));
  EXPECT_TRUE(y.bit_equal(naive_transpose(x, {2, 1, 0})));
  // y[k][j][i] = x[i][j][k] = 12 i + 4 j + k
  EXPECT_EQ(y.data<float>()[1 * 6 + 2 * 2 + 1], 12 * 1 + 4 * 2 + 1);
}

TEST(OpsShapeTranspose, PermsAndDtypes) {
  const std::vector<std::vector<int64_t>> perms = {{0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
  for (const auto& p : perms) {
    Tensor x = iota_f32({2, 3, 5, 7});
    EXPECT_TRUE(run1("Transpose", {feed("x", x)}, {attr_ints("perm", p)}).bit_equal(naive_transpose(x, p)));
  }
  // Larger than a tile in both directions, odd sizes.
  Tensor big = iota_f32({3, 37, 70});
  EXPECT_TRUE(run1("Transpose", {feed("x", big)}, {attr_ints("perm", {2, 0, 1})}).bit_equal(naive_transpose(big, {2, 0, 1})));
  EXPECT_TRUE(run1("Transpose", {feed("x", big)}, {attr_ints("perm", {0, 2, 1})}).bit_equal(naive_transpose(big, {0, 2, 1})));
  Tensor i64 = s64({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_i64(run1("Transpose", {feed("x", i64)}), {3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor h(DType::f16, {2, 3});
  for (int i = 0; i < 6; ++i) h.data<uint16_t>()[i] = f32_to_f16(static_cast<float>(i));
  Tensor hy = run1("Transpose", {feed("x", h)});
  EXPECT_TRUE(hy.bit_equal(naive_transpose(h, {1, 0})));
  Tensor b(DType::boolean, {2, 1, 3});
  b.data<uint8_t>()[4] = 1;
  EXPECT_TRUE(run1("Transpose", {feed("x", b)}, {attr_ints("perm", {2, 1, 0})}).bit_equal(naive_transpose(b, {2, 1, 0})));
  EXPECT_THROW(run1("Transpose", {feed("x", iota_f32({2, 3}))}, {attr_ints("perm", {0, 0})}), InputError);
}

TEST(OpsShapeSqueeze, AxesAndAll) {
  Tensor x = iota_f32({1, 3, 1, 2});
  EXPECT_EQ(run1("Squeeze", {feed("x", x)}).shape(), (Shape{3, 2}));
  EXPECT_EQ(run1("Squeeze", {feed("x", x), konst("a", ints({-2}))}).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(run1("Squeeze", {feed("x", x), konst("a", ints({0, 2}))}).shape(), (Shape{3, 2}));
  EXPECT_THROW(run1("Squeeze", {feed("x", x), konst("a", ints({1}))}), InputError);
}

TEST(OpsShapeUnsqueeze, NegativeAxesIndexTheOutput) {
  Tensor x = iota_f32({3, 4});
  EXPECT_EQ(run1("Unsqueeze", {feed("x", x), konst("a", ints({0, 3}))}).shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(run1("Unsqueeze", {feed("x", x), konst("a", ints({-1}))}).shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(run1("Unsqueeze", {feed("x", x), konst("a", ints({1, -2}))}).shape(), (Shape{3, 1, 1, 4}));
  expect_f32(run1("Unsqueeze", {feed("x", x), konst("a", ints({0}))}), {1, 3, 4}, x.to_f32_vector());
  EXPECT_THROW(run1("Unsqueeze", {feed("x", x), konst("a", ints({1, 1}))}), InputError);
}

TEST(OpsShapeConcat, NegativeAxisThreeInputs) {
  Tensor a = f32({2, 1}, {1, 2}), b = f32({2, 2}, {3, 4, 5, 6}), c = f32({2, 0}, {});
  expect_f32(run1("Concat", {feed("a", a), feed("b", b), feed("c", c)}, {attr_i("axis", -1)}), {2, 3}, {1, 3, 4, 2, 5, 6});
  expect_f32(run1("Concat", {feed("a", f32({1, 2}, {1, 2})), feed("b", b)}, {attr_i("axis", 0)}), {3, 2}, {1, 2, 3, 4, 5, 6});
  expect_i64(run1("Concat", {konst("a", ints({1, 2})), feed("b", ints({3}))}, {attr_i("axis", 0)}), {3}, {1, 2, 3});
  EXPECT_THROW(run1("Concat", {feed("a", a), feed("b", f32({3, 2}, {1, 2, 3, 4, 5, 6}))}, {attr_i("axis", 1)}), InputError);
}

TEST(OpsShapeSplit, UnevenNumOutputs) {
  Tensor x = iota_f32({10});
  auto ys = run_node("Split", {feed("x", x)}, {attr_i("num_outputs", 3)}, 3);
  expect_f32(ys[0], {4}, {0, 1, 2, 3});
  expect_f32(ys[1], {4}, {4, 5, 6, 7});
  expect_f32(ys[2], {2}, {8, 9});
  // 9 into 4: chunks of ceil(9/4) = 3 → 3, 3, 3, 0 (as ONNX Runtime does)
  auto z = run_node("Split", {feed("x", iota_f32({9}))}, {attr_i("num_outputs", 4)}, 4);
  EXPECT_EQ(z[3].shape(), (Shape{0}));
  EXPECT_THROW(run_node("Split", {feed("x", iota_f32({5}))}, {attr_i("num_outputs", 4)}, 4), InputError);
}

TEST(OpsShapeSplit, SizesAndEqual) {
  Tensor x = iota_f32({2, 3});
  auto ys = run_node("Split", {feed("x", x), konst("s", ints({1, 2}))}, {attr_i("axis", -1)}, 2);
  expect_f32(ys[0], {2, 1}, {0, 3});
  expect_f32(ys[1], {2, 2}, {1, 2, 4, 5});
  auto eq = run_node("Split", {feed("x", x)}, {attr_i("axis", 0)}, 2);
  expect_f32(eq[0], {1, 3}, {0, 1, 2});
  expect_f32(eq[1], {1, 3}, {3, 4, 5});
  EXPECT_THROW(run_node("Split", {feed("x", x), konst("s", ints({1, 1}))}, {attr_i("axis", 1)}, 2), InputError);
}

TEST(OpsShapeSlice, StepsAndNegativeSteps) {
  Tensor x = iota_f32({10});
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({1})), konst("e", ints({8})), omitted(), konst("t", ints({3}))}),
             {3}, {1, 4, 7});
  // x[::-1]: start INT64_MAX clamps to 9, end INT64_MIN clamps to -1
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({big})), konst("e", ints({small})), konst("a", ints({0})),
                            konst("t", ints({-1}))}),
             {10}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  // x[8:2:-2] → 8, 6, 4
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({-2})), konst("e", ints({2})), konst("a", ints({-1})),
                            konst("t", ints({-2}))}),
             {3}, {8, 6, 4});
  // start beyond the end with a negative step clamps to dim-1
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({100})), konst("e", ints({6})), omitted(), konst("t", ints({-1}))}),
             {3}, {9, 8, 7});
}

TEST(OpsShapeSlice, ClampingAndAxes) {
  Tensor x = iota_f32({3, 4});
  // out-of-range start/end clamp to [0, dim]
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({-100, 1})), konst("e", ints({100, 1000}))}), {3, 3},
             {1, 2, 3, 5, 6, 7, 9, 10, 11});
  // only axis -1 sliced; empty result when start >= end
  EXPECT_EQ(run1("Slice", {feed("x", x), konst("s", ints({3})), konst("e", ints({1})), konst("a", ints({-1}))}).shape(),
            (Shape{3, 0}));
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({1})), konst("e", ints({-1})), konst("a", ints({0}))}), {1, 4},
             {4, 5, 6, 7});
  expect_f32(run1("Slice", {feed("x", x), konst("s", ints({2, 3})), konst("e", ints({-100, 0})), konst("a", ints({0, 1})),
                            konst("t", ints({-2, -2}))}),
             {2, 2}, {11, 9, 3, 1});
  EXPECT_THROW(run1("Slice", {feed("x", x), konst("s", ints({0})), konst("e", ints({1})), omitted(), konst("t", ints({0}))}),
               InputError);
}

TEST(OpsShapeGather, NegativeIndicesAxesAndRanks) {
  Tensor x = iota_f32({3, 4});
  expect_f32(run1("Gather", {feed("x", x), konst("i", ints({-1, 0}))}), {2, 4}, {8, 9, 10, 11, 0, 1, 2, 3});
  expect_f32(run1("Gather", {feed("x", x), konst("i", s32({2, 2}, {3, -4, 1, 1}))}, {attr_i("axis", -1)}), {3, 2, 2},
             {3, 0, 1, 1, 7, 4, 5, 5, 11, 8, 9, 9});
  expect_f32(run1("Gather", {feed("x", x), konst("i", s64({}, {1}))}, {attr_i("axis", 1)}), {3}, {1, 5, 9});
  expect_i64(run1("Gather", {feed("x", ints({10, 20, 30})), feed("i", ints({2, -3}))}), {2}, {30, 10});
  EXPECT_THROW(run1("Gather", {feed("x", x), konst("i", ints({3}))}), InputError);
  EXPECT_THROW(run1("Gather", {feed("x", x), konst("i", ints({-4}))}), InputError);
}

TEST(OpsShapeShape, StartEnd) {
  Tensor x = iota_f32({2, 3, 4, 5});
  expect_i64(run1("Shape", {feed("x", x)}), {4}, {2, 3, 4, 5});
  expect_i64(run1("Shape", {feed("x", x)}, {attr_i("start", 1)}), {3}, {3, 4, 5});
  expect_i64(run1("Shape", {feed("x", x)}, {attr_i("start", -3), attr_i("end", -1)}), {2}, {3, 4});
  expect_i64(run1("Shape", {feed("x", x)}, {attr_i("start", -10), attr_i("end", 10)}), {4}, {2, 3, 4, 5});
  expect_i64(run1("Shape", {feed("x", x)}, {attr_i("start", 3), attr_i("end", 1)}), {0}, {});
}

TEST(OpsShapeConstant, AttributeForms) {
  expect_f32(run1("Constant", {}, {attr_floats("value_floats", {1.5f, 2.5f})}), {2}, {1.5f, 2.5f});
  expect_f32(run1("Constant", {}, {attr_f("value_float", 3.f)}), {}, {3.f});
  expect_i64(run1("Constant", {}, {attr_i("value_int", 7)}), {}, {7});
  expect_i64(run1("Constant", {}, {attr_ints("value_ints", {1, -2})}), {2}, {1, -2});
  expect_f32(run1("Constant", {}, {attr_t("value", f32({2, 2}, {1, 2, 3, 4}))}), {2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(run1("Constant", {}, {attr_i("value_int", 7), attr_f("value_float", 1)}), InputError);
}

TEST(OpsShapeConstantOfShape, DefaultAndTypedValue) {
  expect_f32(run1("ConstantOfShape", {feed("s", ints({2, 3}))}), {2, 3}, std::vector<float>(6, 0.f));
  expect_i64(run1("ConstantOfShape", {feed("s", ints({3}))}, {attr_t("value", s64({1}, {-5}))}), {3}, {-5, -5, -5});
  expect_f32(run1("ConstantOfShape", {feed("s", ints({}))}, {attr_t("value", f32({1}, {2.f}))}), {}, {2.f});
}

TEST(OpsShapeIdentity, IdentityAndDropout) {
  Tensor x = iota_f32({2, 2});
  expect_f32(run1("Identity", {feed("x", x)}), {2, 2}, {0, 1, 2, 3});
  auto d = run_node("Dropout", {feed("x", x), konst("r", f32({}, {0.5f}))}, {}, 2);
  expect_f32(d[0], {2, 2}, {0, 1, 2, 3});
  ASSERT_EQ(d[1].dtype(), DType::boolean);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d[1].data<uint8_t>()[i], 1);
  Tensor train(DType::boolean, {});
  train.data<uint8_t>()[0] = 1;
  EXPECT_THROW(run1("Dropout", {feed("x", x), omitted(), konst("t", train)}), InputError);
}

TEST(OpsShapeExpand, Bidirectional) {
  Tensor x = f32({3, 1}, {1, 2, 3});
  Tensor y = run1("Expand", {feed("x", x), konst("s", ints({2, 1, 4}))});
  std::vector<float> want;
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) want.push_back(static_cast<float>(i + 1));
  expect_f32(y, {2, 3, 4}, want);
  // shape smaller than the input in a dim: input dim wins (bidirectional)
  expect_f32(run1("Expand", {feed("x", f32({1, 3}, {1, 2, 3})), konst("s", ints({2, 1}))}), {2, 3}, {1, 2, 3, 1, 2, 3});
  EXPECT_THROW(run1("Expand", {feed("x", x), konst("s", ints({4, 3}))}), InputError);
}

TEST(OpsShapeRange, FloatAndInt) {
  expect_f32(run1("Range", {feed("a", f32({}, {1.f})), feed("b", f32({}, {2.f})), feed("c", f32({}, {0.3f}))}), {4},
             {1.f, 1.3f, 1.6f, 1.9f});
  expect_i64(run1("Range", {feed("a", s64({}, {10})), feed("b", s64({}, {4})), feed("c", s64({}, {-3}))}), {2}, {10, 7});
  Tensor r32 = run1("Range", {feed("a", s32({}, {0})), feed("b", s32({}, {5})), feed("c", s32({}, {2}))});
  ASSERT_EQ(r32.dtype(), DType::s32);
  EXPECT_EQ(r32.to_i64_vector(), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(run1("Range", {feed("a", s64({}, {0})), feed("b", s64({}, {5})), feed("c", s64({}, {-1}))}).shape(), (Shape{0}));
}

TEST(OpsShapeTile, Repeats) {
  Tensor x = f32({2, 2}, {1, 2, 3, 4});
  expect_f32(run1("Tile", {feed("x", x), konst("r", ints({1, 2}))}), {2, 4}, {1, 2, 1, 2, 3, 4, 3, 4});
  expect_f32(run1("Tile", {feed("x", x), konst("r", ints({2, 1}))}), {4, 2}, {1, 2, 3, 4, 1, 2, 3, 4});
}

// ---- static inference with symbolic dims
TEST(OpsShapeInfer, SymbolicBatchIsKept) {
  auto x = ts(DType::f32, {S("N"), K(3), K(4)});
  EXPECT_EQ(dims_string(infer_node("Flatten", {x}, {nullptr})[0]), "[N,12]");
  EXPECT_EQ(dims_string(infer_node("Flatten", {x}, {nullptr}, {attr_i("axis", 2)})[0]), "[?,4]");
  EXPECT_EQ(dims_string(infer_node("Transpose", {x}, {nullptr}, {attr_ints("perm", {2, 0, 1})})[0]), "[4,N,3]");
  Tensor shape = ints({0, -1});
  auto st = ts(DType::s64, {K(2)});
  EXPECT_EQ(dims_string(infer_node("Reshape", {x, st}, {nullptr, &shape})[0]), "[N,12]");
  Tensor shape2 = ints({-1, 12});
  EXPECT_EQ(dims_string(infer_node("Reshape", {x, st}, {nullptr, &shape2})[0]), "[N,12]");
  Tensor shape3 = ints({-1, 6});
  EXPECT_EQ(dims_string(infer_node("Reshape", {x, st}, {nullptr, &shape3})[0]), "[?,6]");
  // unknown target value: rank from the shape input's length
  EXPECT_EQ(dims_string(infer_node("Reshape", {x, st}, {nullptr, nullptr})[0]), "[?,?]");
  auto y = ts(DType::f32, {S("N"), K(5), K(4)});
  EXPECT_EQ(dims_string(infer_node("Concat", {x, y}, {nullptr, nullptr}, {attr_i("axis", 1)})[0]), "[N,8,4]");
  Tensor axes = ints({1});
  auto at = ts(DType::s64, {K(1)});
  EXPECT_EQ(dims_string(infer_node("Unsqueeze", {x, at}, {nullptr, &axes})[0]), "[N,1,3,4]");
  auto sq = ts(DType::f32, {S("N"), K(1), K(4)});
  EXPECT_EQ(dims_string(infer_node("Squeeze", {sq, at}, {nullptr, &axes})[0]), "[N,4]");
  Tensor s0 = ints({1}), e0 = ints({3}), a0 = ints({2});
  EXPECT_EQ(dims_string(infer_node("Slice", {x, at, at, at}, {nullptr, &s0, &e0, &a0})[0]), "[N,3,2]");
  EXPECT_EQ(dims_string(infer_node("Slice", {x, at, at, at}, {nullptr, nullptr, nullptr, &a0})[0]), "[N,3,?]");
  Tensor gi = ints({0, 2});
  EXPECT_EQ(dims_string(infer_node("Gather", {x, ts(DType::s64, {K(2)})}, {nullptr, &gi}, {attr_i("axis", 2)})[0]),
            "[N,3,2]");
  EXPECT_EQ(dims_string(infer_node("Shape", {x}, {nullptr})[0]), "[3]");
  auto sp = infer_node("Split", {x}, {nullptr}, {attr_i("axis", 1)}, 3);
  EXPECT_EQ(dims_string(sp[0]), "[N,1,4]");
  Tensor ex = ints({2, 1, 1});
  EXPECT_EQ(dims_string(infer_node("Expand", {x, ts(DType::s64, {K(3)})}, {nullptr, &ex})[0]), "[2,3,4]");
  Tensor reps = ints({1, 2, 1});
  EXPECT_EQ(dims_string(infer_node("Tile", {x, ts(DType::s64, {K(3)})}, {nullptr, &reps})[0]), "[N,6,4]");
  EXPECT_EQ(dims_string(infer_node("ConstantOfShape", {ts(DType::s64, {K(3)})}, {nullptr})[0]), "[?,?,?]");
}

}  // namespace
}  // namespace qforge
