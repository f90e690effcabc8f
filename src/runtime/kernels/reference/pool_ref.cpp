#include "runtime/kernels/reference/pool_ref.h"

#include <limits>

namespace qforge::runtime {

namespace {

// Spatial index of (d, h, w) in column-major order over the op's own spatial axes.
int64_t column_major_index(const PoolGeom& g, int64_t d, int64_t h, int64_t w) {
  switch (g.nd) {
    case 1: return w;
    case 2: return w * g.in[1] + h;
    default: return (w * g.in[1] + h) * g.in[0] + d;
  }
}

template <typename T>
void maxpool_ref(const PoolGeom& g, const T* x, T* y, int64_t* indices, int storage_order) {
  for (int64_t nc = 0; nc < g.batch * g.channels; ++nc) {
    const T* xp = x + nc * g.in_plane();
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          T best = std::numeric_limits<T>::lowest();
          int64_t bd = -1, bh = -1, bw = -1;
          bool found = false;
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              if (ih < 0 || ih >= g.in[1]) continue;
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                if (iw < 0 || iw >= g.in[2]) continue;
                const T v = xp[(id * g.in[1] + ih) * g.in[2] + iw];
                if (!found || v > best) {
                  best = v, bd = id, bh = ih, bw = iw;
                  found = true;
                }
              }
            }
          }
          const int64_t o = nc * g.out_plane() + (od * g.out[1] + oh) * g.out[2] + ow;
          y[o] = best;
          if (indices) {
            const int64_t spatial = storage_order == 1 ? column_major_index(g, bd, bh, bw)
                                                       : (bd * g.in[1] + bh) * g.in[2] + bw;
            indices[o] = found ? nc * g.in_plane() + spatial : -1;
          }
        }
  }
}

}  // namespace

void maxpool_f32__ref(const PoolGeom& g, const float* x, float* y, int64_t* indices, int storage_order) {
  maxpool_ref(g, x, y, indices, storage_order);
}
void maxpool_s8__ref(const PoolGeom& g, const int8_t* x, int8_t* y, int64_t* indices, int storage_order) {
  maxpool_ref(g, x, y, indices, storage_order);
}
void maxpool_u8__ref(const PoolGeom& g, const uint8_t* x, uint8_t* y, int64_t* indices, int storage_order) {
  maxpool_ref(g, x, y, indices, storage_order);
}

void avgpool_f32__ref(const PoolGeom& g, bool count_include_pad, const float* x, float* y) {
  for (int64_t nc = 0; nc < g.batch * g.channels; ++nc) {
    const float* xp = x + nc * g.in_plane();
    float* yp = y + nc * g.out_plane();
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          double sum = 0;
          int64_t valid = 0, padded = 0;
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                const bool in_pad_extent = id < g.in[0] + g.pad_end[0] && ih < g.in[1] + g.pad_end[1] &&
                                           iw < g.in[2] + g.pad_end[2];
                if (in_pad_extent) ++padded;
                if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2]) continue;
                sum += xp[(id * g.in[1] + ih) * g.in[2] + iw];
                ++valid;
              }
            }
          }
          const int64_t divisor = count_include_pad ? padded : valid;
          yp[(od * g.out[1] + oh) * g.out[2] + ow] = static_cast<float>(sum / static_cast<double>(divisor));
        }
  }
}

void global_avgpool_f32__ref(int64_t planes, int64_t plane, const float* x, float* y) {
  for (int64_t p = 0; p < planes; ++p) {
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += x[p * plane + i];
    y[p] = static_cast<float>(sum / static_cast<double>(plane));
  }
}

void global_maxpool_f32__ref(int64_t planes, int64_t plane, const float* x, float* y) {
  for (int64_t p = 0; p < planes; ++p) {
    float best = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < plane; ++i) best = x[p * plane + i] > best ? x[p * plane + i] : best;
    y[p] = best;
  }
}

}  // namespace qforge::runtime
