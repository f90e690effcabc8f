// Integer pooling on channels-last data (the layout pass, lower/lower_layout.cpp) and the window
// arithmetic it shares with the NCHW ops of ops/qlinear_pool.cpp.
// Layout: x [N][H][W][C], y [N][OH][OW][C] (2-D only: PoolGeom with in[0] = kernel[0] = out[0] = 1).
// Each output position loops over its window's valid taps with the channel loop innermost (contiguous,
// it vectorises). Every kernel equals its NCHW op bit for bit: the same taps, the same exact integer
// sum, the same requantization (quant::requantize_f32) with the same scale.
#pragma once
#include <cstdint>
#include <vector>

#include "runtime/kernels/reference/pool_ref.h"

namespace qforge::runtime {

// The valid taps of one output position along one axis: k in [lo, hi) (i = o·stride − pad + k·dilation
// inside [0, in)), contiguous because i is monotonic in k; `padded`: the taps inside the padded
// extent [−pad_begin, in + pad_end) (count_include_pad's divisor). No valid tap: lo = hi = 0.
struct QPoolTap {
  int64_t lo, hi, padded;
};
struct QPoolTaps {
  std::vector<QPoolTap> axis[3];  // per axis, one per output position
};
QPoolTaps qpool_taps(const PoolGeom& g);

// y = max over the window's valid taps; an all-padding window gives the type's lowest value.
template <class T>
void qmaxpool_nhwc(const PoolGeom& g, const T* x, T* y, int threads);

// Requantization of a window sum: y = requantize_f32(Σ (x − x_zp), scale_of[divisor], zero_point,
// qmin, qmax), divisor = valid taps (or, include_pad, the taps inside the padded extent).
struct QAvgPoolOut {
  const float* scale_of = nullptr;  // indexed by the divisor, 0 .. kernel size
  int32_t zero_point = 0, qmin = 0, qmax = 255;
  bool include_pad = false;
};
template <class T>
void qavgpool_nhwc(const PoolGeom& g, const QAvgPoolOut& o, const T* x, int32_t x_zp, T* y, int threads);

// Global average: x [N][plane][C] → y [N][C] (the same bytes as [N][C][1][1]); scale_of[0] is the
// requantization scale x_scale / (y_scale · plane).
template <class T>
void qavgpool_global_nhwc(int64_t batch, int64_t plane, int64_t channels, const QAvgPoolOut& o, const T* x,
                          int32_t x_zp, T* y, int threads);

}  // namespace qforge::runtime
