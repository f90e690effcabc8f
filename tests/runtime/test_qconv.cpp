// INT8 convolution kernels (runtime/kernels/qconv.h): the reference against a hand-computed case,
// then the im2col + qgemm path under every qgemm kernel and the direct depthwise kernels under every
// ISA against the reference, bit for bit, over geometries by rule (odd sizes, K up to 4096, pads,
// strides, dilations, groups, 1-D / 2-D / 3-D), input zero points 0, 1, 128, 255, u8 / s8 outputs
// with and without a clamp, threads 1 (and 2 for one combination per geometry and kernel).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/qconv.h"
#include "runtime/kernels/qconv_implicit.h"
#include "runtime/kernels/reference/qconv_ref.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

struct Geo {
  int64_t n, c, m, g, h, w, kh, kw, s, d, p;
  int64_t depth = 1, kd = 1;  // 3-D when depth > 1
};

ConvGeom geom(const Geo& q) {
  ConvGeom g;
  g.batch = q.n, g.in_channels = q.c, g.out_channels = q.m, g.group = q.g;
  g.in[0] = q.depth, g.in[1] = q.h, g.in[2] = q.w;
  g.kernel[0] = q.kd, g.kernel[1] = q.kh, g.kernel[2] = q.kw;
  for (int i = 1; i < 3; ++i) g.stride[i] = q.s, g.dilation[i] = q.d, g.pad_begin[i] = q.p, g.pad_end[i] = q.p;
  if (q.depth > 1) g.pad_begin[0] = g.pad_end[0] = q.p;
  for (int i = 0; i < 3; ++i)
    g.out[i] = (g.in[i] + g.pad_begin[i] + g.pad_end[i] - (g.kernel[i] - 1) * g.dilation[i] - 1) / g.stride[i] + 1;
  return g;
}

struct Data {
  std::vector<uint8_t> x;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  std::vector<float> scale;
};

Data make_data(const ConvGeom& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> ux(0, 255), uw(-128, 127), ub(-20000, 20000);
  std::uniform_real_distribution<float> us(0.5f, 2.f);
  Data d;
  d.x.resize(static_cast<size_t>(g.batch * g.in_channels * g.in_plane()));
  d.w.resize(static_cast<size_t>(g.out_channels * (g.in_channels / g.group) * g.kernel_size()));
  for (auto& v : d.x) v = static_cast<uint8_t>(ux(rng));
  for (auto& v : d.w) v = static_cast<int8_t>(uw(rng));
  const float k = static_cast<float>((g.in_channels / g.group) * g.kernel_size());
  for (int64_t m = 0; m < g.out_channels; ++m) {
    d.bias.push_back(ub(rng));
    d.scale.push_back(200.f / (128.f * 128.f * std::sqrt(k)) * us(rng));
  }
  return d;
}

QgemmOutputStage stage(const Data& d, QgemmOut type, bool clamp) {
  QgemmOutputStage o;
  o.type = type;
  o.bias = d.bias.data();
  o.scale = d.scale.data();
  if (type == QgemmOut::u8) o.zero_point = 121, o.qmin = clamp ? 121 : 0, o.qmax = 255;
  if (type == QgemmOut::s8) o.zero_point = -7, o.qmin = clamp ? -7 : -128, o.qmax = clamp ? 90 : 127;
  return o;
}

size_t esz(QgemmOut t) { return t == QgemmOut::u8 || t == QgemmOut::s8 ? 1 : 4; }

std::vector<uint8_t> run_ref(const ConvGeom& g, const Data& d, uint8_t zp, const QgemmOutputStage& o) {
  std::vector<uint8_t> y(static_cast<size_t>(g.batch * g.out_channels * g.out_plane()) * esz(o.type));
  qconv_u8s8__ref(g, d.x.data(), zp, d.w.data(), o, y.data());
  return y;
}

void expect_same(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) {
      ADD_FAILURE() << what << ": first mismatch at byte " << i << " got " << int(got[i]) << " want " << int(want[i]);
      return;
    }
}

const std::vector<Geo> kGeos = {
    // n  c   m   g   h   w  kh kw  s  d  p
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
    {2, 3, 5, 1, 7, 9, 3, 3, 1, 1, 1},
    {1, 8, 17, 1, 15, 13, 3, 3, 2, 1, 1},
    {3, 16, 33, 1, 8, 8, 1, 1, 1, 1, 0},      // pointwise
    {1, 7, 16, 1, 9, 11, 5, 3, 1, 2, 2},      // dilation, non-square kernel
    {2, 12, 18, 3, 10, 7, 3, 3, 1, 1, 1},     // grouped
    {1, 6, 6, 6, 12, 17, 3, 3, 2, 1, 1},      // depthwise stride 2
    {2, 5, 5, 5, 31, 33, 3, 3, 1, 1, 1},      // depthwise, rows past the vector width
    {1, 4, 4, 4, 9, 19, 5, 5, 3, 2, 4},       // depthwise stride 3, dilation 2, pad 4
    {1, 9, 9, 9, 1, 40, 1, 7, 1, 1, 3},       // 1-D depthwise
    {1, 256, 17, 1, 6, 5, 4, 4, 1, 1, 1},     // K = 4096
    {1, 3, 4, 1, 5, 6, 2, 2, 1, 1, 0, 4, 2},  // 3-D
    {2, 24, 20, 1, 18, 21, 3, 3, 1, 1, 1},    // rows and channels past a 16×16 transpose block
    {1, 40, 10, 1, 17, 7, 1, 1, 1, 1, 0},     // pointwise, plane transposed whole, narrow N
    // implicit GEMM (qconv_implicit.h: group 1, stride 1, dilation 1, kW·C a multiple of 4)
    {1, 4, 7, 1, 5, 6, 3, 3, 1, 1, 1},        // kW·C = 12, the padded columns dropped
    {3, 32, 64, 1, 14, 14, 3, 3, 1, 1, 1},    // the bundled CNN's layer shape, 3 images
    {1, 8, 33, 1, 9, 10, 5, 5, 1, 1, 2},      // 5×5, N past a tile
    {2, 12, 24, 1, 6, 7, 3, 1, 1, 1, 0},      // 3×1 without padding: tiles span output rows
    {1, 16, 13, 1, 7, 9, 1, 3, 1, 1, 1},      // 1×3
    {2, 1, 32, 1, 28, 28, 3, 3, 1, 1, 1},     // C = 1 (the bundled models' first layer): runs 3 → 4 bytes
    {1, 5, 9, 1, 6, 7, 3, 3, 1, 1, 0},        // kW·C = 15 → 16, no padding
};
constexpr size_t kFirstImplicit = 14;

class QconvSweep : public ::testing::TestWithParam<size_t> {};

TEST(QconvRef, HandComputedPaddedCase) {
  // x 1×1×2×2 = [[10, 20], [30, 40]], zp 10, w 3×3 all 1 except center 2, pad 1, out s32.
  ConvGeom g = geom({1, 1, 1, 1, 2, 2, 3, 3, 1, 1, 1});
  const uint8_t x[] = {10, 20, 30, 40};
  int8_t w[9];
  for (auto& v : w) v = 1;
  w[4] = 2;
  const int32_t bias = 5;
  QgemmOutputStage o;
  o.type = QgemmOut::s32;
  o.bias = &bias;
  int32_t y[4];
  qconv_u8s8__ref(g, x, 10, w, o, y);
  // x - zp = [[0, 10], [20, 30]]; each output sees all four inputs, its own twice; + bias 5.
  EXPECT_EQ(y[0], 60 + 0 + 5);
  EXPECT_EQ(y[1], 60 + 10 + 5);
  EXPECT_EQ(y[2], 60 + 20 + 5);
  EXPECT_EQ(y[3], 60 + 30 + 5);
}

TEST_P(QconvSweep, Im2colEqualsReference) {
  const ConvGeom g = geom(kGeos[GetParam()]);
  const Data d = make_data(g, static_cast<uint32_t>(GetParam() + 1));
  for (uint8_t zp : {0, 1, 128, 255})
    for (QgemmOut type : {QgemmOut::u8, QgemmOut::s8, QgemmOut::s32})
      for (bool clamp : {false, true}) {
        const QgemmOutputStage o = stage(d, type, clamp);
        const auto want = run_ref(g, d, zp, o);
        for (const auto& k : qgemm_kernels()) {
          linear_test::IsaScope s(k.isa);
          if (s.got() != k.isa) continue;
          const QconvPackedW pw = pack_qconv_weights(k, g, d.w.data());
          // Two threads for one combination per kernel (parallel regions are slow on a loaded machine).
          const int max_threads = zp == 128 && type == QgemmOut::u8 && !clamp ? 2 : 1;
          for (int threads = 1; threads <= max_threads; ++threads) {
            std::vector<uint8_t> y(want.size(), 0xAB);
            qconv_u8s8__im2col(k, g, d.x.data(), zp, pw, o, y.data(), threads);
            expect_same(y, want, std::string(k.name) + " zp=" + std::to_string(zp) + " type=" +
                                     std::to_string(int(type)) + " threads=" + std::to_string(threads));
          }
        }
      }
}

TEST(QconvDw, EveryKernelEqualsReferenceOnDepthwiseGeometries) {
  int checked = 0;
  for (size_t gi = 0; gi < kGeos.size(); ++gi) {
    const ConvGeom g = geom(kGeos[gi]);
    if (!qconv_is_depthwise(g)) continue;
    ++checked;
    const Data d = make_data(g, static_cast<uint32_t>(gi + 101));
    for (uint8_t zp : {0, 1, 128, 255})
      for (QgemmOut type : {QgemmOut::u8, QgemmOut::s8})
        for (bool clamp : {false, true}) {
          const QgemmOutputStage o = stage(d, type, clamp);
          ASSERT_TRUE(qconv_dw_applies(g, o));
          const auto want = run_ref(g, d, zp, o);
          for (const auto& k : qconv_dw_kernels()) {
            linear_test::IsaScope s(k.isa);
            if (s.got() != k.isa) continue;
            const int max_threads = zp == 128 && type == QgemmOut::u8 && !clamp ? 2 : 1;
            for (int threads = 1; threads <= max_threads; ++threads) {
              std::vector<uint8_t> y(want.size(), 0xAB);
              qconv_dw_u8s8(k, g, d.x.data(), zp, d.w.data(), o, y.data(), threads);
              expect_same(y, want, std::string(k.name) + " geometry " + std::to_string(gi) + " zp=" +
                                       std::to_string(zp) + " type=" + std::to_string(int(type)) +
                                       " threads=" + std::to_string(threads));
            }
          }
        }
  }
  EXPECT_EQ(checked, 4);
}

INSTANTIATE_TEST_SUITE_P(Geometries, QconvSweep, ::testing::Range<size_t>(0, 21));  // kGeos

TEST(QconvImplicit, TheSweepExercisesTheImplicitPath) {
  // The geometries from kFirstImplicit take the implicit GEMM on AVX-512 (so QconvSweep checks it
  // against the reference there); the others (groups, strides, dilations, 1×1, 3-D) do not.
  for (const auto& k : qgemm_kernels()) {
    if (!k.seg_fn) continue;
    for (size_t i = 0; i < kGeos.size(); ++i) {
      const ConvGeom g = geom(kGeos[i]);
      // Also the 3-channel, K = 4096 and 24-channel cases (runs of kW·C padded to a multiple of 4).
      const bool expect = i >= kFirstImplicit || i == 1 || i == 10 || i == 12;
      EXPECT_EQ(qconv_implicit_applies(k, g), expect) << k.name << " geometry " << i;
    }
  }
}

TEST(QconvDw, EveryIsaLevelIsListed) {
  // The table starts at the reference and is ordered by ISA (dispatch picks the last that fits).
  ASSERT_GE(qconv_dw_kernels().size(), 1u);
  EXPECT_EQ(qconv_dw_kernels()[0].isa, Isa::ref);
  for (size_t i = 1; i < qconv_dw_kernels().size(); ++i)
    EXPECT_LT(qconv_dw_kernels()[i - 1].isa, qconv_dw_kernels()[i].isa);
}

}  // namespace
