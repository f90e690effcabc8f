// Channels-last (NHWC) INT8 depthwise convolution: group == C == M, 1-D / 2-D (1-D as H = 1).
//
//   x [N][H][W][C] u8 (s8 activations shifted by the caller, see qconv_ref.h), w [C][kH][kW] s8,
//   acc[n][oh][ow][c] = Σ_{kh, kw} (x[n][oh*sh − pt + kh*dh][ow*sw − pl + kw*dw][c] − x_zp) · w[c][kh][kw]
//   y[n][oh][ow][c]   = output_stage(acc, c)     (qgemm_store_ref: wrapping bias add, requantize_f32)
//
// Taps outside x contribute 0 (as if x were padded with x_zp). The spec is qconv_dw_nhwc_u8s8__ref
// (reference/qconv_dw_nhwc_ref.h): the same formula as qconv_u8s8__ref with the channel axis last.
//
// The optimized kernels work on one output row (n, oh) at a time, vectorized across channels; see
// qconv_dw_nhwc__avx512.cpp / __avx2.cpp for their layouts. Use:
//   const QconvDwNhwcKernel& k = qconv_dw_nhwc_kernel(active_isa());       // once
//   QconvDwNhwcWeights pw = pack_qconv_dw_nhwc(k, g, w);                   // once, at session prepare
//   qconv_dw_nhwc_u8s8(k, g, x, x_zp, pw, out, y, threads);                // every run
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/cpu.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// Weights packed for one kernel of the table (the layout that kernel reads), and Σ_taps w[c].
//   ref:    data = w as given, [C][kH][kW]
//   avx2:   data = [ceil(kH/2)][kW][ceil(C/8)][8][2]  s16 pairs (taps kh = 2g, 2g + 1; 0 past kH / C)
//   avx512: data = [ceil(kH/4)][kW][ceil(C/16)][16][4] s8 quads (taps kh = 4g .. 4g + 3; 0 past kH / C)
struct QconvDwNhwcWeights {
  Isa isa = Isa::ref;
  int64_t channels = 0, kh = 0, kw = 0;
  std::vector<int8_t> data;   // ref / avx512 layouts
  std::vector<int16_t> data16;  // avx2 layout
  std::vector<int32_t> wsum;  // [C] Σ_{kh, kw} w[c][kh][kw]
};

// Everything a kernel needs for one call; seed and scale are per channel, padded with zeros to a
// multiple of 64 channels: seed[c] = bias[c] − x_zp · wsum[c] (wrapping int32), the accumulator's start
// value when every tap outside x reads x_zp.
struct QconvDwNhwcArgs {
  const ConvGeom* g = nullptr;
  const uint8_t* x = nullptr;
  uint8_t x_zp = 0;
  const QconvDwNhwcWeights* w = nullptr;
  const int32_t* seed = nullptr;
  const float* scale = nullptr;
  const QgemmOutputStage* out = nullptr;
  void* y = nullptr;
};

// Output rows [row0, row1) of the flattened (n, oh) range: y rows n*OH + oh.
using QconvDwNhwcFn = void (*)(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1);
struct QconvDwNhwcKernel {
  std::string_view name;  // qconv_dw_nhwc_u8s8__<isa>
  QconvDwNhwcFn fn;
  Isa isa;
};
void qconv_dw_nhwc_u8s8__avx2(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1);
void qconv_dw_nhwc_u8s8__avx512(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1);

std::span<const QconvDwNhwcKernel> qconv_dw_nhwc_kernels();  // lowest ISA first
const QconvDwNhwcKernel& qconv_dw_nhwc_kernel(Isa isa);       // the best with isa <= `isa`

// The geometries and output stages the kernels take: depthwise (group == C == M, C = 1 included),
// 1-D / 2-D (in[0] == kernel[0] == out[0] == 1), pads >= 0, strides and dilations >= 1, outputs
// non-empty; out.type u8 or s8 with zero_point, qmin <= qmax within the type's range (so |v| <= 510
// after the clamp); kernel size at most kQgemmMaxK (the int32 accumulator is then exact, see qgemm.h).
bool qconv_dw_nhwc_applies(const ConvGeom& g, const QgemmOutputStage& out);

// w [C][kH][kW] packed for kernel k (once, at session prepare). Precondition: group == C == M, 1-D / 2-D.
QconvDwNhwcWeights pack_qconv_dw_nhwc(const QconvDwNhwcKernel& k, const ConvGeom& g, const int8_t* w);

// y [N][OH][OW][C] (out.type u8 / s8) = depthwise conv of x [N][H][W][C], on up to `threads` OpenMP
// threads, parallel over (image, output row). w packed for k (w.isa == k.isa).
// Precondition: qconv_dw_nhwc_applies(g, out).
void qconv_dw_nhwc_u8s8(const QconvDwNhwcKernel& k, const ConvGeom& g, const uint8_t* x, uint8_t x_zp,
                        const QconvDwNhwcWeights& w, const QgemmOutputStage& out, void* y, int threads);

}  // namespace qforge::runtime
