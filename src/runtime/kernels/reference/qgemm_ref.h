// Reference INT8 GEMM (the spec of every qgemm kernel, see runtime/kernels/qgemm.h for the formula):
// plain loops over unpacked weights, and the scalar output stage every kernel matches bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>

#include "quant/requantize.h"
#include "runtime/kernels/qgemm.h"

namespace qforge::runtime {

// Stores output_stage(acc) for column n at element index i of c.
inline void qgemm_store_ref(int32_t acc, size_t n, const QgemmOutputStage& out, void* c, size_t i) {
  // Wrapping int32 add (the SIMD kernels' vpaddd); the accumulator itself never overflows (qgemm.h).
  if (out.bias) acc = static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(out.bias[n]));
  switch (out.type) {
    case QgemmOut::s32: static_cast<int32_t*>(c)[i] = acc; return;
    case QgemmOut::f32: {
      float v = static_cast<float>(acc) * out.scale[n];
      if (out.bias_f32) v = v + out.bias_f32[n];  // a separate rounding: no fused multiply-add
      static_cast<float*>(c)[i] = v;
      return;
    }
    case QgemmOut::u8:
      static_cast<uint8_t*>(c)[i] =
          static_cast<uint8_t>(quant::requantize_f32(acc, out.scale[n], out.zero_point, out.qmin, out.qmax));
      return;
    case QgemmOut::s8:
      static_cast<int8_t*>(c)[i] =
          static_cast<int8_t>(quant::requantize_f32(acc, out.scale[n], out.zero_point, out.qmin, out.qmax));
      return;
  }
}

// C[M×N] (row stride ldc elements) = output_stage(Σ_k (A[m,k] − a_zp) · B(k, n)), A row stride lda,
// B(k, n) = b[k*b_rs + n*b_cs]. Precondition: K <= kQgemmMaxK.
void qgemm_u8s8_s32__ref(size_t M, size_t N, size_t K, const uint8_t* a, size_t lda, uint8_t a_zp,
                         const int8_t* b, size_t b_rs, size_t b_cs, const QgemmOutputStage& out, void* c,
                         size_t ldc);

}  // namespace qforge::runtime
