// INT8 GEMM: the reference against a naive int64 triple loop written here (with the output stage
// from quant::requantize_f32, the one definition of requantization), then every kernel of the table
// (packing + driver) against the reference, bit for bit, over shapes by rule: M, N around the tiles,
// K across the group of 4 and up to 4096, a_zp ∈ {0, 1, 128, 255}, full-range weights (−128..127),
// all-max inputs, per-channel scales, bias, Relu / ReLU6 clamps, s32 / f32 / u8 / s8 outputs,
// threads 1 and 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "linear_test_util.h"
#include "quant/requantize.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/qgemm_ref.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

const std::vector<size_t> kSizes = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129};
const std::vector<size_t> kKs = {1, 3, 4, 5, 16, 63, 64, 65, 255, 256, 1023, 4096};
const uint8_t kZps[] = {0, 1, 128, 255};

std::vector<const QgemmKernel*> runnable_qgemm() {
  std::vector<const QgemmKernel*> r;
  for (const auto& k : qgemm_kernels()) {
    linear_test::IsaScope s(k.isa);
    if (s.got() == k.isa) r.push_back(&k);
  }
  return r;
}

struct Problem {
  size_t M, N, K;
  uint8_t a_zp = 0;
  std::vector<uint8_t> a;
  std::vector<int8_t> b;  // [K][N] row-major
  std::vector<int32_t> bias;
  std::vector<float> scale, bias_f32;
};

// Random full-range data; scales sized so requantized outputs spread over (and past) the 8-bit range.
Problem make_problem(size_t M, size_t N, size_t K, uint8_t a_zp, uint32_t seed) {
  Problem p{M, N, K, a_zp, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> ua(0, 255), ub(-128, 127), ubias(-200000, 200000);
  std::uniform_real_distribution<float> us(0.5f, 2.f), uf(-3.f, 3.f);
  p.a.resize(M * K);
  p.b.resize(K * N);
  for (auto& v : p.a) v = static_cast<uint8_t>(ua(rng));
  for (auto& v : p.b) v = static_cast<int8_t>(ub(rng));
  const float base = 300.f / (128.f * 128.f * std::sqrt(static_cast<float>(K)));
  for (size_t n = 0; n < N; ++n) {
    p.bias.push_back(ubias(rng));
    p.scale.push_back(base * us(rng));
    p.bias_f32.push_back(uf(rng));
  }
  return p;
}

QgemmOutputStage stage(const Problem& p, QgemmOut type, int variant) {
  QgemmOutputStage o;
  o.type = type;
  o.bias = variant & 1 ? p.bias.data() : nullptr;
  o.scale = p.scale.data();
  o.bias_f32 = variant & 2 ? p.bias_f32.data() : nullptr;
  if (type == QgemmOut::u8) {
    o.zero_point = variant & 2 ? 0 : 117;
    o.qmin = variant & 4 ? o.zero_point : 0;  // Relu
    o.qmax = 255;
  } else if (type == QgemmOut::s8) {
    o.zero_point = variant & 2 ? -128 : 5;
    o.qmin = variant & 4 ? o.zero_point : -128;  // Relu
    o.qmax = variant & 4 ? std::min(127, o.zero_point + 60) : 127;  // ReLU6-like upper clamp
  }
  return o;
}

size_t elem_bytes(QgemmOut t) { return t == QgemmOut::u8 || t == QgemmOut::s8 ? 1 : 4; }

std::vector<std::byte> run_ref(const Problem& p, const QgemmOutputStage& o) {
  std::vector<std::byte> c(p.M * p.N * elem_bytes(o.type));
  qgemm_u8s8_s32__ref(p.M, p.N, p.K, p.a.data(), p.K, p.a_zp, p.b.data(), p.N, 1, o, c.data(), p.N);
  return c;
}

// Runs kernel k with the weights given row-major [K][N] (or transposed [N][K] when trans_b).
std::vector<std::byte> run_kernel(const QgemmKernel& k, const Problem& p, const QgemmOutputStage& o, int threads,
                                  bool trans_b) {
  QgemmPackedB pb;
  if (trans_b) {
    std::vector<int8_t> bt(p.K * p.N);
    for (size_t kk = 0; kk < p.K; ++kk)
      for (size_t n = 0; n < p.N; ++n) bt[n * p.K + kk] = p.b[kk * p.N + n];
    pb = pack_weights_s8(k, p.K, p.N, bt.data(), 1, p.K);
  } else {
    pb = pack_weights_s8(k, p.K, p.N, p.b.data(), p.N, 1);
  }
  std::vector<std::byte> c(p.M * p.N * elem_bytes(o.type), std::byte{0xAB});
  qgemm_u8s8(k, p.M, p.a.data(), p.K, p.a_zp, pb, o, c.data(), p.N, threads);
  return c;
}

void expect_same(const std::vector<std::byte>& got, const std::vector<std::byte>& want, const Problem& p,
                 QgemmOut type, const char* what) {
  if (got == want) return;
  const size_t es = elem_bytes(type);
  for (size_t i = 0; i < want.size(); i += es)
    if (std::memcmp(&got[i], &want[i], es) != 0) {
      int64_t g = 0, w = 0;
      std::memcpy(&g, &got[i], es);
      std::memcpy(&w, &want[i], es);
      ADD_FAILURE() << what << " M=" << p.M << " N=" << p.N << " K=" << p.K << " a_zp=" << int(p.a_zp)
                    << " out=" << int(type) << ": first mismatch at m=" << (i / es) / p.N << " n=" << (i / es) % p.N
                    << " got bits " << g << " want bits " << w;
      return;
    }
}

// Every runnable kernel, on 1 or 2 threads, equals the reference for this problem and output stage.
void check_all(const Problem& p, QgemmOut type, int variant, int threads, bool trans_b = false) {
  const QgemmOutputStage o = stage(p, type, variant);
  const auto want = run_ref(p, o);
  for (const QgemmKernel* k : runnable_qgemm()) {
    linear_test::IsaScope s(k->isa);
    expect_same(run_kernel(*k, p, o, threads, trans_b), want, p, type, std::string(k->name).c_str());
  }
}

// The naive spec, in int64 so it cannot overflow.
int64_t naive_acc(const Problem& p, size_t m, size_t n) {
  int64_t s = 0;
  for (size_t k = 0; k < p.K; ++k)
    s += (int64_t{p.a[m * p.K + k]} - p.a_zp) * int64_t{p.b[k * p.N + n]};
  return s;
}

}  // namespace

TEST(KernelsQgemm, TableStartsAtReferenceAndDispatchPicksBest) {
  ASSERT_FALSE(qgemm_kernels().empty());
  EXPECT_EQ(qgemm_kernels()[0].isa, Isa::ref);
  EXPECT_EQ(qgemm_kernel(Isa::ref).isa, Isa::ref);
  for (const QgemmKernel* k : runnable_qgemm()) EXPECT_EQ(qgemm_kernel(k->isa).isa, k->isa) << k->name;
}

// The tile is chosen by N: the fewest padded columns, ties to the widest tile (table lookup only, so
// this holds on any machine).
TEST(KernelsQgemm, DispatchByNPicksTheNarrowestPadding) {
  struct Case {
    size_t N, nr;
  };
  for (Case c : {Case{1, 16}, Case{8, 16}, Case{10, 16}, Case{16, 16}, Case{17, 32}, Case{32, 32}, Case{33, 16},
                 Case{48, 16}, Case{64, 64}, Case{96, 32}, Case{128, 64}, Case{256, 64}}) {
    const QgemmKernel& k = qgemm_kernel(Isa::avx512, c.N);
    EXPECT_EQ(k.isa, Isa::avx512) << c.N;
    EXPECT_EQ(k.nr, c.nr) << "N = " << c.N << ": " << k.name;
  }
  EXPECT_EQ(qgemm_kernel(Isa::avx512).nr, 64u);  // without N: the widest
  EXPECT_EQ(qgemm_kernel(Isa::avx2, 10).isa, Isa::avx2);
  EXPECT_EQ(qgemm_kernel(Isa::ref, 10).isa, Isa::ref);
}

// Each tile on the shapes that straddle its own NR and MR: N = NR ± 1, 2·NR + 1, M = 1, MR, MR + 1,
// 2·MR + 1, K not a multiple of 4 (and one that is), against the reference.
TEST(KernelsQgemm, EveryTileAroundItsOwnSize) {
  int i = 0;
  for (const QgemmKernel* k : runnable_qgemm())
    for (size_t N : {k->nr - 1, k->nr, k->nr + 1, 2 * k->nr + 1})
      for (size_t M : {size_t{1}, k->mr, k->mr + 1, 2 * k->mr + 1})
        for (size_t K : {size_t{1}, size_t{6}, size_t{37}, size_t{288}}) {
          const Problem p = make_problem(M, N, K, kZps[i % 4], static_cast<uint32_t>(i + 17));
          const QgemmOut type = i % 3 == 0 ? QgemmOut::s32 : i % 3 == 1 ? QgemmOut::u8 : QgemmOut::s8;
          const QgemmOutputStage o = stage(p, type, i % 8);
          linear_test::IsaScope s(k->isa);
          expect_same(run_kernel(*k, p, o, 1, i % 2 == 0), run_ref(p, o), p, type, std::string(k->name).c_str());
          ++i;
        }
}

TEST(KernelsQgemm, ReferenceMatchesNaiveInt64) {
  for (size_t K : {size_t{1}, size_t{5}, size_t{64}, size_t{1023}})
    for (uint8_t zp : kZps) {
      const Problem p = make_problem(7, 17, K, zp, static_cast<uint32_t>(K * 7 + zp));
      for (QgemmOut type : {QgemmOut::s32, QgemmOut::f32, QgemmOut::u8, QgemmOut::s8})
        for (int variant = 0; variant < 8; ++variant) {
          const QgemmOutputStage o = stage(p, type, variant);
          const auto c = run_ref(p, o);
          for (size_t m = 0; m < p.M; ++m)
            for (size_t n = 0; n < p.N; ++n) {
              const int64_t acc64 = naive_acc(p, m, n) + (o.bias ? o.bias[n] : 0);
              ASSERT_LT(std::llabs(acc64), int64_t{1} << 31);
              const int32_t acc = static_cast<int32_t>(acc64);
              const size_t i = m * p.N + n;
              switch (type) {
                case QgemmOut::s32: ASSERT_EQ(reinterpret_cast<const int32_t*>(c.data())[i], acc); break;
                case QgemmOut::f32: {
                  float want = static_cast<float>(acc) * p.scale[n];
                  if (o.bias_f32) want = want + p.bias_f32[n];
                  ASSERT_EQ(reinterpret_cast<const float*>(c.data())[i], want);
                  break;
                }
                case QgemmOut::u8:
                  ASSERT_EQ(int(reinterpret_cast<const uint8_t*>(c.data())[i]),
                            quant::requantize_f32(acc, p.scale[n], o.zero_point, o.qmin, o.qmax));
                  break;
                case QgemmOut::s8:
                  ASSERT_EQ(int(reinterpret_cast<const int8_t*>(c.data())[i]),
                            quant::requantize_f32(acc, p.scale[n], o.zero_point, o.qmin, o.qmax));
                  break;
              }
            }
        }
    }
}

TEST(KernelsQgemm, SweepMN) {
  const QgemmOut types[] = {QgemmOut::s32, QgemmOut::u8, QgemmOut::f32, QgemmOut::s8};
  int i = 0;
  for (size_t M : kSizes)
    for (size_t N : kSizes)
      for (size_t K : {size_t{3}, size_t{64}, size_t{65}}) {
        const Problem p = make_problem(M, N, K, kZps[i % 4], static_cast<uint32_t>(M * 10000 + N * 100 + K));
        check_all(p, types[(i / 4) % 4], i % 8, 1 + i % 2, i % 5 == 0);
        ++i;
      }
}

TEST(KernelsQgemm, SweepK) {
  int i = 0;
  for (size_t K : kKs)
    for (auto [M, N] : {std::pair<size_t, size_t>{1, 63}, {7, 17}, {33, 129}, {129, 8}}) {
      const Problem p = make_problem(M, N, K, kZps[i % 4], static_cast<uint32_t>(K * 31 + M));
      check_all(p, i % 2 ? QgemmOut::u8 : QgemmOut::s32, i % 8, 2 - i % 2);
      ++i;
    }
}

TEST(KernelsQgemm, OutputStagesZeroPointsThreads) {
  for (uint8_t zp : kZps)
    for (QgemmOut type : {QgemmOut::s32, QgemmOut::f32, QgemmOut::u8, QgemmOut::s8})
      for (int variant = 0; variant < 8; ++variant)
        for (int threads : {1, 2}) {
          const Problem p = make_problem(31, 129, 255, zp, static_cast<uint32_t>(zp + variant * 7));
          check_all(p, type, variant, threads, variant == 3);
        }
}

// All-max and all-min inputs at K = 4096: |acc| = 255 · 128 · 4096 = 133,693,440, 6% of int32.
TEST(KernelsQgemm, ExtremesAtK4096) {
  struct Fill {
    uint8_t a, zp;
    int8_t b;
  };
  for (Fill f : {Fill{255, 0, 127}, Fill{255, 0, -128}, Fill{0, 255, -128}, Fill{0, 255, 127}, Fill{255, 255, -128}})
    for (size_t M : {size_t{7}, size_t{33}}) {
      Problem p = make_problem(M, 65, 4096, f.zp, 1);
      std::fill(p.a.begin(), p.a.end(), f.a);
      std::fill(p.b.begin(), p.b.end(), f.b);
      const int64_t want = (int64_t{f.a} - f.zp) * f.b * 4096;
      const auto c = run_ref(p, stage(p, QgemmOut::s32, 0));
      for (size_t i = 0; i < p.M * p.N; ++i) ASSERT_EQ(reinterpret_cast<const int32_t*>(c.data())[i], want);
      for (QgemmOut type : {QgemmOut::s32, QgemmOut::f32, QgemmOut::u8, QgemmOut::s8}) check_all(p, type, 1, 2);
    }
}

// At the deepest reduction the kernels accept, K = kQgemmMaxK = 65536, the extremes reach
// |acc| = 255 · 128 · 65536 = 2,139,095,040 (the int32 bound of qgemm.h, 99.6% of 2^31 − 1): the
// reference equals the int64 value and every kernel (VPMADDWD on AVX2, VNNI) equals the reference.
TEST(KernelsQgemm, ExtremesAtMaxDepth) {
  struct Fill {
    uint8_t a, zp;
    int8_t b;
  };
  for (Fill f : {Fill{255, 0, -128}, Fill{0, 255, -128}, Fill{255, 0, 127}, Fill{0, 255, 127}}) {
    Problem p = make_problem(3, 17, kQgemmMaxK, f.zp, 2);
    std::fill(p.a.begin(), p.a.end(), f.a);
    std::fill(p.b.begin(), p.b.end(), f.b);
    const int64_t want = (int64_t{f.a} - f.zp) * f.b * int64_t{65536};
    ASSERT_LE(std::abs(want), int64_t{INT32_MAX});
    const auto c = run_ref(p, stage(p, QgemmOut::s32, 0));
    for (size_t i = 0; i < p.M * p.N; ++i) ASSERT_EQ(reinterpret_cast<const int32_t*>(c.data())[i], want);
    check_all(p, QgemmOut::s32, 0, 2);
  }
}
