// Conv, ConvTranspose, Gemm, MatMul, qforge.MatMulBias through the op registry.
// 1. Hand-worked examples (expected values computed by hand from the ONNX formulas), at the
//    reference level and at every SIMD level the CPU has.
// 2. The SIMD paths against the reference level over a seeded sweep of shapes and attributes.
//    Bound: normalised MSE <= 1e-10 and max relative error <= 5e-3 (relative to
//    max(|want|, 1e-2 · max|want|), see linear_test_util.h; float sums of up to K = 425 products that
//    cancel, after a clamp that shrinks max|want|, reach ~1e-3).
#include <gtest/gtest.h>

#include <numeric>

#include "linear_test_util.h"

using namespace qforge;
using namespace qforge::linear_test;

namespace {

constexpr double kMaxNmse = 1e-10, kMaxRel = 5e-3;

std::vector<Isa> all_levels() {
  std::vector<Isa> r{Isa::ref};
  for (Isa i : simd_levels()) r.push_back(i);
  return r;
}

void expect_values(const Tensor& got, const Shape& shape, const std::vector<float>& want, const std::string& what) {
  EXPECT_EQ(got.shape(), shape) << what;
  if (got.shape() != shape) return;
  const std::vector<float> g = values(got);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-5f * (1 + std::fabs(want[i]))) << what << " [" << i << "]";
}

const Tensor kX3x3 = f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
const Tensor kOnes2x2 = f32({1, 1, 2, 2}, {1, 1, 1, 1});

// Runs the op at `isa`, with and without the constant-input prepare path (packed weights, which
// may pick another kernel, e.g. the transposed pointwise conv), and checks both agree.
Tensor run_at(Isa isa, const std::string& op, const std::vector<Tensor>& in, const std::vector<ir::Attribute>& attrs,
              const std::string& domain = "") {
  IsaScope s(isa);
  Tensor a = run_op(op, in, attrs, 1, true, domain)[0];
  Tensor b = run_op(op, in, attrs, 1, false, domain)[0];
  const Diff d = diff(a, b);
  EXPECT_LE(d.nmse, kMaxNmse) << op << " prepared vs unprepared at " << isa_name(isa);
  EXPECT_LE(d.max_rel, kMaxRel) << op << " prepared vs unprepared at " << isa_name(isa);
  return a;
}

}  // namespace

TEST(OpsConv, HandWorked2x2Kernel) {
  for (Isa isa : all_levels()) {
    const std::string at = std::string(isa_name(isa));
    // Diagonal kernel [[1,0],[0,1]]: y = x[i][j] + x[i+1][j+1].
    expect_values(run_at(isa, "Conv", {kX3x3, f32({1, 1, 2, 2}, {1, 0, 0, 1})}, {}), {1, 1, 2, 2}, {6, 8, 12, 14}, at);
    // pads 1, strides 2, bias 0.5: windows {1}, {2,3}, {4,7}, {5,6,8,9}.
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2, f32({1}, {0.5f})},
                         {attr_ints("pads", {1, 1, 1, 1}), attr_ints("strides", {2, 2})}),
                  {1, 1, 2, 2}, {1.5f, 5.5f, 11.5f, 28.5f}, at);
    // SAME_UPPER: total pad 1 goes to the end; SAME_LOWER: to the beginning.
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2}, {attr_s("auto_pad", "SAME_UPPER")}), {1, 1, 3, 3},
                  {12, 16, 9, 24, 28, 15, 15, 17, 9}, at + " SAME_UPPER");
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2}, {attr_s("auto_pad", "SAME_LOWER")}), {1, 1, 3, 3},
                  {1, 3, 5, 5, 12, 16, 11, 24, 28}, at + " SAME_LOWER");
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2}, {attr_s("auto_pad", "VALID")}), {1, 1, 2, 2}, {12, 16, 24, 28},
                  at + " VALID");
    // Dilation 2: the 2x2 kernel spans 3x3 and reads the corners.
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2}, {attr_ints("dilations", {2, 2})}), {1, 1, 1, 1}, {20}, at);
    // kernel_shape given explicitly equals W's.
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2}, {attr_ints("kernel_shape", {2, 2})}), {1, 1, 2, 2},
                  {12, 16, 24, 28}, at);
  }
}

TEST(OpsConv, HandWorkedGroups1D) {
  for (Isa isa : all_levels()) {
    // 1-D, group 2: channel 0 scaled by 2, channel 1 by 10.
    expect_values(run_at(isa, "Conv", {f32({1, 2, 2}, {1, 2, 3, 4}), f32({2, 1, 1}, {2, 10})}, {attr_i("group", 2)}),
                  {1, 2, 2}, {2, 4, 30, 40}, std::string(isa_name(isa)));
    // Depthwise with channel multiplier 2: out channels 0,1 read input 0; 2,3 read input 1.
    expect_values(run_at(isa, "Conv", {f32({1, 2, 3}, {1, 2, 3, 4, 5, 6}), f32({4, 1, 2}, {1, 1, 1, -1, 0, 1, 2, 0})},
                         {attr_i("group", 2)}),
                  {1, 4, 2}, {3, 5, -1, -1, 5, 6, 8, 10}, std::string(isa_name(isa)));
  }
}

TEST(OpsConv, HandWorkedFusedActivation) {
  for (Isa isa : all_levels()) {
    const Tensor w = f32({1, 1, 2, 2}, {1, -1, -1, 1});  // y = x00 - x01 - x10 + x11 = 0 everywhere; add bias
    const Tensor b = f32({1}, {-2.f});
    expect_values(run_at(isa, "Conv", {kX3x3, w, b}, {attr_s("qforge.activation", "Relu")}), {1, 1, 2, 2}, {0, 0, 0, 0},
                  "relu");
    expect_values(run_at(isa, "Conv", {kX3x3, w, b},
                         {attr_s("qforge.activation", "LeakyRelu"), attr_f("qforge.activation_alpha", 0.5f)}),
                  {1, 1, 2, 2}, {-1, -1, -1, -1}, "leaky");
    expect_values(run_at(isa, "Conv", {kX3x3, kOnes2x2},
                         {attr_s("qforge.activation", "Clip"), attr_f("qforge.activation_min", 13.f),
                          attr_f("qforge.activation_max", 25.f)}),
                  {1, 1, 2, 2}, {13, 16, 24, 25}, "clip");
  }
}

TEST(OpsConvTranspose, HandWorked1D) {
  const Tensor x = f32({1, 1, 2}, {1, 2});
  const Tensor w = f32({1, 1, 3}, {1, 1, 1});
  // x0 covers outputs 0..2, x1 covers 2..4 (stride 2).
  expect_values(run_op("ConvTranspose", {x, w}, {attr_ints("strides", {2})})[0], {1, 1, 5}, {1, 1, 3, 2, 2}, "plain");
  expect_values(run_op("ConvTranspose", {x, w}, {attr_ints("strides", {2}), attr_ints("output_padding", {1})})[0],
                {1, 1, 6}, {1, 1, 3, 2, 2, 0}, "output_padding");
  expect_values(run_op("ConvTranspose", {x, w}, {attr_ints("strides", {2}), attr_ints("pads", {1, 1})})[0], {1, 1, 3},
                {1, 3, 2}, "pads");
  // output_shape 4: total padding 1, NOTSET puts the odd one at the beginning.
  expect_values(run_op("ConvTranspose", {x, w}, {attr_ints("strides", {2}), attr_ints("output_shape", {4})})[0],
                {1, 1, 4}, {1, 3, 2, 2}, "output_shape");
  // SAME_UPPER: output 2*2 = 4, total padding 1 at the end.
  expect_values(run_op("ConvTranspose", {x, w}, {attr_ints("strides", {2}), attr_s("auto_pad", "SAME_UPPER")})[0],
                {1, 1, 4}, {1, 1, 3, 2}, "SAME_UPPER");
  // Two output channels via group 1 (W [C=1, M=2, k]) and bias.
  expect_values(run_op("ConvTranspose", {x, f32({1, 2, 1}, {1, -1}), f32({2}, {10, 20})}, {})[0], {1, 2, 2},
                {11, 12, 19, 18}, "channels+bias");
  // 2-D: a 2x2 kernel of ones at stride 1 on a 1x1 input copies the input into a 2x2 output.
  expect_values(run_op("ConvTranspose", {f32({1, 1, 1, 1}, {3}), kOnes2x2}, {})[0], {1, 1, 2, 2}, {3, 3, 3, 3}, "2d");
}

TEST(OpsGemm, HandWorked) {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor at = f32({3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  const Tensor bt = f32({2, 3}, {1, 0, 1, 0, 1, 1});
  // A·B = [[4, 5], [10, 11]]
  for (Isa isa : all_levels()) {
    const std::string s(isa_name(isa));
    expect_values(run_at(isa, "Gemm", {a, b}, {}), {2, 2}, {4, 5, 10, 11}, s);
    expect_values(run_at(isa, "Gemm", {at, bt}, {attr_i("transA", 1), attr_i("transB", 1)}), {2, 2}, {4, 5, 10, 11}, s);
    // alpha 2, beta 0.5, C row [10, 20]: [[13, 20], [25, 32]]
    expect_values(run_at(isa, "Gemm", {a, b, f32({2}, {10, 20})}, {attr_f("alpha", 2), attr_f("beta", 0.5f)}), {2, 2},
                  {13, 20, 25, 32}, s + " row C");
    // C column [[1], [2]], beta 1: [[5, 6], [12, 13]]
    expect_values(run_at(isa, "Gemm", {a, b, f32({2, 1}, {1, 2})}, {}), {2, 2}, {5, 6, 12, 13}, s + " column C");
    // scalar C, per-column bias C [1, 2]
    expect_values(run_at(isa, "Gemm", {a, b, f32({}, {1})}, {}), {2, 2}, {5, 6, 11, 12}, s + " scalar C");
    expect_values(run_at(isa, "Gemm", {a, b, f32({1, 2}, {-4, -5})}, {attr_s("qforge.activation", "Relu")}), {2, 2},
                  {0, 0, 6, 6}, s + " bias + relu");
  }
}

TEST(OpsMatMul, HandWorkedRanks) {
  for (Isa isa : all_levels()) {
    const std::string s(isa_name(isa));
    expect_values(run_at(isa, "MatMul", {f32({3}, {1, 2, 3}), f32({3}, {4, 5, 6})}, {}), {}, {32}, s + " 1Dx1D");
    const Tensor m23 = f32({2, 3}, {1, 2, 3, 4, 5, 6});
    expect_values(run_at(isa, "MatMul", {f32({2}, {1, 2}), m23}, {}), {3}, {9, 12, 15}, s + " 1Dx2D");
    expect_values(run_at(isa, "MatMul", {m23, f32({3}, {1, 0, -1})}, {}), {2}, {-2, -2}, s + " 2Dx1D");
    expect_values(run_at(isa, "MatMulBias", {f32({2}, {1, 2}), m23, f32({3}, {1, 1, -20})},
                         {attr_s("qforge.activation", "Relu")}, "qforge"),
                  {3}, {10, 13, 0}, s + " MatMulBias");
  }
}

TEST(OpsMatMul, HandWorkedBatchBroadcast) {
  // A [2,1,2,2] x B [3,2,2] → [2,3,2,2]; expected by the numpy formula, summed here.
  const Tensor a = rand_tensor({2, 1, 2, 2}, 1), b = rand_tensor({3, 2, 2}, 2);
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 2; ++m)
        for (int n = 0; n < 2; ++n) {
          double acc = 0;
          for (int k = 0; k < 2; ++k) acc += a.data<float>()[i * 4 + m * 2 + k] * b.data<float>()[j * 4 + k * 2 + n];
          want.push_back(static_cast<float>(acc));
        }
  for (Isa isa : all_levels()) expect_values(run_at(isa, "MatMul", {a, b}, {}), {2, 3, 2, 2}, want, std::string(isa_name(isa)));
}

TEST(OpsLinear, RejectsBadShapes) {
  EXPECT_THROW(run_op("Conv", {kX3x3, f32({1, 2, 2, 2}, std::vector<float>(8, 1))}), InputError);  // channels
  EXPECT_THROW(run_op("Conv", {kX3x3, kOnes2x2}, {attr_ints("kernel_shape", {3, 3})}), InputError);
  EXPECT_THROW(run_op("Conv", {kX3x3, kOnes2x2}, {attr_ints("strides", {1})}), InputError);
  EXPECT_THROW(run_op("Conv", {kX3x3, f32({1, 1, 4, 4}, std::vector<float>(16, 1))}), InputError);  // too small
  EXPECT_THROW(run_op("Conv", {kX3x3, kOnes2x2}, {attr_s("auto_pad", "SAME")}), InputError);
  EXPECT_THROW(run_op("Gemm", {f32({2, 3}, std::vector<float>(6, 1)), f32({2, 3}, std::vector<float>(6, 1))}), InputError);
  EXPECT_THROW(run_op("MatMul", {f32({2, 3}, std::vector<float>(6, 1)), f32({2, 3}, std::vector<float>(6, 1))}), InputError);
  EXPECT_THROW(run_op("MatMul", {rand_tensor({2, 2, 3}, 1), rand_tensor({3, 3, 2}, 2)}), InputError);  // batch 2 vs 3
  EXPECT_THROW(run_op("Gemm", {rand_tensor({2, 3}, 1), rand_tensor({3, 4}, 2), rand_tensor({3, 4}, 3)}), InputError);
}

// ---- SIMD levels vs the reference level -------------------------------------------------------

namespace {

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  const Diff d = diff(got, want);
  EXPECT_LE(d.nmse, kMaxNmse) << what;
  EXPECT_LE(d.max_rel, kMaxRel) << what;
}

void compare_levels(const std::string& op, const std::vector<Tensor>& in, const std::vector<ir::Attribute>& attrs,
                    const std::string& what, const std::string& domain = "") {
  const Tensor want = run_at(Isa::ref, op, in, attrs, domain);
  for (Isa isa : simd_levels()) expect_close(run_at(isa, op, in, attrs, domain), want, what + " @" + std::string(isa_name(isa)));
}

}  // namespace

TEST(OpsConv, SimdMatchesReferenceSweep) {
  std::mt19937 rng(42);
  auto pick = [&](std::initializer_list<int64_t> v) { return *(v.begin() + rng() % v.size()); };
  int done = 0;
  for (int iter = 0; done < 220 && iter < 4000; ++iter) {
    const int nd = static_cast<int>(pick({1, 2, 2, 2, 3}));
    const int64_t C = pick({1, 2, 3, 8, 17}), N = pick({1, 2});
    const int64_t mode = pick({0, 0, 1, 2});  // 0 group 1, 1 depthwise, 2 two groups
    const int64_t group = mode == 1 ? C : (mode == 2 && C % 2 == 0 ? 2 : 1);
    const int64_t M = group * pick({1, 2, 5, 16, 33}) / (mode == 1 ? 1 : 1);
    Shape xs{N, C}, ws{M, C / group};
    std::vector<int64_t> strides, dil, pads_b, pads_e, kernel;
    for (int i = 0; i < nd; ++i) {
      xs.push_back(pick({1, 2, 7, 16, 17, 31}));
      kernel.push_back(pick({1, 2, 3, 5}));
      strides.push_back(pick({1, 1, 2, 3}));
      dil.push_back(pick({1, 1, 2}));
      pads_b.push_back(pick({0, 1, 2}));
      pads_e.push_back(pick({0, 1, 2}));
    }
    for (int64_t k : kernel) ws.push_back(k);
    std::vector<ir::Attribute> attrs{attr_i("group", group), attr_ints("strides", strides), attr_ints("dilations", dil)};
    const int64_t ap = pick({0, 0, 0, 1, 2, 3});
    if (ap == 0) {
      std::vector<int64_t> pads = pads_b;
      pads.insert(pads.end(), pads_e.begin(), pads_e.end());
      attrs.push_back(attr_ints("pads", pads));
    } else {
      attrs.push_back(attr_s("auto_pad", ap == 1 ? "SAME_UPPER" : ap == 2 ? "SAME_LOWER" : "VALID"));
    }
    const int64_t act = pick({0, 1, 2, 3});
    if (act == 1) attrs.push_back(attr_s("qforge.activation", "Relu"));
    if (act == 2) {
      attrs.push_back(attr_s("qforge.activation", "Clip"));
      attrs.push_back(attr_f("qforge.activation_min", -0.25f));
      attrs.push_back(attr_f("qforge.activation_max", 0.5f));
    }
    if (act == 3) attrs.push_back(attr_s("qforge.activation", "LeakyRelu"));
    const Tensor x = rand_tensor(xs, static_cast<uint32_t>(iter));
    const Tensor w = rand_tensor(ws, static_cast<uint32_t>(iter + 1));
    std::vector<Tensor> in{x, w};
    if (iter % 2) in.push_back(rand_tensor({M}, static_cast<uint32_t>(iter + 2)));
    try {
      IsaScope s(Isa::ref);
      run_op("Conv", in, attrs);
    } catch (const InputError&) {
      continue;  // window larger than the padded input: not a valid case
    }
    compare_levels("Conv", in, attrs, "Conv case " + std::to_string(iter) + " x" + shape_str(xs) + " w" + shape_str(ws));
    ++done;
  }
  EXPECT_GE(done, 200);
}

TEST(OpsConv, PointwiseFewPositionsMatchesReference) {
  // 1x1 convs over few positions take the transposed product when W is constant (prepare).
  int i = 0;
  for (int64_t hw : {1, 2, 3, 5, 6, 7})
    for (int64_t c : {1, 3, 17, 64})
      for (int64_t m : {1, 5, 32, 33, 100}) {
        const std::vector<Tensor> in{rand_tensor({2, c, hw, hw}, static_cast<uint32_t>(i)),
                                     rand_tensor({m, c, 1, 1}, static_cast<uint32_t>(i + 1)),
                                     rand_tensor({m}, static_cast<uint32_t>(i + 2))};
        compare_levels("Conv", in, {attr_s("qforge.activation", "Relu")},
                       "pointwise c=" + std::to_string(c) + " m=" + std::to_string(m) + " hw=" + std::to_string(hw));
        ++i;
      }
}

TEST(OpsGemm, SimdMatchesReferenceSweep) {
  const std::vector<int64_t> sizes = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129, 255};
  int i = 0;
  for (int64_t M : sizes)
    for (int64_t N : sizes) {
      const int64_t K = sizes[static_cast<size_t>(i) % sizes.size()];
      const bool ta = i & 1, tb = i & 2;
      std::vector<ir::Attribute> attrs{attr_i("transA", ta), attr_i("transB", tb), attr_f("alpha", i % 3 ? 1.f : 0.5f),
                                       attr_f("beta", i % 5 ? 1.f : 2.f)};
      std::vector<Tensor> in{rand_tensor(ta ? Shape{K, M} : Shape{M, K}, static_cast<uint32_t>(i)),
                             rand_tensor(tb ? Shape{N, K} : Shape{K, N}, static_cast<uint32_t>(i + 1))};
      switch (i % 4) {
        case 1: in.push_back(rand_tensor({N}, static_cast<uint32_t>(i + 2))); break;
        case 2: in.push_back(rand_tensor({M, 1}, static_cast<uint32_t>(i + 2))); break;
        case 3: in.push_back(rand_tensor({M, N}, static_cast<uint32_t>(i + 2))); break;
        default: break;
      }
      compare_levels("Gemm", in, attrs, "Gemm M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
      ++i;
    }
}

TEST(OpsMatMul, SimdMatchesReferenceSweep) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{1, 128, 256}, {256, 768}}, {{7, 33}, {33, 129}}, {{3, 5, 17}, {17, 31}}, {{2, 4, 31, 16}, {2, 4, 16, 33}},
      {{2, 1, 15, 8}, {3, 8, 63}}, {{129}, {129, 7}}, {{4, 127, 3}, {3}}, {{1, 2, 3}, {5, 3, 2}},
      {{255, 16}, {1, 16, 17}}, {{8, 255, 63}, {63, 1}},
  };
  int i = 0;
  for (const auto& [as, bs] : cases) {
    const std::vector<Tensor> in{rand_tensor(as, static_cast<uint32_t>(i)), rand_tensor(bs, static_cast<uint32_t>(i + 1))};
    compare_levels("MatMul", in, {}, "MatMul " + shape_str(as) + " x " + shape_str(bs));
    if (bs.size() >= 2) {
      std::vector<Tensor> inb = in;
      inb.push_back(rand_tensor({bs.back()}, static_cast<uint32_t>(i + 2)));
      compare_levels("MatMulBias", inb, {attr_s("qforge.activation", "Relu")}, "MatMulBias " + shape_str(as), "qforge");
    }
    ++i;
  }
}
