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
// Same integers, same output stage as im2col + qgemm: bit-identical to qconv_u8s8__ref.
#pragma once
#include <cstddef>
#include <cstdint>

#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/conv_ref.h"

namespace qforge::runtime {

// Group 1, 2-D (in[0] == kernel[0] == 1), stride 1 and dilation 1 along H and W, kW·C a multiple of 4,
// not a 1×1 kernel, and a kernel with a segmented tile (k.seg_fn).
bool qconv_implicit_applies(const QgemmKernel& k, const ConvGeom& g);

// xt: nb padded channels-last planes [Hp][Wp][C], one after the other; w: the weights packed by
// pack_qconv_weights for kernel k (group 0); ct: [nb][OH][OW][M] elements of esz bytes (out.type).
void qconv_implicit_gemm(const QgemmKernel& k, const ConvGeom& g, const uint8_t* xt, int64_t nb, uint8_t x_zp,
                         const QgemmPackedB& w, const QgemmOutputStage& out, uint8_t* ct, size_t esz, int threads);

}  // namespace qforge::runtime
