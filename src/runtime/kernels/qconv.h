// INT8 convolution: u8 activations (s8 shifted by the caller, see qconv_ref.h), s8 weights, int32
// accumulation, the qgemm output stage (bias, requantization, fused clamp). Two paths, each equal
// to qconv_u8s8__ref bit for bit:
//  - im2col + qgemm (any group, stride, dilation, padding, 1-D to 3-D): the input is first copied to a
//    padded channels-last buffer filled with x_zp (so padding dequantizes to exactly 0), then each
//    output position's patch is one row of A = [positions × (kd, kh, kw, c)] — runs of C/G bytes,
//    memcpy — and A · W^T runs through qgemm_u8s8 with the weights packed once in the same k order.
//    The products come out as [positions × M] and are transposed into y [N][M][positions].
//    Images are batched into one product (more rows for the threads) in chunks of bounded size.
//    Channels-last x (QconvLayout::x_nhwc) skips the transpose (rows are copied into the padded
//    buffer, and a 1×1 / stride 1 / unpadded conv reads x itself as A: no copy at all); channels-last
//    y receives the products directly (no transpose back). Where the implicit GEMM applies
//    (qconv_implicit.h: group 1, 2-D, stride 1, dilation 1, not 1×1, an ISA with segmented tiles) the
//    patches are read in place from the padded buffer and A is never built.
//  - direct depthwise (group == C == M, 1-D / 2-D): one table of kernels (ref, AVX2, AVX-512), see
//    qconv_dw_u8s8__avx512 for the layout.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/cpu.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// ---- im2col + qgemm ----

// Per group: W_g^T packed for qgemm, B(k, m) = w[g*M/G + m][c][kd][kh][kw] with k = ((kd*kH + kh)*kW + kw)*(C/G) + c.
struct QconvPackedW {
  std::vector<QgemmPackedB> groups;
  QgemmPackedB implicit;  // for the implicit GEMM (qconv_implicit.h) where its kernel geometry holds
};
// Precondition: (C/G) · kernel size <= kQgemmMaxK. g needs channels, group, kernel, strides, dilations.
QconvPackedW pack_qconv_weights(const QgemmKernel& k, const ConvGeom& g, const int8_t* w);

// Layouts of x and y: NCHW ([N][C][plane]) or channels-last ([N][plane][C]).
struct QconvLayout {
  bool x_nhwc = false, y_nhwc = false;
};

// y [N][M][out plane] (element type out.type) = conv(x [N][C][in plane] u8), or the channels-last
// forms. out.bias / out.scale are per output channel (M).
void qconv_u8s8__im2col(const QgemmKernel& k, const ConvGeom& g, const uint8_t* x, uint8_t x_zp,
                        const QconvPackedW& w, const QgemmOutputStage& out, void* y, int threads,
                        QconvLayout layout = {});

// One output row (image row (od, oh), every ow) of the im2col matrix for group grp, AVX-512 version of
// the portable routine in qconv.cpp (64-byte moves; needs 64 spare bytes after xt's last image).
void qconv_im2col_row__avx512(const ConvGeom& g, const uint8_t* xt, int64_t grp, int64_t od, int64_t oh, int64_t Kg,
                              uint8_t* dst);

// ---- direct depthwise ----

// One image, channels [c0, c1): x [C][in plane], w [C][kernel size], y [C][out plane].
// Optimized kernels: 1-D / 2-D geometry (in[0] == kernel[0] == 1) and out.type u8 or s8 only
// (qconv_dw_applies); the ref entry takes any geometry and output type.
using QconvDwFn = void (*)(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                           const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1);
struct QconvDwKernel {
  std::string_view name;  // qconv_dw_u8s8__<isa>
  QconvDwFn fn;
  Isa isa;
};
void qconv_dw_u8s8__avx2(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                         const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1);
void qconv_dw_u8s8__avx512(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                           const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1);

std::span<const QconvDwKernel> qconv_dw_kernels();  // lowest ISA first
const QconvDwKernel& qconv_dw_kernel(Isa isa);       // the best with isa <= `isa`

bool qconv_is_depthwise(const ConvGeom& g);
bool qconv_dw_applies(const ConvGeom& g, const QgemmOutputStage& out);

// All images, parallel over (image, channel block).
void qconv_dw_u8s8(const QconvDwKernel& k, const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                   const QgemmOutputStage& out, void* y, int threads);

// Depthwise on channels-last data (1-D / 2-D as qconv_dw_applies, out.type u8 / s8): x [N][in plane][C],
// y [N][out plane][C], the best kernel at most `isa`. The one entry point the QConv op calls for it.
// N.B. for now: the NCHW kernels between two transposes (the NHWC kernels replace the body).
void qconv_dw_u8s8_channels_last(Isa isa, const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                                 const QgemmOutputStage& out, void* y, int threads);

// ---- shared by the depthwise kernels ----

// The padded input of one channel as stride phases (1-D / 2-D): row r of the padded plane
// (r = ih + pad_top, rows [0, in[1] + pads)), phase f in [0, sw), column j holds
// padded[r][j*sw + f] (x_zp outside x). Tap (kh, kw) of output (oh, ow) is then
//   plane[((oh*sh + kh*dh) * sw + (kw*dw) % sw) * row_len + ow + (kw*dw) / sw]
// — contiguous along ow for every stride. row_len covers the widest tap plus `slack` bytes.
struct QconvDwPlane {
  int64_t rows = 0, row_len = 0;
};
QconvDwPlane qconv_dw_plane_dims(const ConvGeom& g, int64_t slack);
void qconv_dw_fill_plane(const ConvGeom& g, const QconvDwPlane& p, const uint8_t* xc, uint8_t x_zp, uint8_t* dst);

}  // namespace qforge::runtime
