// Reference INT8 convolution (the spec of every qconv kernel): plain loops over every output element.
//
//   acc[n][m][o] = Σ_{c in group(m), k} (x[n][c][o*stride − pad_begin + k*dilation] − x_zp) · w[m][c][k]
//   y[n][m][o]   = output_stage(acc, m)        (qgemm_store_ref: wrapping bias add, requantize_f32)
//
// Taps outside x contribute 0 — exactly as if x were padded with x_zp (the value that dequantizes to
// 0.0), which is what the im2col path writes. x is u8 (s8 activations are shifted to u8 by the caller:
// x ^ 0x80 and x_zp + 128 leave every x − x_zp unchanged); w is s8 [M][C/G][kD][kH][kW].
// Layouts as in conv_ref.h (ConvGeom; 1-D and 2-D use leading size-1 spatial slots).
#pragma once
#include <cstdint>

#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// y: [N][M][out plane] of out.type (u8 / s8 / s32 / f32). out.bias / out.scale are per output channel.
void qconv_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                     const QgemmOutputStage& out, void* y);

// Depthwise (group == C == M) on one image, channels [c0, c1): x [C][in plane], w [C][kernel size],
// y [C][out plane]. The same formula, as the ref entry of the depthwise kernel table (qconv.h).
void qconv_dw_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                        const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1);

}  // namespace qforge::runtime
