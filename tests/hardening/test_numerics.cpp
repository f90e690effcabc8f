// Numeric edge cases through the whole quantization pipeline (issue 7, Build 5), on the tiny MLP of
// the quantizer tests. Expected values follow from the range policy stated in quant/qparams.h (a
// range whose scale would fall below FLT_MIN, all zeros included, gets scale 1; asymmetric ranges are
// widened to include 0) and from the int32 bound of kernels/qgemm.h (K <= 65536) — not from running
// the quantizer first. Unit-level cases live beside the code: QuantQParams.DegenerateRanges and
// NonFiniteIsInputErrorNamingTheTensor, CalibObserver.NonFiniteValuesNameTheTensor,
// Quantizer.BiasThatWouldOverflowInt32EnlargesTheWeightScale, KernelsQgemm.ExtremesAtK4096 and
// ExtremesAtMaxDepth, LowerQdqBadInput.Int32OverflowRiskDetectedAtLoad.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "../ir/onnx_test_util.h"
#include "../quant/quantizer_test_models.h"
#include "../runtime/qdq_test_util.h"
#include "core/error.h"
#include "quant/quantize_pipeline.h"
#include "quant/recipe.h"
#include "runtime/session.h"

namespace qforge {
namespace {

using quant::testmodels::tiny_mlp;
using quant::testmodels::uniform;

// Static int8 quantization of `m` calibrated on `x` (one batch).
quant::PipelineResult quantize_int8(const ir::Model& m, const Tensor& x) {
  const quant::BatchSourceFactory data = [&]() -> quant::BatchSource {
    return [&, done = false]() mutable -> std::vector<Tensor> {
      if (done) return {};
      done = true;
      return {x};
    };
  };
  return quant::quantize_pipeline(m, quant::recipe_from_preset("int8"), &data, nullptr, 1);
}

Tensor constant(Shape shape, float v) {
  Tensor t(DType::f32, std::move(shape));
  for (auto& x : t.span<float>()) x = v;
  return t;
}

Tensor run(const ir::Model& m, const Tensor& x) {
  runtime::SessionOptions o;
  o.threads = 1;
  runtime::Session s(m, o);
  return s.run({x})[0];
}

// Every f32 initializer that is a scale (name ends in "_scale") is a normal positive number.
void expect_normal_scales(const ir::Model& q) {
  int scales = 0;
  for (const auto& [name, t] : q.graph.initializers) {
    if (t.dtype() != DType::f32 || name.size() < 6 || name.compare(name.size() - 6, 6, "_scale") != 0) continue;
    ++scales;
    for (float s : t.span<const float>()) EXPECT_TRUE(std::isnormal(s) && s > 0) << name << " = " << s;
  }
  EXPECT_GE(scales, 4);  // x, w1, h..., y: the MLP quantizes four nodes
}

TEST(HardeningNumerics, NonFiniteWeightsAreRefusedNamingTheTensor) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    ir::Model m = tiny_mlp();
    m.graph.initializers.at("w1").data<float>()[37] = bad;
    const std::string e = test::input_error([&] { quantize_int8(m, uniform({4, 16}, -1, 1, 1)); });
    EXPECT_NE(e.find("'w1'"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(HardeningNumerics, NonFiniteCalibrationValuesAreRefused) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    Tensor x = uniform({4, 16}, -1, 1, 2);
    x.data<float>()[21] = bad;
    const std::string e = test::input_error([&] { quantize_int8(tiny_mlp(), x); });
    EXPECT_NE(e.find("'x'"), std::string::npos) << e;
  }
}

TEST(HardeningNumerics, AllZeroWeightsAndConstantInputs) {
  // w1 all zero: each of its 8 channels has range [0, 0], so scale 1 (qparams.h). The input is 3.0
  // everywhere: min == max == 3, widened to [0, 3], so the u8 scale is 3 / 255.
  ir::Model m = tiny_mlp();
  for (auto& v : m.graph.initializers.at("w1").span<float>()) v = 0.f;
  const Tensor x = constant({4, 16}, 3.f);
  const quant::PipelineResult p = quantize_int8(m, x);
  const Tensor& ws = p.result.model.graph.initializers.at("w1_scale");
  ASSERT_EQ(ws.numel(), 8);
  for (float s : ws.span<const float>()) EXPECT_EQ(s, 1.0f);
  EXPECT_FLOAT_EQ(p.result.model.graph.initializers.at("x_scale").data<float>()[0], 3.0f / 255);
  expect_normal_scales(p.result.model);
  // h = x · 0 = 0 exactly, so the quantized model computes y from the biases alone, like FP32 (within
  // a step of y's scale and of the int8 weights).
  const Tensor want = run(m, x), got = run(p.result.model, x);
  for (int64_t i = 0; i < want.numel(); ++i) {
    ASSERT_TRUE(std::isfinite(got.data<float>()[i]));
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 0.02) << i;
  }
}

TEST(HardeningNumerics, DenormalCalibrationRangesGiveScaleOne) {
  // Inputs of 1e-41 (a denormal): x's range [0, 1e-41] would give a denormal scale; policy: 1.
  const Tensor x = constant({4, 16}, 1e-41f);
  ASSERT_EQ(std::fpclassify(x.data<float>()[0]), FP_SUBNORMAL);
  const quant::PipelineResult p = quantize_int8(tiny_mlp(), x);
  EXPECT_EQ(p.result.model.graph.initializers.at("x_scale").data<float>()[0], 1.0f);
  expect_normal_scales(p.result.model);
  const Tensor got = run(p.result.model, x), want = run(tiny_mlp(), x);
  for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 0.02) << i;
}

TEST(HardeningNumerics, ReductionDeeperThanTheInt32BoundIsRefusedAtLoad) {
  // kernels/qgemm.h: |acc| <= 32640 · K fits int32 for K <= 65536. A QDQ MatMul with K = 65537 must
  // end in an InputError naming the node when the runtime lowers it, not in a precondition failure.
  qdq_test::QdqBuilder b({1, 65537});
  const std::string h = b.op("MatMul", {b.qdq("x", 0.02f, 128), b.weight({65537, 2}, 1)});
  b.output(b.qdq(h, 0.5f, 128));
  const std::string e = test::input_error([&] { runtime::Session s(b.m, qdq_test::options(true)); });
  EXPECT_NE(e.find("reduction length 65537 exceeds 65536"), std::string::npos) << e;
  EXPECT_NE(e.find("MatMul_"), std::string::npos) << e;
}

}  // namespace
}  // namespace qforge
