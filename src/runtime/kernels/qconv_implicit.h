// Implicit-GEMM INT8 convolution: the qgemm tile reads each output position's patch straight from the
// padded channels-last input, with no im2col matrix.
//
// For a 2-D convolution with stride 1 and dilation 1 the input position of tap (kh, kw) of output
// (oh, ow) is (oh + kh, ow + kw) in the padded plane [Hp][Wp][C]. Number the outputs as "virtual rows"
// m = oh·Wp + ow (ow running over the padded width Wp, of which the first OW are real outputs): row
// m's patch is then kH runs of kW·C contiguous bytes, run kh at xt + m·C + kh·Wp·C — a GEMM row of
// stride C split into kH segments of stride Wp·C, which the segmented tiles of qgemm.h read directly
// (k order ((kh·kW + kw)·C + c), the order pack_qconv_weights packs). The Wp − OW virtual rows at the
// end of each output row are computed into a small tile buffer and dropped; rows past the last real
// output are never computed, so no byte past the plane is read.
// When kW·C is not a multiple of 4 (e.g. the first layer, C = 1) each run is padded to a multiple of 4
// with zero weights (pack_qconv_implicit_weights): the extra bytes read belong to the next pixels of
// the row, or to the 64 spare bytes after the last plane, and are multiplied by 0.
// Same integers, same output stage as im2col + qgemm: bit-identical to qconv_u8s8__ref.
#pragma once
#include <cstddef>
#include <cstdint>

#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// What the weights' packing depends on (channels, group, kernel, strides, dilations): group 1, a 2-D
// kernel (kernel[0] == 1) other than 1×1, stride 1 and dilation 1 along H and W, and a kernel with a
// segmented tile (k.seg_fn).
bool qconv_implicit_kernel(const QgemmKernel& k, const ConvGeom& g);
// ... and a 2-D input (in[0] == out[0] == 1): the implicit GEMM runs.
bool qconv_implicit_applies(const QgemmKernel& k, const ConvGeom& g);

// Run length kW·C rounded up to a multiple of 4.
int64_t qconv_implicit_run(const ConvGeom& g);
// B(k', m) = w[m][c][kh][kw] at k' = kh·run + kw·C + c, zero in the padding of each run
// (the im2col packing of pack_qconv_weights when kW·C is a multiple of 4).
QgemmPackedB pack_qconv_implicit_weights(const QgemmKernel& k, const ConvGeom& g, const int8_t* w);

// xt: nb padded channels-last planes [Hp][Wp][C], one after the other, with 64 spare bytes after the
// last; w: pack_qconv_implicit_weights for kernel k; ct: [nb][OH][OW][M] elements of esz bytes.
void qconv_implicit_gemm(const QgemmKernel& k, const ConvGeom& g, const uint8_t* xt, int64_t nb, uint8_t x_zp,
                         const QgemmPackedB& w, const QgemmOutputStage& out, uint8_t* ct, size_t esz, int threads);

}  // namespace qforge::runtime
