// Channels-last INT8 depthwise convolution (runtime/kernels/qconv_dw_nhwc.h):
//  1. the NHWC reference (the spec) equals the NCHW reference qconv_u8s8__ref on the transposed input
//     and output — an independent check of the spec — for u8 / s8 / s32 / f32 outputs, 2-D, 1-D and 3-D;
//  2. every kernel of the table this CPU runs equals the NHWC reference bit for bit over a sweep:
//     C in {1, 3, 8, 15, 16, 17, 31, 32, 33, 64, 100, 256} × 16 geometries (3×3, 5×5, 1×3; strides 1, 2
//     and mixed; dilations 1, 2; asymmetric pads incl. 0 and pads wider than the input; H, W in
//     {1, 2, 5, 7, 14, 28}; batch 1 and 3), each with two of the 24 combinations of x_zp {0, 128, 255} ×
//     output {u8, s8} × clamp {off, on} × threads {1, 2}, so every combination meets every C; plus
//     biases at the int32 limits (the seed's wrapping add).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/qconv_dw_nhwc.h"
#include "runtime/kernels/reference/qconv_dw_nhwc_ref.h"
#include "runtime/kernels/reference/qconv_ref.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

struct Geo {
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, h, w;
};

// Output extents from ONNX's formula; every entry below has out >= 1.
ConvGeom geom(const Geo& q, int64_t n, int64_t c) {
  ConvGeom g;
  g.batch = n, g.in_channels = g.out_channels = g.group = c;
  g.in[1] = q.h, g.in[2] = q.w, g.kernel[1] = q.kh, g.kernel[2] = q.kw;
  g.stride[1] = q.sh, g.stride[2] = q.sw, g.dilation[1] = q.dh, g.dilation[2] = q.dw;
  g.pad_begin[1] = q.pt, g.pad_begin[2] = q.pl, g.pad_end[1] = q.pb, g.pad_end[2] = q.pr;
  for (int i = 1; i < 3; ++i)
    g.out[i] = (g.in[i] + g.pad_begin[i] + g.pad_end[i] - (g.kernel[i] - 1) * g.dilation[i] - 1) / g.stride[i] + 1;
  return g;
}

const std::vector<Geo> kGeos = {
    // kh kw sh sw dh dw pt pl pb pr  h   w
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 28, 28},  // MobileNet block 1
    {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 28, 28},  // MobileNet block 2
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 14, 14},
    {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 14, 14},
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7, 7},
    {3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 7, 5},    // no padding
    {3, 3, 2, 2, 2, 2, 0, 1, 2, 1, 14, 7},   // dilation 2, asymmetric pads
    {3, 3, 1, 2, 2, 1, 2, 0, 1, 3, 5, 2},    // mixed strides and dilations, W = 2
    {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 1×1 input
    {3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 2, 2},
    {5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 7, 7},
    {5, 5, 2, 2, 1, 1, 1, 2, 0, 2, 14, 5},
    {5, 5, 1, 1, 2, 2, 4, 4, 4, 4, 5, 5},    // pads wider than the input
    {1, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1, 28},   // 1-D
    {1, 3, 2, 2, 1, 2, 0, 0, 0, 2, 2, 7},
    {3, 3, 2, 1, 1, 1, 0, 2, 1, 0, 7, 7},
};

const int64_t kChannels[] = {1, 3, 8, 15, 16, 17, 31, 32, 33, 64, 100, 256};

struct Data {
  std::vector<uint8_t> x;  // NHWC (or NCHW, see to_nchw)
  std::vector<int8_t> w;   // [C][kH][kW]
  std::vector<int32_t> bias;
  std::vector<float> scale;
};

Data make_data(const ConvGeom& g, uint32_t seed, bool extreme_bias = false) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> ux(0, 255), uw(-128, 127), ub(-20000, 20000);
  std::uniform_real_distribution<float> us(0.5f, 2.f);
  Data d;
  d.x.resize(static_cast<size_t>(g.batch * g.in_channels * g.in_plane()));
  d.w.resize(static_cast<size_t>(g.in_channels * g.kernel_size()));
  for (auto& v : d.x) v = static_cast<uint8_t>(ux(rng));
  for (auto& v : d.w) v = static_cast<int8_t>(uw(rng));
  const float k = static_cast<float>(g.kernel_size());
  for (int64_t c = 0; c < g.in_channels; ++c) {
    int32_t b = ub(rng);
    if (extreme_bias) b = c % 2 ? std::numeric_limits<int32_t>::max() - c : std::numeric_limits<int32_t>::min() + c;
    d.bias.push_back(b);
    d.scale.push_back(200.f / (128.f * 128.f * std::sqrt(k)) * us(rng));
  }
  return d;
}

QgemmOutputStage stage(const Data& d, QgemmOut type, bool clamp) {
  QgemmOutputStage o;
  o.type = type;
  o.bias = d.bias.data();
  o.scale = d.scale.data();
  if (type == QgemmOut::u8) o.zero_point = 121, o.qmin = clamp ? 121 : 0, o.qmax = clamp ? 250 : 255;
  if (type == QgemmOut::s8) o.zero_point = -7, o.qmin = clamp ? -7 : -128, o.qmax = clamp ? 90 : 127;
  return o;
}

size_t esz(QgemmOut t) { return t == QgemmOut::u8 || t == QgemmOut::s8 ? 1 : 4; }

// [N][P][C] ↔ [N][C][P], elements of `e` bytes.
std::vector<uint8_t> swap_last(const std::vector<uint8_t>& v, int64_t n, int64_t a, int64_t b, size_t e) {
  std::vector<uint8_t> r(v.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < a; ++p)
      for (int64_t q = 0; q < b; ++q)
        std::memcpy(&r[((i * b + q) * a + p) * e], &v[((i * a + p) * b + q) * e], e);
  return r;
}

std::string first_mismatch(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  if (got.size() != want.size()) return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i])
      return "byte " + std::to_string(i) + " got " + std::to_string(got[i]) + " want " + std::to_string(want[i]);
  return "";
}

std::string describe(const ConvGeom& g) {
  char s[200];
  std::snprintf(s, sizeof s, "N%lld C%lld %lldx%lld k%lldx%lld s%lld,%lld d%lld,%lld pads %lld,%lld,%lld,%lld",
                (long long)g.batch, (long long)g.in_channels, (long long)g.in[1], (long long)g.in[2],
                (long long)g.kernel[1], (long long)g.kernel[2], (long long)g.stride[1], (long long)g.stride[2],
                (long long)g.dilation[1], (long long)g.dilation[2], (long long)g.pad_begin[1],
                (long long)g.pad_begin[2], (long long)g.pad_end[1], (long long)g.pad_end[2]);
  return s;
}

TEST(QconvDwNhwcRef, EqualsNchwReferenceOnTransposedTensors) {
  struct Case {
    Geo geo;
    int64_t n, c, depth, kd;
  };
  const std::vector<Case> cases = {
      {kGeos[0], 2, 3, 1, 1}, {kGeos[6], 1, 17, 1, 1}, {kGeos[7], 3, 5, 1, 1},
      {kGeos[12], 1, 4, 1, 1}, {kGeos[13], 2, 9, 1, 1}, {kGeos[4], 1, 2, 4, 3},  // 3-D
  };
  int ci = 0;
  for (const Case& cs : cases) {
    ConvGeom g = geom(cs.geo, cs.n, cs.c);
    g.in[0] = cs.depth, g.kernel[0] = cs.kd, g.pad_begin[0] = g.pad_end[0] = cs.kd / 2;
    g.out[0] = g.in[0] + 2 * (cs.kd / 2) - cs.kd + 1;
    const Data d = make_data(g, static_cast<uint32_t>(++ci));
    const std::vector<uint8_t> x_nchw = swap_last(d.x, g.batch, g.in_plane(), g.in_channels, 1);
    for (uint8_t zp : {0, 77, 255})
      for (QgemmOut type : {QgemmOut::u8, QgemmOut::s8, QgemmOut::s32, QgemmOut::f32}) {
        const QgemmOutputStage o = stage(d, type, zp == 77);
        const size_t bytes = static_cast<size_t>(g.batch * g.out_channels * g.out_plane()) * esz(type);
        std::vector<uint8_t> want(bytes), got(bytes, 0xAB);
        qconv_u8s8__ref(g, x_nchw.data(), zp, d.w.data(), o, want.data());
        qconv_dw_nhwc_u8s8__ref(g, d.x.data(), zp, d.w.data(), o, got.data());
        const std::string mm = first_mismatch(swap_last(got, g.batch, g.out_plane(), g.out_channels, esz(type)), want);
        EXPECT_EQ(mm, "") << describe(g) << " depth " << g.in[0] << " zp " << int(zp) << " type " << int(type);
      }
  }
}

TEST(QconvDwNhwcRef, HandComputedCase) {
  // x 1×2×2×2 NHWC: channel 0 = [[10, 20], [30, 40]], channel 1 = [[1, 2], [3, 4]]; zp 10; 3×3, pad 1;
  // w channel 0 all 1 (center 2), channel 1 all −1; s32 out with bias {5, 0}.
  ConvGeom g = geom({3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2}, 1, 2);
  const uint8_t x[] = {10, 1, 20, 2, 30, 3, 40, 4};
  int8_t w[18];
  for (int i = 0; i < 9; ++i) w[i] = 1, w[9 + i] = -1;
  w[4] = 2;
  const int32_t bias[] = {5, 0};
  QgemmOutputStage o;
  o.type = QgemmOut::s32;
  o.bias = bias;
  int32_t y[8];
  qconv_dw_nhwc_u8s8__ref(g, x, 10, w, o, y);
  // channel 0: x − zp = [[0, 10], [20, 30]], every output sees all four, its own twice, + 5.
  // channel 1: x − zp = [[−9, −8], [−7, −6]] sums to −30, times −1.
  const int32_t want[] = {65, 30, 75, 30, 85, 30, 95, 30};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[i], want[i]) << i;
}

struct Combo {
  uint8_t zp;
  QgemmOut type;
  bool clamp;
  int threads;
};

Combo combo(int i) {  // i in [0, 24)
  const uint8_t zps[] = {0, 128, 255};
  return {zps[i % 3], (i / 3) % 2 ? QgemmOut::s8 : QgemmOut::u8, (i / 6) % 2 == 1, (i / 12) % 2 ? 2 : 1};
}

void check_kernels(const ConvGeom& g, const Data& d, const Combo& cb, const std::string& what) {
  const QgemmOutputStage o = stage(d, cb.type, cb.clamp);
  ASSERT_TRUE(qconv_dw_nhwc_applies(g, o)) << what;
  std::vector<uint8_t> want(static_cast<size_t>(g.batch * g.out_plane() * g.in_channels));
  qconv_dw_nhwc_u8s8__ref(g, d.x.data(), cb.zp, d.w.data(), o, want.data());
  for (const auto& k : qconv_dw_nhwc_kernels()) {
    linear_test::IsaScope s(k.isa);
    if (s.got() != k.isa) continue;
    const QconvDwNhwcWeights pw = pack_qconv_dw_nhwc(k, g, d.w.data());
    std::vector<uint8_t> y(want.size(), 0xAB);
    qconv_dw_nhwc_u8s8(k, g, d.x.data(), cb.zp, pw, o, y.data(), cb.threads);
    const std::string mm = first_mismatch(y, want);
    EXPECT_EQ(mm, "") << k.name << " " << what << " zp " << int(cb.zp) << " type " << int(cb.type) << " clamp "
                      << cb.clamp << " threads " << cb.threads;
  }
}

TEST(QconvDwNhwc, EveryKernelEqualsReferenceOverSweep) {
  int runs = 0;
  for (size_t ci = 0; ci < std::size(kChannels); ++ci)
    for (size_t gi = 0; gi < kGeos.size(); ++gi) {
      const ConvGeom g = geom(kGeos[gi], (ci + gi) % 2 ? 3 : 1, kChannels[ci]);
      const Data d = make_data(g, static_cast<uint32_t>(ci * 100 + gi));
      for (int j = 0; j < 2; ++j) {
        check_kernels(g, d, combo(static_cast<int>((ci * 2 + j * 12 + gi) % 24)), describe(g));
        ++runs;
      }
    }
  EXPECT_EQ(runs, 12 * 16 * 2);
}

TEST(QconvDwNhwc, BiasAtInt32LimitsWrapsLikeReference) {
  for (int64_t c : {17, 64}) {
    const ConvGeom g = geom(kGeos[6], 2, c);
    const Data d = make_data(g, 7, true);
    for (int i : {1, 2, 3, 4}) check_kernels(g, d, combo(i), describe(g));
  }
}

TEST(QconvDwNhwc, AppliesOnlyToTwoDimensionalDepthwiseInt8) {
  const Data d = make_data(geom(kGeos[0], 1, 4), 1);
  const QgemmOutputStage u8 = stage(d, QgemmOut::u8, false), s32 = stage(d, QgemmOut::s32, false);
  ConvGeom g = geom(kGeos[0], 1, 4);
  EXPECT_TRUE(qconv_dw_nhwc_applies(g, u8));
  EXPECT_FALSE(qconv_dw_nhwc_applies(g, s32));
  ConvGeom dense = g;
  dense.group = 1;
  EXPECT_FALSE(qconv_dw_nhwc_applies(dense, u8));
  ConvGeom deep = g;
  deep.in[0] = deep.kernel[0] = 2;
  EXPECT_FALSE(qconv_dw_nhwc_applies(deep, u8));
  QgemmOutputStage bad_zp = u8;
  bad_zp.zero_point = 300;
  EXPECT_FALSE(qconv_dw_nhwc_applies(g, bad_zp));
}

TEST(QconvDwNhwc, EveryIsaLevelIsListed) {
  ASSERT_GE(qconv_dw_nhwc_kernels().size(), 1u);
  EXPECT_EQ(qconv_dw_nhwc_kernels()[0].isa, Isa::ref);
  for (size_t i = 1; i < qconv_dw_nhwc_kernels().size(); ++i)
    EXPECT_LT(qconv_dw_nhwc_kernels()[i - 1].isa, qconv_dw_nhwc_kernels()[i].isa);
  EXPECT_EQ(&qconv_dw_nhwc_kernel(Isa::ref), &qconv_dw_nhwc_kernels()[0]);
}

}  // namespace
