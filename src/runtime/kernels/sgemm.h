// FP32 matrix multiplication: one table of register-blocked microkernels (STYLE §3) and the
// cache-blocked, OpenMP-parallel driver around them.
//
//   C[M×N] = [C +] A[M×K] · B[K×N], then the epilogue  C = act(C + bias)
//
// A is read in place through strides (row-major weights, transposed operands: no copy). B is packed
// into column panels of the kernel's NR columns, zero-padded past N:
//   packed B: [ceil(N/NR)][K][NR] f32
// so the microkernel streams one contiguous [kc][NR] slice per K block. Constant B (MatMul / Gemm
// weights) is packed once; Conv packs its im2col panels straight into this layout.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include "core/cpu.h"
#include "runtime/kernels/fused_activation.h"

namespace qforge::runtime {

// C = act(C + bias); bias (nullable) indexed by the row (bias_per_row) or the column of C.
struct SgemmEpilogue {
  const float* bias = nullptr;
  bool bias_per_row = false;
  FusedActivation act;
  bool active() const { return bias || act.kind != FusedActivation::Kind::none; }
};

// A(r, k) = data[r*rs + k*cs]; one of rs, cs must be 1 (row-major, or transposed).
struct SgemmA {
  const float* data = nullptr;
  size_t rs = 0, cs = 1;
};

// Microkernel: c[mr×nr] (row stride ldc) = (accumulate ? c : 0) + Σ_{k<kc} A(r, k) · b[k][j], then
// the epilogue when ep != nullptr, for the tile at (row0, col0) of the epilogue's bias.
// b is one packed [kc][NR] slice. 1 <= mr <= MR, 1 <= nr <= NR; kc may be 0.
using SgemmUkernelFn = void (*)(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs,
                                size_t a_cs, const float* b, float* c, size_t ldc, bool accumulate,
                                const SgemmEpilogue* ep, size_t row0, size_t col0);

struct SgemmKernel {
  std::string_view name;  // sgemm_f32__<isa>_<MR>x<NR>
  SgemmUkernelFn fn;
  Isa isa;
  size_t mr, nr;
};

void sgemm_f32__ref_4x8(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                        const float* b, float* c, size_t ldc, bool accumulate, const SgemmEpilogue* ep,
                        size_t row0, size_t col0);
void sgemm_f32__avx2_6x16(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                          const float* b, float* c, size_t ldc, bool accumulate, const SgemmEpilogue* ep,
                          size_t row0, size_t col0);
void sgemm_f32__avx512_12x32(size_t mr, size_t nr, size_t kc, const float* a, size_t a_rs, size_t a_cs,
                             const float* b, float* c, size_t ldc, bool accumulate,
                             const SgemmEpilogue* ep, size_t row0, size_t col0);

// The table, lowest ISA first. Tests and benchmarks iterate it.
std::span<const SgemmKernel> sgemm_kernels();
// The best kernel whose ISA is at most `isa`.
const SgemmKernel& sgemm_kernel(Isa isa);
inline const SgemmKernel& sgemm_kernel() { return sgemm_kernel(active_isa()); }

// Packed B: [ceil(N/NR)][K][NR]; B(k, n) = b[k*rs + n*cs] · scale. Panels [p0, p1) are written.
size_t sgemm_packed_b_floats(const SgemmKernel& k, size_t K, size_t N);
void sgemm_pack_b(const SgemmKernel& k, size_t K, size_t N, const float* b, size_t rs, size_t cs,
                  float scale, float* dst, size_t p0, size_t p1);

// Single-threaded: C[M×N] with B given as consecutive packed panels starting at bpack (panel stride
// K*NR). row0/col0 locate C inside the epilogue's bias.
void sgemm_block(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* bpack,
                 float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, size_t row0 = 0,
                 size_t col0 = 0);

// Parallel over (row block, panel block) tasks on up to `threads` OpenMP threads.
void sgemm_packed(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* bpack,
                  float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, int threads);

// Packs B (b[k*b_rs + n*b_cs]) into a per-thread scratch buffer and runs sgemm_packed.
void sgemm(const SgemmKernel& k, size_t M, size_t N, size_t K, SgemmA a, const float* b, size_t b_rs,
           size_t b_cs, float* c, size_t ldc, bool accumulate, const SgemmEpilogue& ep, int threads);

// A 64-byte aligned per-thread scratch buffer of at least `floats`, one per slot (0..3); valid until
// the next call with the same slot on the same thread.
float* sgemm_scratch(size_t floats, int slot);

}  // namespace qforge::runtime
