// Pooling, the spec (ONNX MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool): plain loops.
// Layout: x [N][C][D][H][W] → y [N][C][oD][oH][oW]; 1-D / 2-D pools use leading size-1 spatial slots
// (kernel 1, stride 1, dilation 1, pads 0). A window of output o covers input positions
// p = o*stride - pad_begin + k*dilation, k in [0, kernel).
#pragma once
#include <cstdint>

namespace qforge::runtime {

struct PoolGeom {
  int64_t batch = 1, channels = 1;
  int nd = 2;  // spatial rank of the op (1..3), for Indices in column-major storage order
  int64_t in[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  int64_t pad_begin[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};

  int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

// y = max of the window's in-bounds elements (padding never wins; an all-padding window gives the
// type's lowest value). indices (nullable) = flat index into x of the first maximum; with
// storage_order 1 the spatial part of the index is column-major (the last spatial axis slowest).
void maxpool_f32__ref(const PoolGeom& g, const float* x, float* y, int64_t* indices, int storage_order);
void maxpool_s8__ref(const PoolGeom& g, const int8_t* x, int8_t* y, int64_t* indices, int storage_order);
void maxpool_u8__ref(const PoolGeom& g, const uint8_t* x, uint8_t* y, int64_t* indices, int storage_order);

// y = Σ in-bounds elements / divisor; divisor = number of in-bounds window positions, or with
// count_include_pad the number of positions inside the padded extent [-pad_begin, in + pad_end).
void avgpool_f32__ref(const PoolGeom& g, bool count_include_pad, const float* x, float* y);

// One value per plane of `plane` elements: mean / max.
void global_avgpool_f32__ref(int64_t planes, int64_t plane, const float* x, float* y);
void global_maxpool_f32__ref(int64_t planes, int64_t plane, const float* x, float* y);

}  // namespace qforge::runtime
