// Activations, Clip, PRelu, Softmax through runtime::Session. Expected values are the ONNX doc
// formulas evaluated here in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "ew_test_util.h"

using namespace qforge;
using namespace qforge::ew_test;

namespace {

const std::vector<float> kInputs = {-20.0f, -6.0f, -3.0f, -2.5f, -1.0f, -0.5f, -0.01f, 0.0f,
                                    0.01f,  0.5f,  1.0f,  2.5f,  3.0f,  6.0f,  20.0f};

Tensor input_tensor() { return f32_tensor({3, 5}, kInputs); }

std::vector<float> apply(const std::function<double(double)>& fn) {
  std::vector<float> r;
  for (float v : kInputs) r.push_back(static_cast<float>(fn(v)));
  return r;
}

constexpr double kSqrt2OverPi = 0.79788456080286535588;

}  // namespace

TEST(OpsActivation, Pointwise) {
  // Sigmoid and Tanh have an AVX2 path: run at every ISA level (the bounds hold for both).
  for (Isa isa : {Isa::ref, Isa::avx2}) {
    EwIsaScope scope(isa);
    SCOPED_TRACE(isa_name(scope.got()));
    const Tensor x = input_tensor();
    expect_near_all(run_op1("Relu", {x}), apply([](double v) { return v > 0 ? v : 0; }), 0, 0);
    expect_near_all(run_op1("LeakyRelu", {x}), apply([](double v) { return v < 0 ? 0.01f * v : v; }), 1e-6f, 0);
    expect_near_all(run_op1("LeakyRelu", {x}, {attr_f("alpha", 0.2f)}),
                    apply([](double v) { return v < 0 ? 0.2f * v : v; }), 1e-6f, 0);
    expect_near_all(run_op1("Sigmoid", {x}), apply([](double v) { return 1 / (1 + std::exp(-v)); }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("Tanh", {x}), apply([](double v) { return std::tanh(v); }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("HardSigmoid", {x}), apply([](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); }),
                    1e-6f, 1e-7f);
    expect_near_all(run_op1("HardSigmoid", {x}, {attr_f("alpha", 0.5f), attr_f("beta", 0.25f)}),
                    apply([](double v) { return std::clamp(0.5 * v + 0.25, 0.0, 1.0); }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("HardSwish", {x}), apply([](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); }),
                    1e-6f, 1e-7f);
    expect_near_all(run_op1("Elu", {x}), apply([](double v) { return v < 0 ? std::exp(v) - 1 : v; }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("Elu", {x}, {attr_f("alpha", 0.5f)}),
                    apply([](double v) { return v < 0 ? 0.5 * (std::exp(v) - 1) : v; }), 1e-6f, 1e-7f);
    const double sa = 1.67326319f, sg = 1.05070102f;  // the spec's float defaults
    expect_near_all(run_op1("Selu", {x}),
                    apply([=](double v) { return v <= 0 ? sg * (sa * std::exp(v) - sa) : sg * v; }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("Celu", {x}, {attr_f("alpha", 2.0f)}),
                    apply([](double v) { return std::max(0.0, v) + std::min(0.0, 2 * (std::exp(v / 2) - 1)); }), 1e-6f,
                    1e-7f);
    expect_near_all(run_op1("Softplus", {x}), apply([](double v) { return std::log(std::exp(v) + 1); }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("Softsign", {x}), apply([](double v) { return v / (1 + std::fabs(v)); }), 1e-6f, 1e-7f);
    expect_near_all(run_op1("ThresholdedRelu", {x}), apply([](double v) { return v > 1 ? v : 0; }), 0, 0);
    expect_near_all(run_op1("ThresholdedRelu", {x}, {attr_f("alpha", 0.4f)}),
                    apply([](double v) { return v > 0.4 ? v : 0; }), 0, 0);
    expect_near_all(run_op1("Mish", {x}), apply([](double v) { return v * std::tanh(std::log1p(std::exp(v))); }), 1e-6f,
                    1e-7f);
  }
}

TEST(OpsActivation, Gelu) {
  for (Isa isa : {Isa::ref, Isa::avx2}) {
    EwIsaScope scope(isa);
    SCOPED_TRACE(isa_name(scope.got()));
    // The AVX2 erf (Abramowitz-Stegun 7.1.26) is within 1.5e-7 absolute: Gelu within ~1e-7 * |x|.
    const float abs_tol = scope.got() == Isa::ref ? 1e-7f : 2e-6f;
    const Tensor x = input_tensor();
    const auto erf_form = apply([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
    const auto tanh_form =
        apply([](double v) { return 0.5 * v * (1 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v))); });
    expect_near_all(run_op1("Gelu", {x}), erf_form, 1e-6f, abs_tol);
    expect_near_all(run_op1("Gelu", {x}, {attr_s("approximate", "none")}), erf_form, 1e-6f, abs_tol);
    expect_near_all(run_op1("Gelu", {x}, {attr_s("approximate", "tanh")}), tanh_form, 1e-6f, 2e-7f);
    expect_near_all(run_op1("Gelu", {x}, {}, "com.microsoft"), erf_form, 1e-6f, abs_tol);
  }
  EXPECT_THROW(run_op1("Gelu", {input_tensor()}, {attr_s("approximate", "fast")}), InputError);
  EXPECT_THROW(run_op1("Gelu", {input_tensor()}, {attr_i("approximate", 1)}), InputError);
}

TEST(OpsActivation, ReluIntegers) {
  const Tensor x = Tensor::from_vector<int32_t>(DType::s32, {4}, {-3, 0, 5, std::numeric_limits<int32_t>::min()});
  EXPECT_EQ(run_op1("Relu", {x}).to_i64_vector(), (std::vector<int64_t>{0, 0, 5, 0}));
  EXPECT_THROW(run_op1("Sigmoid", {x}), InputError);
}

TEST(OpsActivation, LargeMultiThreaded) {
  for (Isa isa : {Isa::ref, Isa::avx2}) {
    EwIsaScope scope(isa);
    const Tensor x = rand_f32({2, 3, 7, 1000}, -5, 5, 11);
    std::vector<float> want;
    for (float v : x.to_f32_vector()) want.push_back(static_cast<float>(1 / (1 + std::exp(-static_cast<double>(v)))));
    expect_near_all(run_op1("Sigmoid", {x}, {}, "", 4), want, 1e-6f, 2e-7f);
  }
}

TEST(OpsActivation, Clip) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = f32_tensor({6}, {-5, -1, 0, 1, 5, nan});
  const Tensor lo = f32_tensor({}, {-1.5f}), hi = f32_tensor({1}, {2});
  expect_near_all(run_op1("Clip", {x, lo, hi}), {-1.5f, -1, 0, 1, 2, nan}, 0, 0);
  expect_near_all(run_op1("Clip", {x, lo}), {-1.5f, -1, 0, 1, 5, nan}, 0, 0);
  expect_near_all(run_op1("Clip", {x, Tensor(), hi}), {-5, -1, 0, 1, 2, nan}, 0, 0);
  expect_near_all(run_op1("Clip", {x}), {-5, -1, 0, 1, 5, nan}, 0, 0);
  // min > max: every value becomes max (ONNX: Min(max, Max(input, min))); NaN stays NaN (as in
  // ONNX Runtime 1.32).
  expect_near_all(run_op1("Clip", {x, f32_tensor({}, {3}), f32_tensor({}, {1})}), {1, 1, 1, 1, 1, nan}, 0, 0);
  const Tensor xi = Tensor::from_vector<int64_t>(DType::s64, {4}, {-100, 3, 7, 100});
  const Tensor li = Tensor::from_vector<int64_t>(DType::s64, {}, {0});
  const Tensor hi6 = Tensor::from_vector<int64_t>(DType::s64, {}, {6});
  EXPECT_EQ(run_op1("Clip", {xi, li, hi6}).to_i64_vector(), (std::vector<int64_t>{0, 3, 6, 6}));
  const Tensor xu = Tensor::from_vector<uint8_t>(DType::u8, {3}, {0, 100, 255});
  EXPECT_EQ(run_op1("Clip", {xu, Tensor(), Tensor::from_vector<uint8_t>(DType::u8, {}, {200})}).to_i64_vector(),
            (std::vector<int64_t>{0, 100, 200}));
  EXPECT_THROW(run_op1("Clip", {x, f32_tensor({2}, {0, 1})}), InputError);  // min not a scalar
  EXPECT_THROW(run_op1("Clip", {x, Tensor::from_vector<int64_t>(DType::s64, {}, {0})}), InputError);  // dtype
}

TEST(OpsActivation, PRelu) {
  // Slope [C,1,1] against X [N,C,H,W] (the common per-channel form).
  const Shape xs{2, 3, 2, 5}, ss{3, 1, 1};
  const Tensor x = rand_f32(xs, -2, 2, 21), s = f32_tensor(ss, {0.1f, 0.5f, -2.0f});
  std::vector<float> want;
  for (int64_t i = 0; i < shape_numel(xs); ++i) {
    const float v = x.data<float>()[i];
    want.push_back(v < 0 ? s.data<float>()[naive_broadcast_index(xs, ss, i)] * v : v);
  }
  const Tensor y = run_op1("PRelu", {x, s});
  EXPECT_EQ(y.shape(), xs);
  expect_near_all(y, want, 0, 0);
  // Scalar slope, and slope along the last dim.
  expect_near_all(run_op1("PRelu", {f32_tensor({3}, {-2, 0, 2}), f32_tensor({1}, {0.25f})}), {-0.5f, 0, 2}, 0, 0);
  expect_near_all(run_op1("PRelu", {f32_tensor({2, 2}, {-1, -1, 1, -4}), f32_tensor({2}, {2, 3})}), {-2, -3, 1, -12}, 0,
                  0);
  // Slope must broadcast to X without growing it.
  EXPECT_THROW(run_op1("PRelu", {f32_tensor({2, 3}, {1, 2, 3, 4, 5, 6}), f32_tensor({2}, {1, 2})}), InputError);
  EXPECT_THROW(run_op1("PRelu", {f32_tensor({3}, {1, 2, 3}), f32_tensor({2, 3}, {1, 2, 3, 4, 5, 6})}), InputError);
}

namespace {

// Softmax / LogSoftmax over `axis` of [outer, n, inner] in double.
std::vector<float> naive_softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  std::vector<float> r(static_cast<size_t>(x.numel()));
  const float* p = x.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double mx = -INFINITY, sum = 0;
      for (int64_t k = 0; k < n; ++k) mx = std::max(mx, static_cast<double>(p[(o * n + k) * inner + j]));
      for (int64_t k = 0; k < n; ++k) sum += std::exp(p[(o * n + k) * inner + j] - mx);
      for (int64_t k = 0; k < n; ++k) {
        const double v = p[(o * n + k) * inner + j] - mx;
        r[(o * n + k) * inner + j] = static_cast<float>(log ? v - std::log(sum) : std::exp(v) / sum);
      }
    }
  return r;
}

}  // namespace

TEST(OpsActivation, SoftmaxAxes) {
  for (Isa isa : {Isa::ref, Isa::avx2}) {
    EwIsaScope scope(isa);
    SCOPED_TRACE(isa_name(scope.got()));
    const Tensor x = rand_f32({2, 3, 4}, -4, 4, 31);
    for (bool log : {false, true}) {
      const char* op = log ? "LogSoftmax" : "Softmax";
      SCOPED_TRACE(op);
      expect_near_all(run_op1(op, {x}), naive_softmax(x, 6, 4, 1, log), 1e-5f, 1e-7f);  // default axis -1
      expect_near_all(run_op1(op, {x}, {attr_i("axis", 1)}), naive_softmax(x, 2, 3, 4, log), 1e-5f, 1e-7f);
      expect_near_all(run_op1(op, {x}, {attr_i("axis", -3)}), naive_softmax(x, 1, 2, 12, log), 1e-5f, 1e-7f);
      // Opset < 13 form: flattened to [prod(dims[:axis]), prod(dims[axis:])], axis default 1.
      expect_near_all(run_op1(op, {x}, {attr_i("qforge.coerce_2d", 1)}), naive_softmax(x, 2, 12, 1, log), 1e-5f, 1e-7f);
      expect_near_all(run_op1(op, {x}, {attr_i("qforge.coerce_2d", 1), attr_i("axis", 2)}),
                      naive_softmax(x, 6, 4, 1, log), 1e-5f, 1e-7f);
      expect_near_all(run_op1(op, {x}, {attr_i("qforge.coerce_2d", 1), attr_i("axis", 0)}),
                      naive_softmax(x, 1, 24, 1, log), 1e-5f, 1e-7f);
      EXPECT_THROW(run_op1(op, {x}, {attr_i("axis", 3)}), InputError);
    }
  }
}

TEST(OpsActivation, SoftmaxOddSizesAndStability) {
  for (Isa isa : {Isa::ref, Isa::avx2}) {
    EwIsaScope scope(isa);
    SCOPED_TRACE(isa_name(scope.got()));
    for (int64_t n : {1, 7, 17, 33, 129}) {
      SCOPED_TRACE(n);
      const Tensor x = rand_f32({3, n}, -10, 10, static_cast<uint32_t>(n));
      expect_near_all(run_op1("Softmax", {x}), naive_softmax(x, 3, n, 1, false), 1e-5f, 1e-7f);
      const Tensor z = rand_f32({n, 5}, -10, 10, static_cast<uint32_t>(n + 1));
      expect_near_all(run_op1("LogSoftmax", {z}, {attr_i("axis", 0)}), naive_softmax(z, 1, n, 5, true), 1e-5f, 1e-6f);
    }
    // Large logits: subtracting the max keeps exp() finite.
    const Tensor big = f32_tensor({3}, {1000, 1001, 1002});
    expect_near_all(run_op1("Softmax", {big}), {0.09003057f, 0.24472847f, 0.66524096f}, 1e-6f, 0);
    expect_near_all(run_op1("LogSoftmax", {big}), {-2.40760596f, -1.40760596f, -0.40760596f}, 1e-6f, 0);
    // Large, multi-threaded, both layouts.
    const Tensor l = rand_f32({64, 8, 129}, -5, 5, 77);
    expect_near_all(run_op1("Softmax", {l}, {}, "", 4), naive_softmax(l, 512, 129, 1, false), 1e-5f, 1e-7f);
    expect_near_all(run_op1("Softmax", {l}, {attr_i("axis", 1)}, "", 4), naive_softmax(l, 64, 8, 129, false), 1e-5f,
                    1e-7f);
  }
}

TEST(OpsActivation, InferenceSymbolic) {
  auto r = infer_op("Gelu", {ts(DType::f32, {dsym("N"), dk(16)})}, {attr_s("approximate", "tanh")});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(16)}));
  r = infer_op("Softmax", {ts(DType::f32, {dsym("N"), dk(10)})});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(10)}));
  r = infer_op("PRelu", {ts(DType::f32, {dsym("N"), dk(3), dk(8), dk(8)}), ts(DType::f32, {dk(3), dk(1), dk(1)})});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N"), dk(3), dk(8), dk(8)}));
  r = infer_op("Clip", {ts(DType::f32, {dsym("N")}), ts(DType::f32, {}), runtime::TypeShape{}});
  EXPECT_EQ(r[0].dims, (std::vector<ir::Dim>{dsym("N")}));
  EXPECT_THROW(infer_op("Softmax", {ts(DType::f32, {dsym("N"), dk(10)})}, {attr_i("axis", 2)}), InputError);
  EXPECT_THROW(infer_op("Softmax", {ts(DType::s32, {dk(10)})}), InputError);
  EXPECT_THROW(infer_op("LeakyRelu", {ts(DType::f32, {dk(10)})}, {attr_s("alpha", "x")}), InputError);
  EXPECT_THROW(infer_op("Celu", {ts(DType::f32, {dk(10)})}, {attr_f("alpha", 0)}), InputError);
}
