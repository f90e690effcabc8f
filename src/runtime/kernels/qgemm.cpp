#include "runtime/kernels/qgemm.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/tensor.h"

namespace qforge::runtime {

namespace {

constexpr QgemmKernel kQgemmKernels[] = {
    {"qgemm_u8s8_s32__ref_4x16", qgemm_u8s8_s32__ref_4x16, Isa::ref, 4, 16},
    {"qgemm_u8s8_s32__avx2_4x8", qgemm_u8s8_s32__avx2_4x8, Isa::avx2, 4, 8},
    {"qgemm_u8s8_s32__avx512vnni_6x64", qgemm_u8s8_s32__avx512vnni_6x64, Isa::avx512, 6, 64,
     qgemm_seg_u8s8_s32__avx512vnni_6x64},
    {"qgemm_u8s8_s32__avx512vnni_12x32", qgemm_u8s8_s32__avx512vnni_12x32, Isa::avx512, 12, 32,
     qgemm_seg_u8s8_s32__avx512vnni_12x32},
    {"qgemm_u8s8_s32__avx512vnni_12x16", qgemm_u8s8_s32__avx512vnni_12x16, Isa::avx512, 12, 16,
     qgemm_seg_u8s8_s32__avx512vnni_12x16},
};

size_t out_bytes(QgemmOut t) { return t == QgemmOut::u8 || t == QgemmOut::s8 ? 1 : 4; }

// Single-threaded: rows [0, M) × panels [p0, p1). Each microkernel call runs the whole K: one packed
// panel holds ceil(K/4)·4·NR bytes (<= 256 KiB for K <= 4096, NR = 64) and stays in L2 while the row
// tiles stream over it, the MR rows of A (MR·K bytes) stay in L1, and the output stage runs once on
// the finished accumulators (no int32 round trip through memory). The row block bounds the A bytes
// swept per panel so they stay in L2 across panels.
void qgemm_block(const QgemmKernel& k, size_t M, const uint8_t* a, size_t lda, int32_t a_zp,
                 const QgemmPackedB& b, size_t p0, size_t p1, const QgemmOutputStage& out, std::byte* c,
                 size_t ldc) {
  const size_t esz = out_bytes(out.type), K = b.K;
  const size_t mc = std::max<size_t>(k.mr, (256 * 1024 / std::max<size_t>(K, 1)) / k.mr * k.mr);
  for (size_t m0 = 0; m0 < M; m0 += mc) {
    const size_t m1 = std::min(M, m0 + mc);
    for (size_t p = p0; p < p1; ++p) {
      const size_t n0 = p * k.nr, nr = std::min(k.nr, b.N - n0);
      const int8_t* bp = b.data + p * b.panel_bytes();
      for (size_t i = m0; i < m1; i += k.mr)
        k.fn(std::min(k.mr, m1 - i), nr, K, a + i * lda, lda, a_zp, bp, b.col_sums + n0, out,
             c + (i * ldc + n0) * esz, ldc, n0);
    }
  }
}

}  // namespace

std::span<const QgemmKernel> qgemm_kernels() { return kQgemmKernels; }

const QgemmKernel& qgemm_kernel(Isa isa, size_t N) {
  Isa top = Isa::ref;
  for (const auto& k : kQgemmKernels)
    if (k.isa <= isa && k.isa > top) top = k.isa;
  const QgemmKernel* best = nullptr;
  auto padded = [N](const QgemmKernel& k) { return (std::max<size_t>(N, 1) + k.nr - 1) / k.nr * k.nr; };
  for (const auto& k : kQgemmKernels) {
    if (k.isa != top) continue;
    if (!best || padded(k) < padded(*best) || (padded(k) == padded(*best) && k.nr > best->nr)) best = &k;
  }
  return *best;
}

const QgemmKernel& qgemm_kernel(Isa isa) { return qgemm_kernel(isa, size_t{1} << 30); }  // a multiple of every NR

// dst: [ceil(N/NR)][ceil(K/4)][NR][4] s8 — per panel of NR columns, per group of 4 k, each column's
// 4 consecutive k bytes (one VPDPBUSD dword lane); zero past K and past N.
// col_sums: [ceil(N/NR)·NR] int32, Σ_k B[k, n] (0 past N).
QgemmPackedB pack_weights_s8(const QgemmKernel& k, size_t K, size_t N, const int8_t* b, size_t rs, size_t cs) {
  QF_CHECK(K <= kQgemmMaxK);
  QgemmPackedB p;
  p.K = K, p.N = N, p.nr = k.nr;
  const size_t panels = (N + k.nr - 1) / k.nr;
  const size_t data_bytes = (panels * p.panel_bytes() + 63) / 64 * 64;
  p.buf = alloc_aligned(data_bytes + panels * k.nr * sizeof(int32_t) + 64);
  auto* data = reinterpret_cast<int8_t*>(p.buf.get());
  auto* sums = reinterpret_cast<int32_t*>(p.buf.get() + data_bytes);
  std::memset(data, 0, data_bytes);
  for (size_t n = 0; n < panels * k.nr; ++n) {
    int32_t s = 0;
    if (n < N) {
      int8_t* col = data + (n / k.nr) * p.panel_bytes() + (n % k.nr) * 4;
      for (size_t kk = 0; kk < K; ++kk) {
        const int8_t v = b[kk * rs + n * cs];
        col[(kk / 4) * k.nr * 4 + kk % 4] = v;
        s += v;
      }
    }
    sums[n] = s;
  }
  p.data = data, p.col_sums = sums;
  return p;
}

void qgemm_u8s8(const QgemmKernel& k, size_t M, const uint8_t* a, size_t lda, uint8_t a_zp,
                const QgemmPackedB& b, const QgemmOutputStage& out, void* c, size_t ldc, int threads) {
  QF_CHECK(b.nr == k.nr);
  QF_CHECK(out.type == QgemmOut::s32 || out.scale != nullptr);
  if (out.type == QgemmOut::u8) QF_CHECK(0 <= out.qmin && out.qmin <= out.qmax && out.qmax <= 255);
  if (out.type == QgemmOut::s8) QF_CHECK(-128 <= out.qmin && out.qmin <= out.qmax && out.qmax <= 127);
  const size_t N = b.N;
  if (M == 0 || N == 0) return;
  auto* cb = static_cast<std::byte*>(c);
  const size_t panels = (N + k.nr - 1) / k.nr, esz = out_bytes(out.type);
  if (threads <= 1 || M * N * std::max<size_t>(b.K, 1) < 65536) {
    qgemm_block(k, M, a, lda, a_zp, b, 0, panels, out, cb, ldc);
    return;
  }
  // Tasks: row blocks × panel blocks, at least 4 per thread to balance (rows rounded to MR).
  size_t pb = panels, mc = (M + k.mr - 1) / k.mr * k.mr;
  const size_t want = 4 * static_cast<size_t>(threads);
  auto count = [&] { return ((M + mc - 1) / mc) * ((panels + pb - 1) / pb); };
  while (count() < want && pb > 1) pb = (pb + 1) / 2;
  while (count() < want && mc > k.mr) mc = std::max(k.mr, (mc / 2 + k.mr - 1) / k.mr * k.mr);
  const size_t mblocks = (M + mc - 1) / mc, pblocks = (panels + pb - 1) / pb;
  const int64_t tasks = static_cast<int64_t>(mblocks * pblocks);
  const int nt = static_cast<int>(std::min<int64_t>(threads, tasks));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t t = 0; t < tasks; ++t) {
    const size_t mb = static_cast<size_t>(t) % mblocks, nb = static_cast<size_t>(t) / mblocks;
    const size_t m0 = mb * mc, p0 = nb * pb;
    qgemm_block(k, std::min(mc, M - m0), a + m0 * lda, lda, a_zp, b, p0, std::min(panels, p0 + pb), out,
                cb + m0 * ldc * esz, ldc);
  }
}

}  // namespace qforge::runtime
