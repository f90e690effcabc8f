// Elementwise ops through runtime::Session. Expected values come from the ONNX spec formulas
// evaluated independently here (naive numpy-style broadcasting loop, libm), or by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ew_test_util.h"

using namespace qforge;
using namespace qforge::ew_test;

namespace {

struct BroadcastCase {
  Shape a, b, out;
};

const std::vector<BroadcastCase> kBroadcastCases = {
    {{2, 3, 4}, {3, 1}, {2, 3, 4}},
    {{1}, {2, 3}, {2, 3}},
    {{2, 1, 4}, {3, 1}, {2, 3, 4}},
    {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
    {{}, {7}, {7}},
    {{17}, {}, {17}},
    {{1, 33}, {129, 1}, {129, 33}},
    {{3, 1, 5, 1}, {1, 4, 1, 6}, {3, 4, 5, 6}},
    {{1}, {1}, {1}},
    {{7, 1}, {1, 1}, {7, 1}},
    {{0, 3}, {1, 3}, {0, 3}},
};

template <class Op>
std::vector<float> naive_binary(const Tensor& a, const Tensor& b, const Shape& out, Op op) {
  std::vector<float> r(static_cast<size_t>(shape_numel(out)));
  for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i)
    r[i] = op(a.data<float>()[naive_broadcast_index(out, a.shape(), i)],
              b.data<float>()[naive_broadcast_index(out, b.shape(), i)]);
  return r;
}

}  // namespace

TEST(OpsElementwise, ArithmeticBroadcastF32) {
  for (const auto& c : kBroadcastCases) {
    SCOPED_TRACE(shape_str(c.a) + " op " + shape_str(c.b));
    const Tensor a = rand_f32(c.a, -3, 3, 1), b = rand_f32(c.b, 0.5f, 4, 2);
    struct {
      const char* op;
      float (*fn)(float, float);
    } ops[] = {{"Add", [](float x, float y) { return x + y; }},
               {"Sub", [](float x, float y) { return x - y; }},
               {"Mul", [](float x, float y) { return x * y; }},
               {"Div", [](float x, float y) { return x / y; }},
               {"Pow", [](float x, float y) { return std::pow(x, y); }},
               {"Max", [](float x, float y) { return std::max(x, y); }},
               {"Min", [](float x, float y) { return std::min(x, y); }}};
    for (const auto& o : ops) {
      SCOPED_TRACE(o.op);
      const Tensor y = run_op1(o.op, {a, b});
      EXPECT_EQ(y.shape(), c.out);
      expect_near_all(y, naive_binary(a, b, c.out, o.fn), 0, 0);  // exact: same float operation
    }
  }
}

TEST(OpsElementwise, ArithmeticMultiThreadedMatchesNaive) {
  // Above the parallel threshold, with broadcasting on both sides and a short inner row.
  const Shape sa{8, 1, 4096}, sb{8, 64, 1}, out{8, 64, 4096};
  const Tensor a = rand_f32(sa, -2, 2, 3), b = rand_f32(sb, -2, 2, 4);
  const Tensor y = run_op1("Mul", {a, b}, {}, "", 4);
  expect_near_all(y, naive_binary(a, b, out, [](float x, float z) { return x * z; }), 0, 0);
  const Shape sc{3, 5, 7, 1, 129}, sd{5, 1, 33, 1}, out2{3, 5, 7, 33, 129};
  const Tensor c = rand_f32(sc, -2, 2, 5), d = rand_f32(sd, -2, 2, 6);
  expect_near_all(run_op1("Sub", {c, d}, {}, "", 3), naive_binary(c, d, out2, [](float x, float z) { return x - z; }),
                  0, 0);
}

TEST(OpsElementwise, IntegerArithmetic) {
  const Tensor a =
      Tensor::from_vector<int32_t>(DType::s32, {6}, {7, -7, 7, -7, std::numeric_limits<int32_t>::min(), 5});
  const Tensor b = Tensor::from_vector<int32_t>(DType::s32, {6}, {2, 2, -2, -2, -1, 5});
  // Integer Div truncates toward zero (C semantics, ONNX reference); INT_MIN / -1 wraps.
  const Tensor q = run_op1("Div", {a, b});
  EXPECT_EQ(q.to_i64_vector(), (std::vector<int64_t>{3, -3, -3, 3, std::numeric_limits<int32_t>::min(), 1}));
  EXPECT_EQ(run_op1("Add", {a, b}).to_i64_vector(),
            (std::vector<int64_t>{9, -5, 5, -9, std::numeric_limits<int32_t>::max(), 10}));
  const Tensor l = Tensor::from_vector<int64_t>(DType::s64, {2, 1}, {10, -3});
  const Tensor r = Tensor::from_vector<int64_t>(DType::s64, {3}, {1, 2, 3});
  EXPECT_EQ(run_op1("Mul", {l, r}).to_i64_vector(), (std::vector<int64_t>{10, 20, 30, -3, -6, -9}));
  EXPECT_EQ(run_op1("Sub", {l, r}).to_i64_vector(), (std::vector<int64_t>{9, 8, 7, -4, -5, -6}));
  EXPECT_EQ(run_op1("Div", {l, r}).to_i64_vector(), (std::vector<int64_t>{10, 5, 3, -3, -1, -1}));
  const Tensor zero = Tensor::from_vector<int64_t>(DType::s64, {1}, {0});
  EXPECT_THROW(run_op1("Div", {l, zero}), InputError);
  // Float division by zero is IEEE.
  const Tensor f = run_op1("Div", {f32_tensor({2}, {1, -1}), f32_tensor({1}, {0})});
  EXPECT_EQ(f.data<float>()[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f.data<float>()[1], -std::numeric_limits<float>::infinity());
}

TEST(OpsElementwise, PowMixedTypes) {
  const Tensor x = f32_tensor({4}, {-2, 1.5f, 3, 0.25f});
  EXPECT_EQ(run_op1("Pow", {x, f32_tensor({}, {2})}).to_f32_vector(), (std::vector<float>{4, 2.25f, 9, 0.0625f}));
  EXPECT_EQ(run_op1("Pow", {x, f32_tensor({}, {3})}).to_f32_vector(), (std::vector<float>{-8, 3.375f, 27, 0.015625f}));
  const Tensor e64 = Tensor::from_vector<int64_t>(DType::s64, {}, {2});
  const Tensor y = run_op1("Pow", {x, e64});
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(y.to_f32_vector(), (std::vector<float>{4, 2.25f, 9, 0.0625f}));
  const Tensor half = run_op1("Pow", {f32_tensor({2}, {4, 2}), f32_tensor({2}, {0.5f, -1})});
  EXPECT_EQ(half.to_f32_vector(), (std::vector<float>{2, 0.5f}));
  // Integer base: exact powers; a negative exponent truncates 1/a^n toward zero.
  const Tensor ib = Tensor::from_vector<int64_t>(DType::s64, {5}, {2, 3, -1, 1, 2});
  const Tensor ie = Tensor::from_vector<int64_t>(DType::s64, {5}, {10, 3, -3, -5, -1});
  EXPECT_EQ(run_op1("Pow", {ib, ie}).to_i64_vector(), (std::vector<int64_t>{1024, 27, -1, 1, 0}));
  const Tensor i32 = Tensor::from_vector<int32_t>(DType::s32, {2}, {9, 5});
  EXPECT_EQ(run_op1("Pow", {i32, f32_tensor({}, {0.5f})}).to_i64_vector(), (std::vector<int64_t>{3, 2}));
}

TEST(OpsElementwise, VariadicMinMaxSumMean) {
  const Tensor a = f32_tensor({2, 1}, {1, 5});
  const Tensor b = f32_tensor({3}, {0, 4, 8});
  const Tensor c = f32_tensor({}, {2});
  EXPECT_EQ(run_op1("Max", {a, b, c}).to_f32_vector(), (std::vector<float>{2, 4, 8, 5, 5, 8}));
  EXPECT_EQ(run_op1("Min", {a, b, c}).to_f32_vector(), (std::vector<float>{0, 1, 1, 0, 2, 2}));
  EXPECT_EQ(run_op1("Sum", {a, b, c}).to_f32_vector(), (std::vector<float>{3, 7, 11, 7, 11, 15}));
  EXPECT_EQ(run_op1("Mean", {a, b, c}).to_f32_vector(),
            (std::vector<float>{1, 7 / 3.0f, 11 / 3.0f, 7 / 3.0f, 11 / 3.0f, 5}));
  EXPECT_EQ(run_op1("Max", {a}).to_f32_vector(), (std::vector<float>{1, 5}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor m = run_op1("Max", {f32_tensor({2}, {nan, 1}), f32_tensor({2}, {1, nan})});
  EXPECT_TRUE(std::isnan(m.data<float>()[0]) && std::isnan(m.data<float>()[1]));
}

TEST(OpsElementwise, UnaryF32) {
  const std::vector<float> v = {-2.5f, -1.5f, -0.5f, 0.0f, 0.3f, 0.5f, 1.5f, 2.5f, 7.25f};
  const Tensor x = f32_tensor({static_cast<int64_t>(v.size())}, v);
  auto apply = [&](float (*fn)(float)) {
    std::vector<float> r;
    for (float e : v) r.push_back(fn(e));
    return r;
  };
  expect_near_all(run_op1("Neg", {x}), apply([](float e) { return -e; }), 0, 0);
  expect_near_all(run_op1("Abs", {x}), apply([](float e) { return std::fabs(e); }), 0, 0);
  expect_near_all(run_op1("Exp", {x}), apply([](float e) { return std::exp(e); }), 1e-6f, 0);
  expect_near_all(run_op1("Erf", {x}), apply([](float e) { return std::erf(e); }), 1e-6f, 0);
  expect_near_all(run_op1("Reciprocal", {x}), apply([](float e) { return 1.0f / e; }), 0, 0);
  expect_near_all(run_op1("Floor", {x}), {-3, -2, -1, 0, 0, 0, 1, 2, 7}, 0, 0);
  expect_near_all(run_op1("Ceil", {x}), {-2, -1, -0.0f, 0, 1, 1, 2, 3, 8}, 0, 0);
  // Round: half to even.
  expect_near_all(run_op1("Round", {x}), {-2, -2, -0.0f, 0, 0, 0, 2, 2, 7}, 0, 0);
  expect_near_all(run_op1("Sign", {x}), {-1, -1, -1, 0, 1, 1, 1, 1, 1}, 0, 0);
  const Tensor p = f32_tensor({4}, {0, 1, 4, 2});
  expect_near_all(run_op1("Sqrt", {p}), {0, 1, 2, std::sqrt(2.0f)}, 0, 0);
  const Tensor lg = run_op1("Log", {p});
  EXPECT_EQ(lg.data<float>()[0], -std::numeric_limits<float>::infinity());
  EXPECT_FLOAT_EQ(lg.data<float>()[3], std::log(2.0f));
  EXPECT_TRUE(std::isnan(run_op1("Sqrt", {f32_tensor({1}, {-1})}).data<float>()[0]));
}

TEST(OpsElementwise, UnaryIntegers) {
  const int32_t lo = std::numeric_limits<int32_t>::min();
  const Tensor x = Tensor::from_vector<int32_t>(DType::s32, {4}, {-5, 0, 7, lo});
  EXPECT_EQ(run_op1("Neg", {x}).to_i64_vector(), (std::vector<int64_t>{5, 0, -7, lo}));  // wraps
  EXPECT_EQ(run_op1("Abs", {x}).to_i64_vector(), (std::vector<int64_t>{5, 0, 7, lo}));
  const Tensor y = Tensor::from_vector<int64_t>(DType::s64, {3}, {-9, 0, 4});
  EXPECT_EQ(run_op1("Neg", {y}).to_i64_vector(), (std::vector<int64_t>{9, 0, -4}));
  EXPECT_EQ(run_op1("Sign", {y}).to_i64_vector(), (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_THROW(run_op1("Sqrt", {y}), InputError);
}

TEST(OpsElementwise, LargeUnaryMultiThreaded) {
  const Tensor x = rand_f32({3, 40000}, -4, 4, 9);
  std::vector<float> want;
  for (float e : x.to_f32_vector()) want.push_back(std::exp(e));
  expect_near_all(run_op1("Exp", {x}, {}, "", 4), want, 0, 0);
}

TEST(OpsElementwise, CompareAndLogical) {
  const Tensor a = f32_tensor({2, 3}, {1, 2, 3, 4, 5, std::numeric_limits<float>::quiet_NaN()});
  const Tensor b = f32_tensor({3}, {1, 5, 3});
  EXPECT_EQ(run_op1("Equal", {a, b}).to_i64_vector(), (std::vector<int64_t>{1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(run_op1("Less", {a, b}).to_i64_vector(), (std::vector<int64_t>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(run_op1("Greater", {a, b}).to_i64_vector(), (std::vector<int64_t>{0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(run_op1("LessOrEqual", {a, b}).to_i64_vector(), (std::vector<int64_t>{1, 1, 1, 0, 1, 0}));
  EXPECT_EQ(run_op1("GreaterOrEqual", {a, b}).to_i64_vector(), (std::vector<int64_t>{1, 0, 1, 1, 1, 0}));
  EXPECT_EQ(run_op1("Equal", {a, b}).dtype(), DType::boolean);
  const Tensor i = Tensor::from_vector<int64_t>(DType::s64, {3}, {-1, 0, 1});
  const Tensor j = Tensor::from_vector<int64_t>(DType::s64, {}, {0});
  EXPECT_EQ(run_op1("Equal", {i, j}).to_i64_vector(), (std::vector<int64_t>{0, 1, 0}));
  const Tensor i32 = Tensor::from_vector<int32_t>(DType::s32, {3}, {-1, 0, 1});
  EXPECT_EQ(run_op1("Greater", {i32, Tensor::from_vector<int32_t>(DType::s32, {1}, {0})}).to_i64_vector(),
            (std::vector<int64_t>{0, 0, 1}));
  const Tensor p = Tensor::from_vector<uint8_t>(DType::boolean, {4}, {0, 0, 1, 1});
  const Tensor q = Tensor::from_vector<uint8_t>(DType::boolean, {4}, {0, 1, 0, 1});
  EXPECT_EQ(run_op1("Equal", {p, q}).to_i64_vector(), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(run_op1("And", {p, q}).to_i64_vector(), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(run_op1("Or", {p, q}).to_i64_vector(), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(run_op1("Xor", {p, q}).to_i64_vector(), (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(run_op1("Not", {p}).to_i64_vector(), (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_THROW(run_op1("Equal", {a, i}), InputError);  // dtypes differ
}

TEST(OpsElementwise, WhereBroadcast) {
  const Tensor cond = Tensor::from_vector<uint8_t>(DType::boolean, {3, 1}, {1, 0, 1});
  const Tensor x = f32_tensor({1, 4}, {1, 2, 3, 4});
  const Tensor y = f32_tensor({}, {-1});
  const Tensor r = run_op1("Where", {cond, x, y});
  EXPECT_EQ(r.shape(), (Shape{3, 4}));
  EXPECT_EQ(r.to_f32_vector(), (std::vector<float>{1, 2, 3, 4, -1, -1, -1, -1, 1, 2, 3, 4}));
  // Any dtype: s64 and bool values, same-shape fast path.
  const Tensor c2 = Tensor::from_vector<uint8_t>(DType::boolean, {4}, {1, 0, 0, 1});
  const Tensor a64 = Tensor::from_vector<int64_t>(DType::s64, {4}, {1, 2, 3, 4});
  const Tensor b64 = Tensor::from_vector<int64_t>(DType::s64, {4}, {-1, -2, -3, -4});
  EXPECT_EQ(run_op1("Where", {c2, a64, b64}).to_i64_vector(), (std::vector<int64_t>{1, -2, -3, 4}));
  const Tensor bt = Tensor::from_vector<uint8_t>(DType::boolean, {1}, {1});
  const Tensor bf = Tensor::from_vector<uint8_t>(DType::boolean, {1}, {0});
  EXPECT_EQ(run_op1("Where", {c2, bt, bf}).to_i64_vector(), (std::vector<int64_t>{1, 0, 0, 1}));
  // Large, three-way broadcast, multi-threaded: compare with the naive index map.
  const Shape sc{64, 1, 1}, sx{1, 32, 33}, sy{64, 32, 1}, out{64, 32, 33};
  std::vector<uint8_t> cv(64);
  for (size_t k = 0; k < cv.size(); ++k) cv[k] = static_cast<uint8_t>(k % 3 == 0);
  const Tensor cc = Tensor::from_vector<uint8_t>(DType::boolean, sc, cv);
  const Tensor xx = rand_f32(sx, 0, 1, 7), yy = rand_f32(sy, -1, 0, 8);
  std::vector<float> want(static_cast<size_t>(shape_numel(out)));
  for (int64_t k = 0; k < shape_numel(out); ++k)
    want[k] = cv[naive_broadcast_index(out, sc, k)] ? xx.data<float>()[naive_broadcast_index(out, sx, k)]
                                                    : yy.data<float>()[naive_broadcast_index(out, sy, k)];
  expect_near_all(run_op1("Where", {cc, xx, yy}, {}, "", 4), want, 0, 0);
  EXPECT_THROW(run_op1("Where", {x, x, y}), InputError);  // condition must be bool
}

TEST(OpsElementwise, Cast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = f32_tensor({6}, {2.7f, -2.7f, 0.0f, -0.0f, 200.0f, 0.5f});
  // float → integer truncates toward zero.
  EXPECT_EQ(run_op1("Cast", {x}, {attr_i("to", 6)}).to_i64_vector(), (std::vector<int64_t>{2, -2, 0, 0, 200, 0}));
  EXPECT_EQ(run_op1("Cast", {x}, {attr_i("to", 7)}).to_i64_vector(), (std::vector<int64_t>{2, -2, 0, 0, 200, 0}));
  const Tensor u8 = run_op1("Cast", {f32_tensor({3}, {2.9f, 200.5f, 255.0f})}, {attr_i("to", 2)});
  EXPECT_EQ(u8.dtype(), DType::u8);
  EXPECT_EQ(u8.to_i64_vector(), (std::vector<int64_t>{2, 200, 255}));
  // float → bool: ±0 false, everything else (NaN too) true.
  const Tensor b = run_op1("Cast", {f32_tensor({4}, {0.0f, -0.0f, nan, 0.5f})}, {attr_i("to", 9)});
  EXPECT_EQ(b.dtype(), DType::boolean);
  EXPECT_EQ(b.to_i64_vector(), (std::vector<int64_t>{0, 0, 1, 1}));
  // bool → float / int: 1 and 0.
  EXPECT_EQ(run_op1("Cast", {b}, {attr_i("to", 1)}).to_f32_vector(), (std::vector<float>{0, 0, 1, 1}));
  // integer → narrower integer keeps the low bits: 200 (s16) → -56 (s8); 2^32+5 (s64) → 5 (s32).
  const Tensor s16 = Tensor::from_vector<int16_t>(DType::s16, {2}, {200, -1});
  EXPECT_EQ(run_op1("Cast", {s16}, {attr_i("to", 3)}).to_i64_vector(), (std::vector<int64_t>{-56, -1}));
  EXPECT_EQ(run_op1("Cast", {s16}, {attr_i("to", 4)}).to_i64_vector(), (std::vector<int64_t>{200, 65535}));
  const Tensor s64 = Tensor::from_vector<int64_t>(DType::s64, {2}, {(int64_t{1} << 32) + 5, -3});
  EXPECT_EQ(run_op1("Cast", {s64}, {attr_i("to", 6)}).to_i64_vector(), (std::vector<int64_t>{5, -3}));
  EXPECT_EQ(run_op1("Cast", {s64}, {attr_i("to", 1)}).to_f32_vector(), (std::vector<float>{4294967301.0f, -3}));
  // f16 / bf16 bit patterns (IEEE binary16: 1.0 = 0x3C00, -2 = 0xC000; bfloat16 1.0 = 0x3F80).
  const Tensor h = run_op1("Cast", {f32_tensor({3}, {1.0f, -2.0f, 65504.0f})}, {attr_i("to", 10)});
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(h.data<uint16_t>()[0], 0x3C00);
  EXPECT_EQ(h.data<uint16_t>()[1], 0xC000);
  EXPECT_EQ(h.data<uint16_t>()[2], 0x7BFF);
  EXPECT_EQ(run_op1("Cast", {h}, {attr_i("to", 1)}).to_f32_vector(), (std::vector<float>{1, -2, 65504}));
  const Tensor bf = run_op1("Cast", {f32_tensor({1}, {1.0f})}, {attr_i("to", 16)});
  EXPECT_EQ(bf.data<uint16_t>()[0], 0x3F80);
  // f64 round trip and f32 → f64 exact.
  const Tensor d = run_op1("Cast", {f32_tensor({1}, {0.1f})}, {attr_i("to", 11)});
  EXPECT_EQ(d.data<double>()[0], static_cast<double>(0.1f));
  EXPECT_EQ(run_op1("Cast", {d}, {attr_i("to", 1)}).data<float>()[0], 0.1f);
  // CastLike takes the dtype of its second input.
  const Tensor like = run_op1("CastLike", {x, Tensor::from_vector<int32_t>(DType::s32, {1}, {0})});
  EXPECT_EQ(like.dtype(), DType::s32);
  EXPECT_EQ(like.to_i64_vector(), (std::vector<int64_t>{2, -2, 0, 0, 200, 0}));
  // Bad targets.
  EXPECT_THROW(run_op1("Cast", {x}, {attr_i("to", 8)}), InputError);   // string
  EXPECT_THROW(run_op1("Cast", {x}, {attr_i("to", 17)}), InputError);  // float8
  EXPECT_THROW(run_op1("Cast", {x}, {attr_i("to", 999)}), InputError);
  EXPECT_THROW(run_op1("Cast", {x}), InputError);                        // 'to' missing
  EXPECT_THROW(run_op1("Cast", {x}, {attr_f("to", 1.0f)}), InputError);  // wrong attribute kind
}

TEST(OpsElementwise, CastOutOfRangeIsDefined) {
  // ONNX leaves these undefined; qforge must produce a value without UB (checked by UBSan builds).
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = f32_tensor({4}, {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 1e20f});
  for (int to : {2, 3, 4, 5, 6, 7, 12, 13}) EXPECT_NO_THROW(run_op1("Cast", {x}, {attr_i("to", to)}));
}

TEST(OpsElementwise, InferenceSymbolic) {
  using runtime::TypeShape;
  auto r = infer_op("Add", {ts(DType::f32, {dsym("N"), dk(3), dk(1)}), ts(DType::f32, {dk(4)})});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].dtype, DType::f32);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(3), dk(4)}));
  r = infer_op("Mul", {ts(DType::f32, {dsym("N"), dk(1)}), ts(DType::f32, {dk(1), dk(8)})});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(8)}));
  r = infer_op("Equal", {ts(DType::s64, {dsym("N")}), ts(DType::s64, {})});
  EXPECT_EQ(r[0].dtype, DType::boolean);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N")}));
  r = infer_op("Where", {ts(DType::boolean, {dsym("N"), dk(1)}), ts(DType::s32, {dk(5)}), ts(DType::s32, {})});
  EXPECT_EQ(r[0].dtype, DType::s32);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(5)}));
  r = infer_op("Cast", {ts(DType::f32, {dsym("N"), dk(2)})}, {attr_i("to", 7)});
  EXPECT_EQ(r[0].dtype, DType::s64);
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(2)}));
  r = infer_op("Sqrt", {ts(DType::f32, {dsym("batch"), dk(3)})});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("batch"), dk(3)}));
  r = infer_op("Pow", {ts(DType::f32, {dsym("N")}), ts(DType::s64, {})});
  EXPECT_EQ(r[0].dtype, DType::f32);
  r = infer_op("Sum", {ts(DType::f32, {dsym("N"), dk(1)}), ts(DType::f32, {dk(3)}), ts(DType::f32, {dk(1), dk(1)})});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(3)}));
  // Unknown rank stays unknown.
  r = infer_op("Add", {TypeShape::unknown_rank(DType::f32), ts(DType::f32, {dk(3)})});
  EXPECT_FALSE(r[0].has_shape);
}

TEST(OpsElementwise, InferenceErrors) {
  EXPECT_THROW(infer_op("Add", {ts(DType::f32, {dk(2), dk(3)}), ts(DType::f32, {dk(4)})}), InputError);
  EXPECT_THROW(infer_op("Add", {ts(DType::f32, {dk(3)}), ts(DType::s32, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Add", {ts(DType::f16, {dk(3)}), ts(DType::f16, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Add", {ts(DType::string, {dk(3)}), ts(DType::string, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Add", {ts(DType::f32, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Sqrt", {ts(DType::s32, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Neg", {ts(DType::u8, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Not", {ts(DType::f32, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Less", {ts(DType::boolean, {dk(3)}), ts(DType::boolean, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Mean", {ts(DType::s32, {dk(3)})}), InputError);
  EXPECT_THROW(infer_op("Pow", {ts(DType::u8, {dk(3)}), ts(DType::f32, {dk(3)})}), InputError);
  try {
    infer_op("Add", {ts(DType::f32, {dk(2), dk(3)}), ts(DType::f32, {dk(4)})});
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node 'n0' (Add)"), std::string::npos) << e.what();
  }
}
