// Dynamic quantization on the integer GEMM: MatMulInteger with packed constant weights equals the
// reference matmul_integer_ref (the ONNX definition, element by element) bit for bit; the lowering of
// DynamicQuantizeLinear → MatMulInteger → Cast → Mul [→ Add] to qforge.QDynGemm (lower_dynamic.h)
// gives the unlowered graph's output bit for bit under every ISA; DynamicQuantizeLinear's min / max
// equals the sequential definition for NaN, signed zeros and lengths around the 16-lane blocking.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "ir/onnx_io.h"
#include "quant/quantizer.h"
#include "quant/recipe.h"
#include "runtime/kernels/reference/quant_ext_ref.h"
#include "runtime/lower/lower_dynamic.h"
#include "runtime/lower/lower_weight_only.h"
#include "runtime/session.h"
#include "../quant/quantizer_test_models.h"
#include "linear_test_util.h"

namespace qforge::runtime {
namespace {

Tensor random_q8(DType t, Shape s, uint32_t seed) {
  Tensor x(t, s);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, 255);
  for (int64_t i = 0; i < x.numel(); ++i) static_cast<uint8_t*>(x.raw())[i] = static_cast<uint8_t>(d(rng));
  return x;
}

ir::Model matmul_integer_model(DType a_t, int64_t K, int64_t N, const Tensor& w, bool with_w_zp) {
  ir::Model m;
  m.opsets = {{"", 13}};
  ir::ValueInfo a, z, y;
  a.name = "a", a.dtype = a_t;
  z.name = "a_zp", z.dtype = a_t;
  y.name = "y";
  m.graph.inputs = {a, z};
  m.graph.outputs = {y};
  m.graph.add_initializer("w", w);
  ir::Node n;
  n.op_type = "MatMulInteger";
  n.name = "mmi";
  n.inputs = {"a", "w", "a_zp"};
  if (with_w_zp) {
    m.graph.add_initializer("w_zp", Tensor(DType::s8, {N}));
    n.inputs.push_back("w_zp");
  }
  n.outputs = {"y"};
  m.graph.nodes = {n};
  (void)K;
  return m;
}

TEST(DynamicGemm, MatMulIntegerPackedEqualsReference) {
  uint32_t seed = 1;
  for (DType a_t : {DType::u8, DType::s8})
    for (int64_t K : {1, 3, 4, 5, 64, 257})
      for (int64_t N : {1, 15, 16, 17, 65})
        for (int64_t M : {1, 7, 13}) {
          const Tensor w = random_q8(DType::s8, {K, N}, seed++);
          const Tensor a = random_q8(a_t, {2, M, K}, seed++);
          Tensor zp(a_t, {});
          static_cast<uint8_t*>(zp.raw())[0] = static_cast<uint8_t>(seed * 37);
          std::vector<int32_t> want(static_cast<size_t>(2 * M * N));
          const int32_t zv = static_cast<int32_t>(zp.at_i64(0));
          matmul_integer_ref(a.raw(), a_t == DType::s8, w.raw(), true, 2 * M, N, K, &zv, 1, nullptr, 0, want.data());
          for (Isa isa : {Isa::ref, Isa::avx2, Isa::avx512}) {
            linear_test::IsaScope s(isa);
            if (s.got() != isa) continue;
            Session sess(matmul_integer_model(a_t, K, N, w, (K + N) % 2 == 0));
            const Tensor y = sess.run({a, zp})[0];
            ASSERT_EQ(y.shape(), (Shape{2, M, N}));
            for (size_t i = 0; i < want.size(); ++i)
              ASSERT_EQ(y.data<int32_t>()[i], want[i]) << "K " << K << " N " << N << " M " << M << " isa "
                                                         << isa_name(isa) << " at " << i;
          }
        }
}

TEST(DynamicGemm, NonZeroWeightZeroPointStaysOnTheReference) {
  const Tensor w = random_q8(DType::s8, {8, 4}, 3);
  ir::Model m = matmul_integer_model(DType::u8, 8, 4, w, true);
  Tensor wz(DType::s8, {4});
  wz.data<int8_t>()[2] = 5;
  m.graph.initializers["w_zp"] = wz;
  const Tensor a = random_q8(DType::u8, {3, 8}, 4);
  Tensor zp(DType::u8, {});
  zp.data<uint8_t>()[0] = 9;
  const int32_t zv = 9;
  std::vector<int32_t> zb = {0, 0, 5, 0}, want(12);
  matmul_integer_ref(a.raw(), false, w.raw(), true, 3, 4, 8, &zv, 1, zb.data(), 4, want.data());
  Session s(m);
  const Tensor y = s.run({a, zp})[0];
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(y.data<int32_t>()[i], want[i]) << i;
}

int count_op(const ir::Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes) c += n.op_type == op;
  return c;
}

// The model's first output run as written (lower_qdq = false) and lowered, under every ISA the CPU
// has: compare(want, got, isa) for each.
template <class Compare>
void for_each_isa_against_unlowered(const ir::Model& q, const Tensor& x, Compare&& compare) {
  SessionOptions plain;
  plain.lower_qdq = false;
  const Tensor want = Session(q, plain).run({x})[0];
  for (Isa isa : {Isa::ref, Isa::avx2, Isa::avx512}) {
    linear_test::IsaScope s(isa);
    if (s.got() != isa) continue;
    const Tensor got = Session(q).run({x})[0];
    ASSERT_EQ(got.shape(), want.shape());
    compare(want, got, isa);
  }
}

void expect_lowered_equals_unlowered(const ir::Model& q, const Tensor& x, int fused) {
  ir::Graph g = q.graph;
  EXPECT_EQ(lower_dynamic(g), fused);
  EXPECT_EQ(count_op(g, "QDynGemm"), fused);
  EXPECT_EQ(count_op(g, "MatMulInteger"), count_op(q.graph, "MatMulInteger") - fused);
  for_each_isa_against_unlowered(q, x, [](const Tensor& want, const Tensor& got, Isa isa) {
    for (int64_t i = 0; i < want.numel(); ++i)
      ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << isa_name(isa) << " at " << i;
  });
}

TEST(DynamicGemm, LoweredEqualsUnloweredBitForBit) {
  const quant::QuantizeResult tiny =
      quant::quantize_model(quant::testmodels::tiny_mlp(), quant::recipe_from_preset("int8-dynamic"), nullptr);
  expect_lowered_equals_unlowered(tiny.model, quant::testmodels::uniform({5, 16}, -1, 1, 7), 2);
  const ir::Model mlp = ir::load_onnx(std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx");
  const quant::QuantizeResult q = quant::quantize_model(mlp, quant::recipe_from_preset("int8-dynamic"), nullptr);
  expect_lowered_equals_unlowered(q.model, quant::testmodels::uniform({4, 1, 28, 28}, 0, 1, 8), 3);
}

TEST(DynamicGemm, IntermediateWithAnotherReaderIsNotFused) {
  quant::QuantizeResult q =
      quant::quantize_model(quant::testmodels::tiny_mlp(), quant::recipe_from_preset("int8-dynamic"), nullptr);
  // Expose one MatMulInteger's int32 output as a graph output: that pattern must stay as it is.
  for (const auto& n : q.model.graph.nodes)
    if (n.op_type == "MatMulInteger") {
      ir::ValueInfo v;
      v.name = n.outputs[0];
      q.model.graph.outputs.push_back(v);
      break;
    }
  ir::Graph g = q.model.graph;
  EXPECT_EQ(lower_dynamic(g), 1);
  SessionOptions plain;
  plain.lower_qdq = false;
  const Tensor x = quant::testmodels::uniform({3, 16}, -1, 1, 9);
  const std::vector<Tensor> want = Session(q.model, plain).run({x}), got = Session(q.model).run({x});
  ASSERT_EQ(got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o)
    for (int64_t i = 0; i < want[o].numel(); ++i)
      ASSERT_EQ(std::memcmp(static_cast<const char*>(got[o].raw()) + i * 4, static_cast<const char*>(want[o].raw()) + i * 4, 4), 0);
}

TEST(DynamicGemm, DynamicQParamsEqualTheSequentialDefinition) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-3, 7);
  for (int64_t n : {1, 5, 15, 16, 17, 31, 33, 100}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = variant == 3 ? -std::abs(d(rng)) : d(rng);
      if (variant == 1) x[static_cast<size_t>(n / 2)] = nan, x[0] = -0.0f;
      if (variant == 2) std::fill(x.begin(), x.end(), -0.0f);
      float lo = 0, hi = 0;  // the definition: one pass, NaN skipped (it never compares)
      for (float v : x) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
      const DynamicQParamsU8 p = dynamic_qparams_u8(x.data(), n);
      const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
      EXPECT_EQ(p.scale, scale) << n << " " << variant;
      EXPECT_EQ(p.zero_point, static_cast<int32_t>(std::nearbyint(std::clamp(0.0f - lo / scale, 0.0f, 255.0f))));
    }
  }
}

}  // namespace
}  // namespace qforge::runtime

// ---- 4-bit weight-only MatMul / Gemm (lower_weight_only.h) ----

namespace qforge::runtime {
namespace {

// y within float rounding of the unlowered graph: |Δ| / (1e-3 + |y|) < 1e-4 per element.
void expect_w4_close(const ir::Model& q, const Tensor& x, int fused) {
  ir::Graph g = q.graph;
  EXPECT_EQ(lower_weight_only(g), fused);
  EXPECT_EQ(count_op(g, "W4MatMul"), fused);
  for_each_isa_against_unlowered(q, x, [](const Tensor& want, const Tensor& got, Isa isa) {
    double worst = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
      const double a = want.data<float>()[i], b = got.data<float>()[i];
      worst = std::max(worst, std::abs(a - b) / (1e-3 + std::abs(a)));
    }
    EXPECT_LT(worst, 1e-4) << isa_name(isa);
  });
}

TEST(WeightOnly4Bit, LoweredMatchesUnloweredOnThePresets) {
  using quant::testmodels::tiny_mlp;
  for (const char* fmt : {"s4", "u4"}) {
    quant::Recipe r = quant::recipe_from_preset("w4a16");
    r.weights.group_size = 8;
    if (std::string(fmt) == "u4") r.weights.dtype = DType::u4, r.weights.symmetric = false;
    const quant::QuantizeResult q = quant::quantize_model(tiny_mlp(), r, nullptr);
    expect_w4_close(q.model, quant::testmodels::uniform({5, 16}, -1, 1, 7), 2);  // MatMul and Gemm with C
  }
  const ir::Model mlp = ir::load_onnx(std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx");
  const quant::QuantizeResult q = quant::quantize_model(mlp, quant::recipe_from_preset("w4a16"), nullptr);
  expect_w4_close(q.model, quant::testmodels::uniform({3, 1, 28, 28}, 0, 1, 8), 3);  // Gemm transB, K = 784
}

TEST(WeightOnly4Bit, SharedOrUnblockableWeightsStayAsTheyAre) {
  quant::Recipe r = quant::recipe_from_preset("w4a16");
  r.weights.group_size = 4;  // not a multiple of 8: the kernel's packing needs 8-row groups
  const quant::QuantizeResult q = quant::quantize_model(quant::testmodels::tiny_mlp(), r, nullptr);
  ir::Graph g = q.model.graph;
  EXPECT_EQ(lower_weight_only(g), 0);
  SessionOptions plain;
  plain.lower_qdq = false;
  const Tensor x = quant::testmodels::uniform({2, 16}, -1, 1, 3);
  const Tensor a = Session(q.model, plain).run({x})[0], b = Session(q.model).run({x})[0];
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
}

}  // namespace
}  // namespace qforge::runtime
