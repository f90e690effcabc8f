#include "runtime/kernels/sgemm.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/tensor.h"

namespace qforge::runtime {

namespace {

constexpr SgemmKernel kSgemmKernels[] = {
    {"sgemm_f32__ref_4x8", sgemm_f32__ref_4x8, Isa::ref, 4, 8},
    {"sgemm_f32__avx2_6x16", sgemm_f32__avx2_6x16, Isa::avx2, 6, 16},
    {"sgemm_f32__avx512_12x32", sgemm_f32__avx512_12x32, Isa::avx512, 12, 32},
};

// K block: one packed [kc][NR] slice of B (up to 384 x 32 floats = 48 KiB) stays in L1 / near it
// while the row panels stream over it. K is split into equal blocks, so no
// block is a short remainder (each block reloads and stores the C tile once).
size_t k_block(const SgemmKernel& k, size_t K) {
  const size_t max_kc = std::max<size_t>(64, 12288 / k.nr);
  const size_t blocks = std::max<size_t>(1, (K + max_kc - 1) / max_kc);
  return std::max<size_t>(1, ((K + blocks - 1) / blocks + 7) / 8 * 8);
}
// Row block: MC x kc of A (240 x 256 floats = 240 KiB) stays in L2, and products with up to 240
// rows (batch-1 transformer layers, most convolutions) stream each B panel from memory once.
size_t m_block(const SgemmKernel& k) { return k.mr * std::max<size_t>(1, 240 / k.mr); }

}  // namespace

std::span<const SgemmKernel> sgemm_kernels() { return kSgemmKernels; }

const SgemmKernel& sgemm_kernel(Isa isa) { return kernel_for_isa(kSgemmKernels, isa); }

float* sgemm_scratch(size_t floats, int slot) {
  struct Slot {
    std::shared_ptr<std::byte> buf;
    size_t cap = 0;
  };
  thread_local Slot slots[4];
  QF_CHECK(slot >= 0 && slot < 4);
  Slot& s = slots[slot];
  if (s.cap < floats) {
    s.cap = std::max(floats, s.cap * 2);
    s.buf = alloc_aligned(s.cap * sizeof(float) + 64);
  }
  return reinterpret_cast<float*>(s.buf.get());
}

size_t sgemm_packed_b_floats(const SgemmKernel& k, size_t K, size_t N) {
  return (N + k.nr - 1) / k.nr * K * k.nr;
}

void sgemm_pack_b(const SgemmKernel& k, size_t K, size_t N, const float* b, size_t rs, size_t cs,
                  float scale, float* dst, size_t p0, size_t p1) {
  const size_t NR = k.nr;
  for (size_t p = p0; p < p1; ++p) {
    float* d = dst + p * K * NR;
    const size_t n0 = p * NR, nr = std::min(NR, N - n0);
    if (cs == 1) {
      for (size_t kk = 0; kk < K; ++kk) {
        const float* s = b + kk * rs + n0;
        float* dk = d + kk * NR;
        if (scale == 1.f) std::memcpy(dk, s, nr * sizeof(float));
        else for (size_t j = 0; j < nr; ++j) dk[j] = s[j] * scale;
        std::fill(dk + nr, dk + NR, 0.f);
      }
    } else {
      // Transposed source: read each column contiguously along K.
      if (nr < NR)
        for (size_t kk = 0; kk < K; ++kk) std::fill(d + kk * NR + nr, d + kk * NR + NR, 0.f);
      for (size_t j = 0; j < nr; ++j) {
        const float* s = b + (n0 + j) * cs;
        for (size_t kk = 0; kk < K; ++kk) d[kk * NR + j] = s[kk * rs] * scale;
      }
    }
  }
}

void sgemm_block(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* bpack,
                 float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, size_t row0,
                 size_t col0) {
  const size_t MR = k.mr, NR = k.nr, KC = k_block(k, K), MC = m_block(k);
  const size_t panels = (N + NR - 1) / NR;
  const SgemmEpilogue* epp = ep.active() ? &ep : nullptr;
  for (size_t m0 = 0; m0 < M; m0 += MC) {
    const size_t m1 = std::min(M, m0 + MC);
    size_t k0 = 0;
    do {
      const size_t kc = std::min(KC, K - k0);
      const bool last = k0 + kc >= K;
      for (size_t p = 0; p < panels; ++p) {
        const size_t nr = std::min(NR, N - p * NR);
        const float* bp = bpack + p * K * NR + k0 * NR;
        for (size_t i = m0; i < m1; i += MR) {
          const size_t mr = std::min(MR, m1 - i);
          k.fn(mr, nr, kc, a.data + i * a.rs + k0 * a.cs, a.rs, a.cs, bp, c + i * ldc + p * NR, ldc,
               accumulate || k0 > 0, last ? epp : nullptr, row0 + i, col0 + p * NR);
        }
      }
      k0 += kc;
    } while (k0 < K);
  }
}

void sgemm_packed(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* bpack,
                  float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, int threads) {
  if (M == 0 || N == 0) return;
  const size_t panels = (N + k.nr - 1) / k.nr;
  if (threads <= 1 || M * N * std::max<size_t>(K, 1) < 32768) {
    sgemm_block(k, M, N, K, a, bpack, c, ldc, accumulate, ep);
    return;
  }
  // Tasks: row blocks of mc rows x blocks of pb panels; enough of them to balance the threads.
  size_t mc = m_block(k), pb = std::min<size_t>(panels, 8);
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
    const size_t m0 = mb * mc, mlen = std::min(mc, M - m0);
    const size_t p0 = nb * pb, n0 = p0 * k.nr, nlen = std::min(pb * k.nr, N - n0);
    SgemmA ab{a.data + m0 * a.rs, a.rs, a.cs};
    sgemm_block(k, mlen, nlen, K, ab, bpack + p0 * K * k.nr, c + m0 * ldc + n0, ldc, accumulate, ep,
                m0, n0);
  }
}

void sgemm(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* b, size_t b_rs,
           size_t b_cs, float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, int threads) {
  if (M == 0 || N == 0) return;
  float* bp = sgemm_scratch(sgemm_packed_b_floats(k, K, N), 0);
  const size_t panels = (N + k.nr - 1) / k.nr;
  if (threads > 1 && K * N >= 65536) {
    const int nt = static_cast<int>(std::min<size_t>(threads, panels));
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < static_cast<int64_t>(panels); ++p)
      sgemm_pack_b(k, K, N, b, b_rs, b_cs, 1.f, bp, static_cast<size_t>(p), static_cast<size_t>(p) + 1);
  } else {
    sgemm_pack_b(k, K, N, b, b_rs, b_cs, 1.f, bp, 0, panels);
  }
  sgemm_packed(k, M, N, K, a, bp, c, ldc, accumulate, ep, threads);
}

}  // namespace qforge::runtime
