// 1-D / 2-D convolution as matrix products (any group, stride, dilation, padding):
//   per image n and group g:  Y_g[M/G × OH·OW] = W_g[M/G × (C/G)·kH·kW] · im2col(X_g)
// W is the SGEMM's A, read in place (its rows are already contiguous along K = (c, kh, kw));
// im2col is written straight into packed-B panels of NR output positions, one panel per task, so
// the packing runs in parallel with the products and each panel is used while it is in cache.
// Bias and the fused activation are applied in the SGEMM epilogue.
#pragma once
#include <algorithm>

#include "runtime/kernels/fused_activation.h"
#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

// True for geometries this path handles (spatial rank <= 2).
bool conv_gemm_applies(const ConvGeom& g);

// One packed-B panel of im2col for the output positions [q0, q0 + nr) of one image and group:
// dst[k][j] = x_g[c][ih][iw] (0 outside x), k = (c*kH + kh)*kW + kw, for j < nr; zero for j >= nr.
using Im2colFn = void (*)(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst);
void im2col_panel_f32__scalar(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst);
// SIMD versions: one masked load + store per output-row run for stride 1 (NR <= 32 / 16), the
// scalar version for other strides.
void im2col_panel_f32__avx2(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst);
void im2col_panel_f32__avx512(const ConvGeom& g, const float* xg, size_t q0, size_t nr, size_t NR, float* dst);
Im2colFn im2col_kernel(Isa isa);

// The panel's output positions as runs along one output row: positions run.j0 + i, i < ow1 - ow0,
// are output row oh, columns ow0 + i. Returns the number of runs (at most nr).
struct Im2colRun {
  int64_t oh, ow0, ow1;
  size_t j0;
};
inline size_t im2col_runs(const ConvGeom& g, size_t q0, size_t nr, Im2colRun* runs) {
  const int64_t OW = g.out[2];
  size_t n = 0;
  for (size_t q = q0; q < q0 + nr;) {
    const int64_t oh = static_cast<int64_t>(q) / OW, ow0 = static_cast<int64_t>(q) % OW;
    const int64_t ow1 = ow0 + std::min<int64_t>(OW - ow0, static_cast<int64_t>(q0 + nr - q));
    runs[n++] = {oh, ow0, ow1, q - q0};
    q += static_cast<size_t>(ow1 - ow0);
  }
  return n;
}
// Output columns whose tap at kernel column kw lands inside x: [lo, hi) (iw = ow*sw + kw*dw - pw).
inline void im2col_valid_cols(const ConvGeom& g, int64_t kw, int64_t& lo, int64_t& hi) {
  const int64_t W = g.in[2], sw = g.stride[2], off = kw * g.dilation[2] - g.pad_begin[2];
  lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
  hi = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
}

void conv2d_f32__gemm(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* w,
                      const float* b, const FusedActivation& act, float* y, int threads);

// Pointwise (1x1, stride 1, no padding, group 1) convolution with few output positions P, where
// NR-wide column panels of P would be mostly padding: the transposed product
//   Y^T[P × M] = X^T[P × C] · W^T[C × M]
// tiles P by MR rows and M by NR columns instead (X^T is X read with strides; W^T is packed once
// as B, see pack_conv1x1_weights), then Y^T is transposed into y.
bool conv1x1_transposed_pays(const SgemmKernel& k, const ConvGeom& g);
// dst: packed B of W^T, sgemm_packed_b_floats(k, C, M) floats.
void pack_conv1x1_weights(const SgemmKernel& k, const ConvGeom& g, const float* w, float* dst);
void conv1x1_f32__gemm_t(const SgemmKernel& k, const ConvGeom& g, const float* x, const float* wt_packed,
                         const float* b, const FusedActivation& act, float* y, int threads);

}  // namespace qforge::runtime
