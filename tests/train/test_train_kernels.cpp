// The fast Conv backward kernels (train/kernels/conv_grad.h) against the spec conv_grad_f32__ref
// (plain loops, double accumulation) on odd shapes: every SGEMM kernel of the table for the GEMM
// path, the depthwise path at every ISA level, and bit-identical results for a repeated call at
// one thread count.
// Bound: relative L2 error 1e-5 per gradient (float32 sums of at most a few thousand products).
// Also the BatchNormalization channel loops of every ISA, and training-step determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "train/arch.h"
#include "train/kernels/bn_train.h"
#include "train/optim.h"
#include "train/kernels/conv_grad.h"
#include "train_test_util.h"

namespace qforge {
namespace {

using runtime::ConvGeom;
using train::ConvGradOut;

struct Case {
  std::string name;
  int64_t n, c, m, group;
  int64_t in[3], kernel[3], stride[3], dilation[3], pb[3], pe[3];
};

ConvGeom geom(const Case& k) {
  ConvGeom g;
  g.batch = k.n, g.in_channels = k.c, g.out_channels = k.m, g.group = k.group;
  for (int i = 0; i < 3; ++i) {
    g.in[i] = k.in[i], g.kernel[i] = k.kernel[i], g.stride[i] = k.stride[i], g.dilation[i] = k.dilation[i];
    g.pad_begin[i] = k.pb[i], g.pad_end[i] = k.pe[i];
    g.out[i] = (k.in[i] + k.pb[i] + k.pe[i] - k.dilation[i] * (k.kernel[i] - 1) - 1) / k.stride[i] + 1;
  }
  return g;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
  double d = 0, r = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - ref[i]) * double(a[i] - ref[i]), r += double(ref[i]) * ref[i];
  return std::sqrt(d) / std::max(std::sqrt(r), 1e-12);
}

struct Grads {
  std::vector<float> dx, dw, db;
  ConvGradOut out() { return {dx.data(), dw.data(), db.data()}; }
};

Grads fresh(const ConvGeom& g) {
  // NaN-filled: the kernels must overwrite every element.
  return {std::vector<float>(static_cast<size_t>(g.batch * g.in_channels * g.in_plane()), NAN),
          std::vector<float>(static_cast<size_t>(g.out_channels * (g.in_channels / g.group) * g.kernel_size()), NAN),
          std::vector<float>(static_cast<size_t>(g.out_channels), NAN)};
}

struct Data {
  ConvGeom g;
  Tensor x, w, dy;
  Grads ref;
};

Data make(const Case& k, uint32_t seed) {
  Data d;
  d.g = geom(k);
  const ConvGeom& g = d.g;
  d.x = train_test::rand_tensor({g.batch, g.in_channels, g.in_plane()}, seed);
  d.w = train_test::rand_tensor({g.out_channels, g.in_channels / g.group, g.kernel_size()}, seed + 1);
  d.dy = train_test::rand_tensor({g.batch, g.out_channels, g.out_plane()}, seed + 2);
  d.ref = fresh(g);
  train::conv_grad_f32__ref(g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), d.ref.out(), 1);
  return d;
}

void expect_close(const Grads& got, const Grads& ref, const std::string& what) {
  EXPECT_LE(rel_l2(got.dx, ref.dx), 1e-5) << what << " dX";
  EXPECT_LE(rel_l2(got.dw, ref.dw), 1e-5) << what << " dW";
  EXPECT_LE(rel_l2(got.db, ref.db), 1e-5) << what << " dB";
}

const std::vector<Case>& cases() {
  static const std::vector<Case> k = {
      // name, n, c, m, group, in, kernel, stride, dilation, pad begin, pad end
      {"3x3_pad1", 3, 3, 5, 1, {1, 7, 9}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"3x3_stride2_pad1", 2, 4, 7, 1, {1, 9, 8}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"pointwise", 3, 17, 33, 1, {1, 5, 7}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {"pointwise_stride2", 2, 6, 5, 1, {1, 7, 7}, {1, 1, 1}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {"grouped_dilated_asym", 2, 6, 9, 3, {1, 8, 7}, {1, 3, 2}, {1, 1, 2}, {1, 2, 1}, {0, 2, 0}, {0, 1, 1}},
      {"conv1d_pad", 3, 3, 4, 1, {1, 1, 15}, {1, 1, 5}, {1, 1, 2}, {1, 1, 1}, {0, 0, 2}, {0, 0, 1}},
      {"conv3d", 2, 2, 3, 1, {4, 5, 3}, {2, 3, 2}, {1, 2, 1}, {1, 1, 1}, {1, 1, 0}, {0, 1, 1}},
      {"depthwise_3x3_pad1", 3, 5, 5, 5, {1, 7, 9}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"depthwise_stride2", 2, 7, 7, 7, {1, 9, 10}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"depthwise_mult2_dilated", 2, 3, 6, 3, {1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 1}, {0, 1, 2}},
      {"depthwise_big_plane", 2, 33, 33, 33, {1, 28, 28}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"depthwise_14x14", 2, 16, 16, 16, {1, 14, 14}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"single_channel_stem", 3, 1, 6, 1, {1, 11, 13}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
      {"wide_gemm", 2, 32, 64, 1, {1, 14, 14}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0, 1, 1}},
  };
  return k;
}

TEST(TrainConvGradKernel, GemmMatchesReferenceForEverySgemmKernel) {
  uint32_t seed = 100;
  for (const Case& k : cases()) {
    const Data d = make(k, seed += 3);
    for (const auto& kern : runtime::sgemm_kernels()) {
      if (kern.isa > active_isa()) continue;
      for (int threads : {1, 3}) {
        Grads got = fresh(d.g);
        train::conv_grad_f32__gemm(kern, d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), got.out(),
                                   threads);
        expect_close(got, d.ref, k.name + " " + std::string(kern.name) + " threads " + std::to_string(threads));
      }
    }
  }
}

TEST(TrainConvGradKernel, DepthwiseMatchesReference) {
  uint32_t seed = 300;
  int ran = 0;
  for (const Case& k : cases()) {
    const Data d = make(k, seed += 3);
    if (!train::conv_grad_dw_applies(d.g)) continue;
    ++ran;
    const Isa saved = active_isa();
    for (Isa isa : {Isa::ref, Isa::avx2, Isa::avx512}) {  // every plane kernel the CPU can run
      if (set_isa(isa) != isa) continue;
      for (int threads : {1, 2}) {
        Grads got = fresh(d.g);
        train::conv_grad_f32__dw(d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), got.out(), threads);
        expect_close(got, d.ref, k.name + " " + std::string(isa_name(isa)) + " threads " + std::to_string(threads));
      }
    }
    set_isa(saved);
  }
  EXPECT_EQ(ran, 6);
}

TEST(TrainConvGradKernel, PartialOutputsAndDispatch) {
  const Data d = make(cases()[1], 500);
  Grads got = fresh(d.g);
  ConvGradOut only_w{nullptr, got.dw.data(), nullptr};
  train::conv_grad_f32(d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), only_w, 2);
  EXPECT_LE(rel_l2(got.dw, d.ref.dw), 1e-5);
  EXPECT_TRUE(std::isnan(got.dx[0]));  // not wanted: untouched
  ConvGradOut only_x{got.dx.data(), nullptr, nullptr};
  train::conv_grad_f32(d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), only_x, 2);
  EXPECT_LE(rel_l2(got.dx, d.ref.dx), 1e-5);
}

TEST(TrainConvGradKernel, RepeatableAtOneThreadCount) {
  for (const Case& k : {cases()[0], cases()[7], cases()[13]}) {
    const Data d = make(k, 700);
    Grads a = fresh(d.g), b = fresh(d.g);
    train::conv_grad_f32(d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), a.out(), 2);
    train::conv_grad_f32(d.g, d.x.data<float>(), d.w.data<float>(), d.dy.data<float>(), b.out(), 2);
    EXPECT_EQ(a.dx, b.dx) << k.name;
    EXPECT_EQ(a.dw, b.dw) << k.name;
    EXPECT_EQ(a.db, b.db) << k.name;
  }
}

// The BatchNormalization channel loops of every ISA the CPU runs against double-precision sums of
// the same formulas (bn_train.h), on odd plane sizes; relative error bound 1e-5.
TEST(TrainBnKernel, EveryIsaMatchesDoubleSums) {
  for (int64_t sp : {1, 7, 17, 33, 100}) {
    const int64_t n = 3, channels = 2;
    const Tensor x = train_test::rand_tensor({n, channels, sp}, static_cast<uint32_t>(800 + sp), 1.f, 3.f);
    const Tensor dy = train_test::rand_tensor({n, channels, sp}, static_cast<uint32_t>(900 + sp));
    const train::BnChannel ch{n, sp, channels * sp};
    const float* xp = x.data<float>() + sp;  // channel 1
    const float* gp = dy.data<float>() + sp;
    const float k = 1.5f, mu = 2.1f, a = 0.7f, b = -0.3f, fa = 1.1f, fb = -0.4f, fc = 0.05f;
    double e1 = 0, e2 = 0, esdy = 0, esdyx = 0;
    std::vector<double> ey, edx;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < sp; ++j) {
        const double v = xp[i * ch.stride + j], g = gp[i * ch.stride + j];
        e1 += v - k, e2 += (v - k) * (v - k), esdy += g, esdyx += g * (v - mu);
        ey.push_back(a * v + b);
        edx.push_back(fa * g + fb * (v - mu) + fc);
      }
    for (const train::BnTrainKernel* kern : train::bn_train_kernels()) {
      if (kern->isa > active_isa()) continue;
      const std::string what = std::string(kern->name) + " sp " + std::to_string(sp);
      double s1, s2, sdy, sdyx;
      kern->stats(ch, xp, k, &s1, &s2);
      kern->grad_sums(ch, xp, gp, mu, &sdy, &sdyx);
      EXPECT_NEAR(s1, e1, 1e-5 * std::max(1.0, std::fabs(e1))) << what;
      EXPECT_NEAR(s2, e2, 1e-5 * e2) << what;
      EXPECT_NEAR(sdy, esdy, 1e-5 * std::max(1.0, std::fabs(esdy))) << what;
      EXPECT_NEAR(sdyx, esdyx, 1e-5 * std::max(1.0, std::fabs(esdyx))) << what;
      std::vector<float> y(static_cast<size_t>(n * ch.stride), NAN), dx(y.size(), NAN);
      kern->affine(ch, xp, a, b, y.data());
      kern->grad_x(ch, xp, gp, mu, fa, fb, fc, dx.data());
      for (int64_t i = 0, e = 0; i < n; ++i)
        for (int64_t j = 0; j < sp; ++j, ++e) {
          EXPECT_NEAR(y[static_cast<size_t>(i * ch.stride + j)], ey[static_cast<size_t>(e)], 1e-5) << what;
          EXPECT_NEAR(dx[static_cast<size_t>(i * ch.stride + j)], edx[static_cast<size_t>(e)], 1e-5) << what;
        }
      EXPECT_TRUE(std::isnan(y[static_cast<size_t>(sp)]) || n * ch.stride <= sp) << what << ": wrote between planes";
    }
  }
}

// Whole training steps on the bundled architectures (small inputs): the same thread count gives
// bit-identical parameters; another thread count (other dW chunk sums) agrees to float rounding.
std::vector<std::vector<float>> train_steps(const std::string& arch, int threads) {
  train::ArchOptions ao;
  ao.height = 12, ao.width = 10, ao.seed = 3;
  train::TrainGraph tg(train::build_arch(arch, ao), {.threads = threads});
  train::AdamW opt;
  const Tensor x = train_test::rand_tensor({6, 1, 12, 10}, 11, 0.f, 1.f);
  const std::vector<int64_t> labels = {0, 3, 9, 1, 4, 4};
  for (int step = 0; step < 3; ++step) {
    tg.forward_backward(x, labels);
    opt.step(tg.parameters(), 0.01);
  }
  std::vector<std::vector<float>> params;
  for (const auto& p : tg.parameters()) params.push_back(p.value.to_f32_vector());
  return params;
}

TEST(TrainDeterminism, SameThreadCountIsBitIdentical) {
  for (const std::string arch : {"cnn", "mobilenet", "resnet"}) {
    const auto a = train_steps(arch, 2), b = train_steps(arch, 2), one = train_steps(arch, 1);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i], b[i]) << arch << " parameter " << i;
      EXPECT_LE(rel_l2(one[i], a[i]), 1e-4) << arch << " parameter " << i << ", 1 vs 2 threads";
    }
  }
}

}  // namespace
}  // namespace qforge
