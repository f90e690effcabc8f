// QDQ lowering (runtime/lower/lower_qdq.h): which patterns become integer nodes, what stays float and
// why, and the outputs of the lowered graph against the same graph executed unlowered (DQ → float op →
// Q, the definition of the QDQ model's meaning):
//  - bit-exact for QLut ops, MaxPool / data movement, Add, Concat (they reproduce the float ops on
//    the codes, or commute with the monotonic quantizer);
//  - within one quantization step for one Conv / Gemm / MatMul / AveragePool (exact int32
//    accumulation + one rounding, against float accumulation + rounding);
//  - bit-identical across ISAs (ref, AVX2, AVX-512) for every lowered graph.
// Bad QDQ parameters are InputErrors naming the node.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu.h"
#include "core/error.h"
#include "linear_test_util.h"
#include "qdq_test_util.h"
#include "runtime/lower/lower_qdq.h"

using namespace qforge;
using namespace qforge::qdq_test;

namespace {

std::vector<Tensor> run(const ir::Model& m, bool lower, const Tensor& x, runtime::LoweringResult* info = nullptr) {
  runtime::Session s(m, options(lower));
  if (info) {
    info->fallbacks = s.fallbacks();
    info->lowered = s.lowered_nodes();
  }
  return s.run({x});
}

// |a − b| <= steps · scale elementwise (+ float slack).
void expect_within_steps(const Tensor& a, const Tensor& b, float scale, float steps) {
  ASSERT_EQ(a.shape(), b.shape());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_LE(std::fabs(pa[i] - pb[i]), steps * scale * 1.0001f) << "element " << i << ": " << pa[i] << " vs " << pb[i];
}

// The lowered graph gives the same bits under every ISA.
void expect_same_across_isas(const ir::Model& m, const Tensor& x) {
  std::vector<Tensor> want;
  {
    linear_test::IsaScope s(Isa::ref);
    want = run(m, true, x);
  }
  for (Isa isa : linear_test::simd_levels()) {
    linear_test::IsaScope s(isa);
    const auto got = run(m, true, x);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i].bit_equal(want[i])) << "isa " << isa_name(isa);
  }
}

constexpr float kOutScale = 0.05f;

// x → Q/DQ → Conv(op attrs) → [Relu] → Q/DQ → y
ir::Model conv_model(std::vector<int64_t> xs, int64_t M, int64_t group, int64_t k, int64_t stride, int64_t dil,
                     int64_t pad, bool relu) {
  QdqBuilder b(xs, 7);
  const float in_s = 0.03f;
  std::string h = b.qdq("x", in_s, 128);
  const std::string w = b.weight({M, xs[1] / group, k, k}, 0);
  h = b.op("Conv", {h, w, b.bias(in_s)},
           {ints("kernel_shape", {k, k}), ints("strides", {stride, stride}), ints("dilations", {dil, dil}),
            ints("pads", {pad, pad, pad, pad}), int1("group", group)});
  if (relu) h = b.op("Relu", {h});
  b.output(b.qdq(h, kOutScale, relu ? 0 : 128));
  return b.m;
}

TEST(LowerQdq, ConvWithinOneStepOfUnloweredAndSameAcrossIsas) {
  struct Case {
    std::vector<int64_t> x;
    int64_t M, group, k, stride, dil, pad;
    bool relu;
  };
  const Case cases[] = {
      {{2, 3, 11, 9}, 8, 1, 3, 1, 1, 1, true},   {{1, 8, 12, 12}, 8, 8, 3, 2, 1, 1, false},  // depthwise
      {{1, 16, 7, 7}, 5, 1, 1, 1, 1, 0, false},  {{1, 6, 10, 10}, 9, 3, 3, 1, 2, 2, true},   // grouped, dilated
  };
  for (const auto& c : cases) {
    const ir::Model m = conv_model(c.x, c.M, c.group, c.k, c.stride, c.dil, c.pad, c.relu);
    QdqBuilder shape_only(c.x);
    const Tensor x = shape_only.random_input(3);
    runtime::LoweringResult info;
    const auto lowered = run(m, true, x, &info);
    EXPECT_EQ(info.lowered, 1);
    EXPECT_TRUE(info.fallbacks.empty());
    expect_within_steps(lowered[0], run(m, false, x)[0], kOutScale, 1);
    expect_same_across_isas(m, x);
  }
}

TEST(LowerQdq, GemmAndMatMulWithinOneStep) {
  QdqBuilder b({3, 2, 4, 4}, 11);
  const float s = 0.04f;
  std::string h = b.qdq("x", s, 128);
  h = b.qdq(b.op("Flatten", {h}, {int1("axis", 1)}), s, 128);
  const std::string w = b.weight({7, 32}, 0);
  h = b.op("Gemm", {h, w, b.bias(s)}, {int1("transB", 1)});
  const std::string g = b.qdq(h, 0.06f, 120);
  const std::string w2 = b.weight({7, 5}, 1);
  b.output(b.qdq(b.op("MatMul", {g, w2}), kOutScale, 128));
  b.output(g);
  const Tensor x = b.random_input(5);
  runtime::LoweringResult info;
  const auto lo = run(b.m, true, x, &info);
  const auto un = run(b.m, false, x);
  EXPECT_EQ(info.lowered, 3);  // Flatten, Gemm, MatMul
  EXPECT_TRUE(info.fallbacks.empty());
  expect_within_steps(lo[1], un[1], 0.06f, 1);
  // The MatMul reads the Gemm's (possibly one step off) output: compare it on the lowered Gemm's output.
  expect_within_steps(lo[0], un[0], kOutScale, 2);
  expect_same_across_isas(b.m, x);
}

TEST(LowerQdq, ExactOpsEqualUnloweredBitForBit) {
  // MaxPool (same params), Relu as a table, Add of two branches, Concat to a third scale, Reshape
  // with a scale change, Sigmoid.
  QdqBuilder b({2, 4, 8, 8}, 13);
  const std::string x = b.qdq("x", 0.02f, 128);
  const std::string mp = b.qdq(b.op("MaxPool", {x}, {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1, 1, 1})}), 0.02f, 128);
  const std::string r = b.qdq(b.op("Relu", {mp}), 0.01f, 0);
  const std::string a = b.qdq(b.op("Add", {mp, r}), 0.03f, 100);
  const std::string c = b.qdq(b.op("Concat", {a, mp}, {int1("axis", 1)}), 0.025f, 110);
  const std::string sg = b.qdq(b.op("Sigmoid", {c}), 1.f / 255, 0);
  const std::string shape = b.init("shape", Tensor::from_vector<int64_t>(DType::s64, {2}, {2, -1}));
  b.output(b.qdq(b.op("Reshape", {sg, shape}), 1.f / 200, 3));
  const Tensor in = b.random_input(17);
  runtime::LoweringResult info;
  const auto lo = run(b.m, true, in, &info);
  const auto un = run(b.m, false, in);
  EXPECT_EQ(info.lowered, 6);
  EXPECT_TRUE(info.fallbacks.empty());
  EXPECT_TRUE(lo[0].bit_equal(un[0]));
}

TEST(LowerQdq, PoolsWithinOneStep) {
  QdqBuilder b({2, 5, 9, 7}, 19);
  const std::string x = b.qdq("x", 0.02f, 128);
  const std::string ap = b.qdq(b.op("AveragePool", {x}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1}),
                                                          ints("strides", {2, 2})}),
                               0.011f, 127);
  b.output(ap);
  b.output(b.qdq(b.op("GlobalAveragePool", {x}), 0.003f, 130));
  b.output(b.qdq(b.op("AveragePool", {x}, {ints("kernel_shape", {2, 3}), ints("pads", {1, 0, 1, 2}),
                                            int1("count_include_pad", 1)}),
                 0.012f, 128));
  const Tensor in = b.random_input(23);
  const auto lo = run(b.m, true, in);
  const auto un = run(b.m, false, in);
  expect_within_steps(lo[0], un[0], 0.011f, 1);
  expect_within_steps(lo[1], un[1], 0.003f, 1);
  expect_within_steps(lo[2], un[2], 0.012f, 1);
  expect_same_across_isas(b.m, in);
}

TEST(LowerQdq, ChainHandsIntegersOnAndListsFallbacks) {
  QdqBuilder b({1, 3, 8, 8}, 29);
  const float s = 0.03f;
  std::string h = b.qdq("x", s, 128);
  h = b.op("Conv", {h, b.weight({6, 3, 3, 3}, 0), b.bias(s)}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1})});
  h = b.qdq(h, 0.05f, 128);
  h = b.op("Conv", {h, b.weight({6, 6, 1, 1}, 0), b.bias(0.05f)}, {ints("kernel_shape", {1, 1})});
  h = b.qdq(h, 0.05f, 128);
  h = b.qdq(b.op("Softmax", {h}, {int1("axis", 1)}), 1.f / 256, 0);  // no integer kernel
  b.output(h);
  runtime::Session sess(b.m, options(true));
  EXPECT_EQ(sess.lowered_nodes(), 2);
  EXPECT_EQ(count_op(sess.graph(), "QConv"), 2);
  // Between the two convs nothing is left: the second reads the first's integers.
  EXPECT_EQ(count_op(sess.graph(), "DequantizeLinear"), 2);  // the Softmax input and the output
  ASSERT_EQ(sess.fallbacks().size(), 1u);
  EXPECT_EQ(sess.fallbacks()[0].op_type, "Softmax");
  EXPECT_NE(sess.fallbacks()[0].reason.find("no integer kernel"), std::string::npos);
  runtime::Session plain(b.m, options(false));
  EXPECT_EQ(count_op(plain.graph(), "QConv"), 0);
  EXPECT_EQ(runtime::qdq_fallbacks(b.m).size(), 1u);
}

TEST(LowerQdq, U8WeightsStayInFloatWithAReason) {
  QdqBuilder b({1, 2, 5, 5});
  std::string h = b.qdq("x", 0.1f, 128);
  const std::string w = b.init("w", Tensor::from_vector<uint8_t>(DType::u8, {1, 2, 1, 1}, {130, 120}));
  const std::string ws = b.init("ws", Tensor::from_vector<float>(DType::f32, {}, {0.01f}));
  const std::string wz = b.init("wz", Tensor::from_vector<uint8_t>(DType::u8, {}, {128}));
  h = b.op("Conv", {h, b.op("DequantizeLinear", {w, ws, wz})}, {ints("kernel_shape", {1, 1})});
  b.output(b.qdq(h, 0.1f, 128));
  const auto fb = runtime::qdq_fallbacks(b.m);
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(fb[0].op_type, "Conv");
  EXPECT_NE(fb[0].reason.find("u8"), std::string::npos) << fb[0].reason;
}

// ---- bad input ----

void expect_input_error(const ir::Model& m, const std::string& needle) {
  try {
    runtime::Session s(m, options(true));
    ADD_FAILURE() << "no InputError (expected one mentioning '" << needle << "')";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(LowerQdqBadInput, ScalesZeroNegativeNonFinite) {
  for (float bad : {0.f, -0.5f, NAN, INFINITY}) {
    ir::Model m = conv_model({1, 2, 4, 4}, 3, 1, 3, 1, 1, 1, false);
    // The input's Q/DQ scale is the first initializer named scale_*.
    for (auto& [name, t] : m.graph.initializers)
      if (name.rfind("scale_", 0) == 0) {
        t = Tensor::from_vector<float>(DType::f32, {}, {bad});
        break;
      }
    expect_input_error(m, "QuantizeLinear_");
    expect_input_error(m, "is not a positive finite number");
  }
}

TEST(LowerQdqBadInput, PerAxisScaleCountMismatch) {
  ir::Model m = conv_model({1, 2, 4, 4}, 3, 1, 3, 1, 1, 1, false);
  for (auto& [name, t] : m.graph.initializers)
    if (name.rfind("w_scale_", 0) == 0) t = Tensor::from_vector<float>(DType::f32, {2}, {0.1f, 0.1f});
  for (auto& [name, t] : m.graph.initializers)
    if (name.rfind("w_zp_", 0) == 0) t = Tensor::from_vector<int8_t>(DType::s8, {2}, {0, 0});
  expect_input_error(m, "per-axis scale has 2 values");
}

TEST(LowerQdqBadInput, ZeroPointDtypeMismatch) {
  ir::Model m = conv_model({1, 2, 4, 4}, 3, 1, 3, 1, 1, 1, false);
  for (auto& [name, t] : m.graph.initializers)
    if (name.rfind("w_zp_", 0) == 0) t = Tensor::from_vector<uint8_t>(DType::u8, {3}, {0, 0, 0});
  expect_input_error(m, "does not match the data dtype");
}

TEST(LowerQdqBadInput, Int32OverflowRiskDetectedAtLoad) {
  // 1x1 conv over 65536 channels of weights −128: Σ|w| · 255 = 2,139,095,040; a bias of 10^7 passes 2^31.
  QdqBuilder b({1, 65536, 1, 1});
  const float s = 0.01f;
  std::string h = b.qdq("x", s, 0);
  const std::string w = b.init("w", Tensor::from_vector<int8_t>(DType::s8, {1, 65536, 1, 1}, std::vector<int8_t>(65536, -128)));
  const std::string ws = b.init("ws", Tensor::from_vector<float>(DType::f32, {1}, {1e-4f}));
  const std::string wz = b.init("wz", Tensor::from_vector<int8_t>(DType::s8, {1}, {0}));
  const std::string bq = b.init("b", Tensor::from_vector<int32_t>(DType::s32, {1}, {10000000}));
  const std::string bs = b.init("bs", Tensor::from_vector<float>(DType::f32, {1}, {s * 1e-4f}));
  h = b.op("Conv", {h, b.op("DequantizeLinear", {w, ws, wz}, {int1("axis", 0)}), b.op("DequantizeLinear", {bq, bs})},
           {ints("kernel_shape", {1, 1})});
  b.output(b.qdq(h, 1.f, 128));
  expect_input_error(b.m, "could overflow int32");
  expect_input_error(b.m, "Conv_");
}

}  // namespace
