// Pooling backward. A window of output o covers input positions p = o·stride - pad_begin + k·dilation.
//   MaxPool: dY[o] goes to the window's first in-bounds maximum (the runtime's tie rule).
//   AveragePool: dY[o] / divisor goes to every in-bounds position; divisor as in the forward
//     (in-bounds count, or with count_include_pad the positions inside [-pad_begin, in + pad_end)).
//   GlobalAveragePool: dX = dY / plane, broadcast over the plane.
#include <algorithm>
#include <vector>

#include "runtime/kernels/reference/pool_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

namespace {

runtime::PoolGeom pool_geom(const ir::Node& node, const Shape& x) {
  const int nd = static_cast<int>(x.size()) - 2;
  if (nd < 1 || nd > 3) fail_input("{}: training supports 1-D to 3-D pools, got rank {}", node.describe(), x.size());
  const runtime::WindowAttrs a = runtime::read_window_attrs(node, nd, {});
  runtime::PoolGeom g;
  g.batch = x[0];
  g.channels = x[1];
  g.nd = nd;
  const int off = 3 - nd;
  for (int i = 0; i < nd; ++i) {
    const runtime::AxisWindow aw = runtime::conv_axis(node, a, i, x[i + 2]);
    g.in[off + i] = x[i + 2];
    g.kernel[off + i] = a.kernel[i];
    g.out[off + i] = aw.out;
    g.stride[off + i] = a.strides[i];
    g.dilation[off + i] = a.dilations[i];
    g.pad_begin[off + i] = aw.pad_begin;
    g.pad_end[off + i] = aw.pad_end;
  }
  return g;
}

// Calls fn(output index in plane, in-bounds input index list, padded-extent count) per window.
template <class Fn>
void for_windows(const runtime::PoolGeom& g, Fn&& fn) {
  std::vector<int64_t> taps;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        taps.clear();
        int64_t padded = 0;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
              const bool in_pad = id >= -g.pad_begin[0] && id < g.in[0] + g.pad_end[0] &&
                                  ih >= -g.pad_begin[1] && ih < g.in[1] + g.pad_end[1] &&
                                  iw >= -g.pad_begin[2] && iw < g.in[2] + g.pad_end[2];
              padded += in_pad ? 1 : 0;
              if (id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1] && iw >= 0 && iw < g.in[2])
                taps.push_back((id * g.in[1] + ih) * g.in[2] + iw);
            }
          }
        }
        fn((od * g.out[1] + oh) * g.out[2] + ow, taps, padded);
      }
}

void require_f32(const BackwardCtx& c) {
  if (c.inputs[0].dtype() != DType::f32)
    fail_input("{}: training needs float32 input, got {}", c.node.describe(), dtype_name(c.inputs[0].dtype()));
}

}  // namespace

void backward_maxpool(BackwardCtx& c) {
  if (!c.wants(0) || c.grad_outputs[0].empty()) return;
  require_f32(c);
  const runtime::PoolGeom g = pool_geom(c.node, c.inputs[0].shape());
  Tensor dx = zeros_like(c.inputs[0]);
  const float* x = c.inputs[0].data<float>();
  const float* dy = c.grad_outputs[0].data<float>();
  float* d = dx.data<float>();
  const int64_t IP = g.in_plane(), OP = g.out_plane(), planes = g.batch * g.channels;
  // Planes in parallel (each writes only its own dX plane); within a window the taps run in
  // (kd, kh, kw) order and the first strictly greater value wins.
  // Every window inside x (no padding reached, e.g. MaxPool 2×2 stride 2): no bounds checks.
  bool inside = true;
  for (int i = 0; i < 3; ++i)
    inside = inside && g.pad_begin[i] == 0 && (g.out[i] - 1) * g.stride[i] + (g.kernel[i] - 1) * g.dilation[i] < g.in[i];
#pragma omp parallel for num_threads(c.threads) schedule(static) if (planes * OP > 16384)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* xp = x + pl * IP;
    const float* dyp = dy + pl * OP;
    float* dp = d + pl * IP;
    if (inside && g.out[0] == 1 && g.kernel[0] == 1) {
      const int64_t W = g.in[2], sh = g.stride[1] * W, sw = g.stride[2], dh = g.dilation[1] * W, dw = g.dilation[2];
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          const int64_t base = oh * sh + ow * sw;
          int64_t best = base;
          float bv = xp[base];
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t i = base + kh * dh + kw * dw;
              if (xp[i] > bv) bv = xp[i], best = i;
            }
          dp[best] += dyp[oh * g.out[2] + ow];
        }
      continue;
    }
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          int64_t best = -1;
          float bv = 0.f;
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              if (ih < 0 || ih >= g.in[1]) continue;
              const int64_t row = (id * g.in[1] + ih) * g.in[2];
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                if (iw < 0 || iw >= g.in[2]) continue;
                if (best < 0 || xp[row + iw] > bv) bv = xp[row + iw], best = row + iw;
              }
            }
          }
          if (best >= 0) dp[best] += dyp[(od * g.out[1] + oh) * g.out[2] + ow];
        }
  }
  c.grad_inputs[0] = dx;
}

void backward_avgpool(BackwardCtx& c) {
  if (!c.wants(0)) return;
  require_f32(c);
  const runtime::PoolGeom g = pool_geom(c.node, c.inputs[0].shape());
  const bool include_pad = c.node.attr_i("count_include_pad", 0) != 0;
  Tensor dx = zeros_like(c.inputs[0]);
  const float* dy = c.grad_outputs[0].data<float>();
  float* d = dx.data<float>();
  const int64_t IP = g.in_plane(), OP = g.out_plane(), planes = g.batch * g.channels;
#pragma omp parallel for num_threads(c.threads) schedule(static) if (planes * OP > 16384)
  for (int64_t pl = 0; pl < planes; ++pl)
    for_windows(g, [&](int64_t o, const std::vector<int64_t>& taps, int64_t padded) {
      const int64_t div = include_pad ? padded : static_cast<int64_t>(taps.size());
      if (div == 0) return;
      const float v = dy[pl * OP + o] / static_cast<float>(div);
      for (int64_t t : taps) d[pl * IP + t] += v;
    });
  c.grad_inputs[0] = dx;
}

void backward_global_avgpool(BackwardCtx& c) {
  if (!c.wants(0)) return;
  require_f32(c);
  const Tensor& x = c.inputs[0];
  const int64_t planes = x.dim(0) * x.dim(1), plane = planes ? x.numel() / planes : 0;
  Tensor dx = zeros_like(x);
  const float* dy = c.grad_outputs[0].data<float>();
  float* d = dx.data<float>();
#pragma omp parallel for num_threads(c.threads) schedule(static) if (planes * plane > 65536)
  for (int64_t p = 0; p < planes; ++p) {
    const float v = dy[p] / static_cast<float>(plane);
    std::fill(d + p * plane, d + (p + 1) * plane, v);
  }
  c.grad_inputs[0] = dx;
}

}  // namespace qforge::train
