// Reference channels-last INT8 depthwise convolution (the spec of every qconv_dw_nhwc kernel): plain
// loops over every output element, the formula of qconv_ref.h with the channel axis last.
//
//   acc[n][o][c] = Σ_k (x[n][o*stride − pad_begin + k*dilation][c] − x_zp) · w[c][k]   (taps outside x: 0)
//   y[n][o][c]   = output_stage(acc, c)        (qgemm_store_ref: wrapping bias add, requantize_f32)
//
// Layout: x [N][D][H][W][C] u8, w [C][kD][kH][kW] s8, y [N][oD][oH][oW][C] of out.type (u8 / s8 / s32 /
// f32); group == in_channels == out_channels (ConvGeom of conv_ref.h, 1-D and 2-D with leading size-1 slots).
#pragma once
#include <cstdint>

#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

void qconv_dw_nhwc_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                             const QgemmOutputStage& out, void* y);

// Output rows [row0, row1) only, row r = (n*oD + od)*oH + oh (every ow and c of the row).
void qconv_dw_nhwc_u8s8_rows__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                                 const QgemmOutputStage& out, void* y, int64_t row0, int64_t row1);

}  // namespace qforge::runtime
