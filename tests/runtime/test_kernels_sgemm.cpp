// Every SGEMM microkernel in the table (through the packing + blocking driver) and every depthwise
// plane kernel against the reference kernels, over shapes by rule: sizes around the tiles
// (1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129, 255), K past the K block, both A layouts,
// accumulation, per-row / per-column bias and each fused activation.
// Bound: normalised MSE <= 1e-10 (float accumulation in a different order; the reference sums in
// double) and max relative error <= 1e-3 (relative to max(|want|, 1e-2 · max|want|)).
#include <gtest/gtest.h>

#include "linear_test_util.h"
#include "runtime/kernels/dwconv.h"
#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/kernels/reference/gemm_ref.h"
#include "runtime/kernels/sgemm.h"

using namespace qforge;
using namespace qforge::runtime;
using namespace qforge::linear_test;

namespace {

constexpr double kMaxNmse = 1e-10, kMaxRel = 1e-3;
const std::vector<size_t> kSizes = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129, 255};

// Kernels of the table this CPU can run.
std::vector<const SgemmKernel*> runnable_sgemm() {
  std::vector<const SgemmKernel*> r;
  for (const auto& k : sgemm_kernels()) {
    IsaScope s(k.isa);
    if (s.got() == k.isa) r.push_back(&k);
  }
  return r;
}

struct Case {
  size_t M, N, K;
  bool trans_a = false, trans_b = false, accumulate = false;
  int bias = 0;  // 0 none, 1 per row, 2 per column
  FusedActivation act;
};

void check_case(const SgemmKernel& k, const Case& c, uint32_t seed, int threads) {
  const Tensor a = rand_tensor({static_cast<int64_t>(c.M * c.K)}, seed);
  const Tensor b = rand_tensor({static_cast<int64_t>(c.K * c.N)}, seed + 1);
  const Tensor c0 = rand_tensor({static_cast<int64_t>(c.M * c.N)}, seed + 2);
  const Tensor bias = rand_tensor({static_cast<int64_t>(std::max(c.M, c.N))}, seed + 3);
  const size_t a_rs = c.trans_a ? 1 : c.K, a_cs = c.trans_a ? c.M : 1;
  const size_t b_rs = c.trans_b ? 1 : c.N, b_cs = c.trans_b ? c.K : 1;
  // Reference: C = A·B (+ C0), + bias, activation.
  Tensor want = c0.clone();
  gemm_f32__ref(c.M, c.N, c.K, 1.f, a.data<float>(), a_rs, a_cs, b.data<float>(), b_rs, b_cs,
                c.accumulate ? 1.f : 0.f, want.data<float>(), c.N);
  for (size_t m = 0; m < c.M; ++m)
    for (size_t n = 0; n < c.N; ++n) {
      float& v = want.data<float>()[m * c.N + n];
      if (c.bias == 1) v += bias.data<float>()[m];
      if (c.bias == 2) v += bias.data<float>()[n];
      v = c.act.apply(v);
    }
  Tensor got = c0.clone();
  SgemmEpilogue ep;
  ep.bias = c.bias ? bias.data<float>() : nullptr;
  ep.bias_per_row = c.bias == 1;
  ep.act = c.act;
  sgemm(k, c.M, c.N, c.K, SgemmA{a.data<float>(), a_rs, a_cs}, b.data<float>(), b_rs, b_cs, got.data<float>(), c.N,
        c.accumulate, ep, threads);
  const Diff d = diff(got, want);
  EXPECT_LE(d.nmse, kMaxNmse) << k.name << " M=" << c.M << " N=" << c.N << " K=" << c.K << " tA=" << c.trans_a
                              << " tB=" << c.trans_b << " acc=" << c.accumulate << " bias=" << c.bias;
  EXPECT_LE(d.max_rel, kMaxRel) << k.name << " M=" << c.M << " N=" << c.N << " K=" << c.K;
}

FusedActivation relu() {
  FusedActivation a;
  a.kind = FusedActivation::Kind::clamp;
  a.lo = 0;
  return a;
}

}  // namespace

TEST(KernelsSgemm, TableStartsAtReferenceAndDispatchPicksBest) {
  ASSERT_FALSE(sgemm_kernels().empty());
  EXPECT_EQ(sgemm_kernels()[0].isa, Isa::ref);
  EXPECT_EQ(sgemm_kernel(Isa::ref).isa, Isa::ref);
  for (const SgemmKernel* k : runnable_sgemm()) EXPECT_EQ(sgemm_kernel(k->isa).isa, k->isa) << k->name;
}

TEST(KernelsSgemm, SweepMN) {
  for (const SgemmKernel* k : runnable_sgemm())
    for (size_t M : kSizes)
      for (size_t N : kSizes)
        for (size_t K : {size_t{1}, size_t{17}, size_t{300}})
          check_case(*k, Case{M, N, K}, static_cast<uint32_t>(M * 1000 + N * 10 + K), 2);
}

TEST(KernelsSgemm, SweepK) {
  for (const SgemmKernel* k : runnable_sgemm())
    for (size_t K : kSizes) {
      check_case(*k, Case{13, 35, K}, static_cast<uint32_t>(K), 1);
      check_case(*k, Case{33, 17, K + 1000}, static_cast<uint32_t>(K + 7), 2);  // several K blocks
    }
}

TEST(KernelsSgemm, LayoutsAccumulateBiasActivation) {
  FusedActivation clip;
  clip.kind = FusedActivation::Kind::clamp;
  clip.lo = -0.5f, clip.hi = 0.75f;
  FusedActivation leaky;
  leaky.kind = FusedActivation::Kind::leaky;
  leaky.alpha = 0.1f;
  for (const SgemmKernel* k : runnable_sgemm())
    for (size_t M : {size_t{1}, size_t{7}, size_t{31}, size_t{129}})
      for (size_t N : {size_t{3}, size_t{16}, size_t{33}, size_t{255}})
        for (int variant = 0; variant < 8; ++variant) {
          Case c{M, N, 37};
          c.trans_a = variant & 1;
          c.trans_b = variant & 2;
          c.accumulate = variant & 4;
          c.bias = variant % 3;
          c.act = variant % 4 == 0 ? FusedActivation{} : variant % 4 == 1 ? relu() : variant % 4 == 2 ? clip : leaky;
          check_case(*k, c, static_cast<uint32_t>(M * 31 + N * 7 + variant), 2);
        }
}

TEST(KernelsSgemm, ZeroK) {
  // K = 0: C = bias only (an empty sum), through the driver's single empty K block.
  for (const SgemmKernel* k : runnable_sgemm()) {
    Case c{5, 9, 0};
    c.bias = 2;
    check_case(*k, c, 5, 1);
  }
}

TEST(KernelsDwConv, PlaneKernelsMatchReference) {
  for (const auto& k : dwconv_kernels()) {
    IsaScope s(k.isa);
    if (s.got() != k.isa) continue;
    int idx = 0;
    for (int64_t H : {1, 3, 7, 17}) 
      for (int64_t W : {1, 2, 7, 15, 16, 17, 33, 63, 129})
        for (int64_t kk : {1, 3, 5})
          for (int64_t s_ : {1, 2, 3})
            for (int64_t d : {1, 2}) {
              ConvGeom g;
              g.batch = 2;
              g.in_channels = g.group = 3;
              g.out_channels = (idx % 2) ? 6 : 3;  // channel multiplier 1 or 2
              g.in[1] = H, g.in[2] = W;
              g.kernel[1] = kk, g.kernel[2] = kk;
              g.stride[1] = g.stride[2] = s_;
              g.dilation[1] = g.dilation[2] = d;
              g.pad_begin[1] = idx % 3, g.pad_begin[2] = (idx + 1) % 3;
              g.pad_end[1] = (idx + 2) % 3, g.pad_end[2] = idx % 2;
              bool ok = true;
              for (int ax = 1; ax < 3; ++ax) {
                const int64_t room = g.in[ax] + g.pad_begin[ax] + g.pad_end[ax] - ((kk - 1) * d + 1);
                if (room < 0) ok = false;
                else g.out[ax] = room / s_ + 1;
              }
              ++idx;
              if (!ok) continue;
              const Tensor x = rand_tensor({g.batch, 3, H, W}, static_cast<uint32_t>(idx));
              const Tensor w = rand_tensor({g.out_channels, 1, kk, kk}, static_cast<uint32_t>(idx + 1));
              const Tensor b = rand_tensor({g.out_channels}, static_cast<uint32_t>(idx + 2));
              Tensor want(DType::f32, {g.batch, g.out_channels, g.out[1], g.out[2]});
              Tensor got(DType::f32, want.shape());
              FusedActivation act = idx % 2 ? relu() : FusedActivation{};
              conv_f32__ref(g, x.data<float>(), w.data<float>(), b.data<float>(), want.data<float>());
              act.apply(want.data<float>(), static_cast<size_t>(want.numel()));
              ASSERT_TRUE(dwconv_applies(g));
              dwconv2d_f32(k, g, x.data<float>(), w.data<float>(), b.data<float>(), act, got.data<float>(), 2);
              const Diff df = diff(got, want);
              EXPECT_LE(df.nmse, kMaxNmse) << k.name << " H=" << H << " W=" << W << " k=" << kk << " s=" << s_ << " d=" << d;
              EXPECT_LE(df.max_rel, kMaxRel) << k.name << " H=" << H << " W=" << W << " k=" << kk;
            }
  }
}
