// INT8 matrix multiplication: one table of register-blocked microkernels (STYLE §3), weight packing
// (once per session) and the OpenMP driver around them.
//
//   acc[m, n] = Σ_k (A[m, k] − a_zp) · B[k, n]        A u8 (activations), B s8 (symmetric weights)
//   acc'      = acc + bias[n]                         int32, wrapping (two's complement) add
//   C[m, n]   = s32: acc'
//               f32: float(acc') · scale[n]  (+ bias_f32[n])        (dynamic quantization)
//               u8 / s8: quant::requantize_f32(acc', scale[n], zero_point, qmin, qmax)
//
// The kernels compute Σ A·B on the raw u8 bytes and apply the zero point in the epilogue with the
// packed column sums: Σ (A − a_zp)·B = Σ A·B − a_zp · Σ_k B[k, n].
//
// Overflow bound: |A − a_zp| <= 255 and |B| <= 128, so |acc| <= 32640 · K, and each of Σ A·B and
// a_zp · Σ B is bounded the same way. For K <= kQgemmMaxK = 65536 every one of them fits in int32
// (32640 · 65536 = 2,139,095,040 < 2^31), so the integer result is exact (K = 4096 uses 6% of the
// range). Only the bias add can wrap; it wraps identically in every kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::runtime {

inline constexpr size_t kQgemmMaxK = 65536;

enum class QgemmOut { s32, f32, u8, s8 };

// The output stage. scale is always per column (N floats; broadcast a per-tensor scale once at
// prepare time): for u8/s8 it is a_scale · w_scale[n] / out_scale, for f32 a_scale · w_scale[n].
struct QgemmOutputStage {
  QgemmOut type = QgemmOut::s32;
  const int32_t* bias = nullptr;     // [N] or null
  const float* scale = nullptr;      // [N]; required for f32, u8, s8
  const float* bias_f32 = nullptr;   // [N] or null; f32 output only, added after the scale
  int32_t zero_point = 0;            // u8 / s8 output
  int32_t qmin = 0, qmax = 255;      // fused clamp (Relu: qmin = zero_point), within the type range
};

// Microkernel: the mr×nr tile at column col0 of C (row stride ldc elements, element type from
// out.type). a: mr rows of K u8 (row stride lda; reads never pass a row's K bytes). b: one packed
// panel [ceil(K/4)][NR][4]. col_sums: the panel's NR column sums. 1 <= mr <= MR, 1 <= nr <= NR.
using QgemmUkernelFn = void (*)(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                const QgemmOutputStage& out, void* c, size_t ldc, size_t col0);

// The same tile with a segmented A (implicit-GEMM convolution): K = segs · seg_len, seg_len a multiple
// of 4; row r's k values are the runs a + r·lda + s·seg_stride (s < segs) of seg_len bytes, in order.
using QgemmSegUkernelFn = void (*)(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a, size_t lda,
                                   size_t seg_stride, int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                   const QgemmOutputStage& out, void* c, size_t ldc, size_t col0);
struct QgemmKernel {
  std::string_view name;  // qgemm_u8s8_s32__<isa>_<MR>x<NR>
  QgemmUkernelFn fn;
  Isa isa;
  size_t mr, nr;
  QgemmSegUkernelFn seg_fn = nullptr;  // where the ISA has one (AVX-512 VNNI)
};

void qgemm_u8s8_s32__ref_4x16(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda, int32_t a_zp,
                              const int8_t* b, const int32_t* col_sums, const QgemmOutputStage& out, void* c,
                              size_t ldc, size_t col0);
void qgemm_u8s8_s32__avx2_4x8(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda, int32_t a_zp,
                              const int8_t* b, const int32_t* col_sums, const QgemmOutputStage& out, void* c,
                              size_t ldc, size_t col0);
void qgemm_u8s8_s32__avx512vnni_6x64(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                     int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                     const QgemmOutputStage& out, void* c, size_t ldc, size_t col0);
void qgemm_u8s8_s32__avx512vnni_12x32(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                      int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                      const QgemmOutputStage& out, void* c, size_t ldc, size_t col0);
void qgemm_u8s8_s32__avx512vnni_12x16(size_t mr, size_t nr, size_t K, const uint8_t* a, size_t lda,
                                      int32_t a_zp, const int8_t* b, const int32_t* col_sums,
                                      const QgemmOutputStage& out, void* c, size_t ldc, size_t col0);

void qgemm_seg_u8s8_s32__avx512vnni_6x64(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                         size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                         const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                         size_t col0);
void qgemm_seg_u8s8_s32__avx512vnni_12x32(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                          size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                          const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                          size_t col0);
void qgemm_seg_u8s8_s32__avx512vnni_12x16(size_t mr, size_t nr, size_t seg_len, size_t segs, const uint8_t* a,
                                          size_t lda, size_t seg_stride, int32_t a_zp, const int8_t* b,
                                          const int32_t* col_sums, const QgemmOutputStage& out, void* c, size_t ldc,
                                          size_t col0);
// The table, lowest ISA first. Tests and benchmarks iterate it.
std::span<const QgemmKernel> qgemm_kernels();
// A kernel of the highest ISA at most `isa`; among that ISA's tiles the one whose NR pads N to the
// fewest columns (ties: the widest NR). Without N: the widest tile.
const QgemmKernel& qgemm_kernel(Isa isa, size_t N);
const QgemmKernel& qgemm_kernel(Isa isa);
inline const QgemmKernel& qgemm_kernel() { return qgemm_kernel(active_isa()); }

// Weights packed for one kernel's NR (pack once, run many times).
struct QgemmPackedB {
  size_t K = 0, N = 0, nr = 0;
  std::shared_ptr<std::byte> buf;
  const int8_t* data = nullptr;       // [ceil(N/NR)][ceil(K/4)][NR][4]
  const int32_t* col_sums = nullptr;  // [ceil(N/NR) · NR], Σ_k B[k, n]; 0 past N
  size_t panel_bytes() const { return (K + 3) / 4 * 4 * nr; }
};

// B(k, n) = b[k*rs + n*cs] (row-major [K][N]: rs = N, cs = 1; Conv / Gemm transB [N][K]: rs = 1, cs = K).
// Precondition: K <= kQgemmMaxK.
QgemmPackedB pack_weights_s8(const QgemmKernel& k, size_t K, size_t N, const int8_t* b, size_t rs, size_t cs);

// C = output_stage(Σ (A − a_zp)·B) for A[M×K] u8 (row stride lda), packed B, on up to `threads`
// OpenMP threads. c points to the element type of out.type; ldc is in elements.
void qgemm_u8s8(const QgemmKernel& k, size_t M, const uint8_t* a, size_t lda, uint8_t a_zp,
                const QgemmPackedB& b, const QgemmOutputStage& out, void* c, size_t ldc, int threads);

}  // namespace qforge::runtime
