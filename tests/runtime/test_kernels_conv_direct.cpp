// The direct stride-1 convolution (conv2d_f32__avx512_direct) and the flat depthwise kernel against
// the reference convolution (the spec). Direct: spatial sizes around the 32-position block and its 16-lane
// halves (1, 2, 7, 14, 16, 17, 28, 33), kernels 1 / 3 / 5 with and without padding (asymmetric
// too), dilation 1 and 2, output channels around the 12-row tile (1, 12, 13, 25), batch 1 and 3
// on 1 and 2 threads (both parallel schemes), with bias and a fused activation.
// Bound as for the SGEMM kernels: normalised MSE <= 1e-10, max relative error <= 1e-3.
#include <gtest/gtest.h>

#include "linear_test_util.h"
#include "runtime/kernels/conv_direct.h"
#include "runtime/kernels/dwconv_flat.h"
#include "runtime/kernels/reference/conv_ref.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::linear_test;

namespace {

constexpr double kMaxNmse = 1e-10, kMaxRel = 1e-3;

FusedActivation relu() {
  FusedActivation a;
  a.kind = FusedActivation::Kind::clamp;
  a.lo = 0.f;
  return a;
}

}  // namespace

TEST(KernelsConvDirect, MatchesReference) {
  IsaScope s(Isa::avx512);
  if (s.got() != Isa::avx512) GTEST_SKIP() << "no AVX-512";
  int idx = 0, ran = 0;
  for (int64_t H : {1, 7, 14, 17, 28})
    for (int64_t W : {1, 2, 7, 14, 16, 17, 28, 33})
      for (int64_t kk : {1, 3, 5})
        for (int64_t d : {1, 2}) {
          ++idx;
          ConvGeom g;
          g.batch = idx % 2 ? 1 : 3;
          g.in_channels = 1 + idx % 5;
          const int64_t ms[] = {1, 12, 13, 25};
          g.out_channels = ms[idx % 4];
          g.in[1] = H, g.in[2] = W;
          g.kernel[1] = g.kernel[2] = kk;
          g.dilation[1] = g.dilation[2] = d;
          const int64_t half = (kk - 1) * d / 2;
          if (idx % 3 == 0) {  // asymmetric padding
            g.pad_begin[1] = half, g.pad_end[1] = (kk - 1) * d - half;
            g.pad_begin[2] = (kk - 1) * d - half, g.pad_end[2] = half;
          } else if (idx % 3 == 1) {  // "same"
            g.pad_begin[1] = g.pad_end[1] = g.pad_begin[2] = g.pad_end[2] = half;
          }  // else no padding
          bool ok = true;
          for (int ax = 1; ax < 3; ++ax) {
            const int64_t room = g.in[ax] + g.pad_begin[ax] + g.pad_end[ax] - ((kk - 1) * d + 1);
            if (room < 0) ok = false;
            else g.out[ax] = room + 1;
          }
          if (!ok) continue;
          const Tensor x = rand_tensor({g.batch, g.in_channels, H, W}, static_cast<uint32_t>(idx));
          const Tensor w = rand_tensor({g.out_channels, g.in_channels, kk, kk}, static_cast<uint32_t>(idx + 1));
          const Tensor b = rand_tensor({g.out_channels}, static_cast<uint32_t>(idx + 2));
          Tensor want(DType::f32, {g.batch, g.out_channels, g.out[1], g.out[2]});
          conv_f32__ref(g, x.data<float>(), w.data<float>(), b.data<float>(), want.data<float>());
          const FusedActivation act = idx % 2 ? relu() : FusedActivation{};
          act.apply(want.data<float>(), static_cast<size_t>(want.numel()));
          for (int threads : {1, 2}) {
            Tensor got(DType::f32, want.shape());
            conv2d_f32__avx512_direct(g, x.data<float>(), w.data<float>(), b.data<float>(), act, got.data<float>(),
                                      threads);
            const Diff df = diff(got, want);
            EXPECT_LE(df.nmse, kMaxNmse) << "H=" << H << " W=" << W << " k=" << kk << " d=" << d << " t=" << threads;
            EXPECT_LE(df.max_rel, kMaxRel) << "H=" << H << " W=" << W << " k=" << kk << " d=" << d << " t=" << threads;
            ++ran;
          }
        }
  EXPECT_GT(ran, 300);
}

TEST(KernelsConvDirect, AppliesToStride1Group1OnAvx512Only) {
  ConvGeom g;
  g.in_channels = 32, g.out_channels = 64;
  g.in[1] = g.in[2] = g.out[1] = g.out[2] = 28;
  g.kernel[1] = g.kernel[2] = 3;
  g.pad_begin[1] = g.pad_begin[2] = g.pad_end[1] = g.pad_end[2] = 1;
  EXPECT_TRUE(conv_direct_applies(Isa::avx512, g));
  EXPECT_FALSE(conv_direct_applies(Isa::avx2, g));
  ConvGeom s2 = g;
  s2.stride[1] = s2.stride[2] = 2;
  EXPECT_FALSE(conv_direct_applies(Isa::avx512, s2));
  ConvGeom grouped = g;
  grouped.group = 2;
  EXPECT_FALSE(conv_direct_applies(Isa::avx512, grouped));
  ConvGeom narrow = g;  // 2 of 6 computed columns dropped
  narrow.in[2] = narrow.out[2] = 4;
  EXPECT_FALSE(conv_direct_applies(Isa::avx512, narrow));
}

// The flat depthwise kernel (dwconv2d_f32__avx512_flat) against the reference: planes from 1 x 1
// to 33 x 33, kernels 1 / 3 / 5, strides 1 and 2, dilation 1 and 2, padding none / same /
// asymmetric, channel multiplier 1 and 2, batch 1 and 2, 1 and 2 threads.
TEST(KernelsDwConvFlat, MatchesReference) {
  IsaScope s(Isa::avx512);
  if (s.got() != Isa::avx512) GTEST_SKIP() << "no AVX-512";
  int idx = 0, ran = 0;
  for (int64_t H : {1, 3, 6, 12, 17})
    for (int64_t W : {1, 2, 6, 7, 12, 16, 17, 33})
      for (int64_t kk : {1, 3, 5})
        for (int64_t st : {1, 2})
          for (int64_t d : {1, 2}) {
            ++idx;
            ConvGeom g;
            g.batch = idx % 2 ? 1 : 2;
            g.in_channels = g.group = 3;
            g.out_channels = idx % 4 < 2 ? 3 : 6;
            g.in[1] = H, g.in[2] = W;
            g.kernel[1] = g.kernel[2] = kk;
            g.stride[1] = g.stride[2] = st;
            g.dilation[1] = g.dilation[2] = d;
            const int64_t half = (kk - 1) * d / 2;
            if (idx % 3 == 0) {
              g.pad_begin[1] = half, g.pad_end[1] = (kk - 1) * d - half;
              g.pad_begin[2] = (kk - 1) * d - half + 1, g.pad_end[2] = half;
            } else if (idx % 3 == 1) {
              g.pad_begin[1] = g.pad_end[1] = g.pad_begin[2] = g.pad_end[2] = half;
            }
            bool ok = true;
            for (int ax = 1; ax < 3; ++ax) {
              const int64_t room = g.in[ax] + g.pad_begin[ax] + g.pad_end[ax] - ((kk - 1) * d + 1);
              if (room < 0) ok = false;
              else g.out[ax] = room / st + 1;
            }
            if (!ok) continue;
            const Tensor x = rand_tensor({g.batch, 3, H, W}, static_cast<uint32_t>(idx));
            const Tensor w = rand_tensor({g.out_channels, 1, kk, kk}, static_cast<uint32_t>(idx + 1));
            const Tensor b = rand_tensor({g.out_channels}, static_cast<uint32_t>(idx + 2));
            Tensor want(DType::f32, {g.batch, g.out_channels, g.out[1], g.out[2]});
            conv_f32__ref(g, x.data<float>(), w.data<float>(), b.data<float>(), want.data<float>());
            const FusedActivation act = idx % 2 ? relu() : FusedActivation{};
            act.apply(want.data<float>(), static_cast<size_t>(want.numel()));
            for (int threads : {1, 2}) {
              Tensor got(DType::f32, want.shape());
              dwconv2d_f32__avx512_flat(g, x.data<float>(), w.data<float>(), b.data<float>(), act, got.data<float>(),
                                        threads);
              const Diff df = diff(got, want);
              EXPECT_LE(df.nmse, kMaxNmse) << "H=" << H << " W=" << W << " k=" << kk << " s=" << st << " d=" << d;
              EXPECT_LE(df.max_rel, kMaxRel) << "H=" << H << " W=" << W << " k=" << kk << " s=" << st << " d=" << d;
              ++ran;
            }
          }
  EXPECT_GT(ran, 300);
}

TEST(KernelsDwConvFlat, AppliesToShortStride1RowsOnAvx512Only) {
  ConvGeom g;
  g.in_channels = g.out_channels = g.group = 128;
  g.in[1] = g.in[2] = g.out[1] = g.out[2] = 12;
  g.kernel[1] = g.kernel[2] = 3;
  g.pad_begin[1] = g.pad_begin[2] = g.pad_end[1] = g.pad_end[2] = 1;
  EXPECT_TRUE(dwconv_flat_applies(Isa::avx512, g));
  EXPECT_FALSE(dwconv_flat_applies(Isa::avx2, g));
  ConvGeom s2 = g;
  s2.stride[1] = s2.stride[2] = 2;
  s2.out[1] = s2.out[2] = 6;
  EXPECT_FALSE(dwconv_flat_applies(Isa::avx512, s2));
  ConvGeom dense = g;
  dense.group = 1;
  EXPECT_FALSE(dwconv_flat_applies(Isa::avx512, dense));
}
