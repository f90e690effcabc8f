// Convolution and transposed convolution, the spec (ONNX Conv / ConvTranspose): plain loops over
// every output element, double accumulation.
// Layout (row-major): x [N][C][D][H][W], Conv w [M][C/G][kD][kH][kW], ConvTranspose w [C][M/G][kD][kH][kW],
// y [N][M][oD][oH][oW]. 1-D and 2-D convolutions use the same 3 spatial slots with leading size-1
// dims (kernel 1, stride 1, dilation 1, pads 0), so one loop nest serves every rank.
#pragma once
#include <cstdint>

namespace qforge::runtime {

struct ConvGeom {
  int64_t batch = 1, in_channels = 1, out_channels = 1, group = 1;
  int64_t in[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  int64_t pad_begin[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};

  int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  int64_t out_plane() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
};

// y[n][m][o] = b[m] + Σ_{c in group(m), k} x[n][c][o*stride - pad_begin + k*dilation] · w[m][c][k]
// (taps outside x contribute 0). b may be null.
void conv_f32__ref(const ConvGeom& g, const float* x, const float* w, const float* b, float* y);

// ConvTranspose: every x[n][c][i] scatters x · w[c][m][k] to y[n][g*M/G + m][i*stride - pad_begin +
// k*dilation] (positions outside y are dropped); y starts at b (or 0). Here in_channels = C and
// out_channels = M; out and pad_begin come from the op (output_shape / output_padding / auto_pad).
void conv_transpose_f32__ref(const ConvGeom& g, const float* x, const float* w, const float* b, float* y);

}  // namespace qforge::runtime
