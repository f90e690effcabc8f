// qforge.QAvgPool and qforge.QMaxPool (qlinear.h). QAvgPool: AveragePool / GlobalAveragePool on quantized values —
//   acc = Σ_window (x − x_zp)   (exact int32; padding contributes 0)
//   y   = requantize_f32(acc, x_scale / (y_scale · divisor), y_zp, qmin, qmax)
// divisor: in-bounds window positions, or with count_include_pad the positions inside the padded
// extent (as avgpool_f32__ref); the whole plane for the global pool. The unlowered graph sums the
// dequantized floats and divides: the two agree to within one quantization step.
// Channels-last x / y (qforge.nhwc_in / nhwc_out, qlinear.h): the kernels of kernels/qpool_nhwc.h
// (bit-identical to the NCHW ones); where the two layouts differ, y is transposed after the kernel
// of x's layout.
#include <algorithm>
#include <limits>
#include <memory>

#include "quant/requantize.h"
#include "runtime/kernels/qpool_nhwc.h"
#include "runtime/kernels/reference/pool_ref.h"
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"
#include "runtime/ops/qlinear.h"

namespace qforge::runtime {

namespace {

bool is_global(const ir::Node& n) { return n.attr_i("qforge.global", 0) != 0; }

std::vector<TypeShape> infer_qavgpool_nchw(const InferCtx& c, const TypeShape& x) {
  const DType out_t = c.in(4).dtype;
  if (!x.has_shape) return {TypeShape::unknown_rank(out_t)};
  const int nd = x.rank() - 2;
  if (nd < 1 || nd > 3) fail_node(c.node, "x has rank {}, expected 3 to 5", x.rank());
  TypeShape y{out_t, true, {x.dims[0], x.dims[1]}};
  if (is_global(c.node)) {
    for (int i = 0; i < nd; ++i) y.dims.push_back(ir::Dim::known(1));
    return {y};
  }
  const WindowAttrs a = read_window_attrs(c.node, nd, {});
  for (int i = 0; i < nd; ++i) {
    const ir::Dim& in = x.dims[i + 2];
    y.dims.push_back(in.is_known() ? ir::Dim::known(conv_axis(c.node, a, i, in.value).out) : ir::Dim{});
  }
  return {y};
}

std::vector<TypeShape> infer_qavgpool(const InferCtx& c) {
  if (c.num_inputs() != 5) fail_node(c.node, "expects 5 inputs, got {}", c.num_inputs());
  require_q8(c, 0, "x");
  require_q8(c, 4, "y_zero_point");
  const bool in_l = q_nhwc_in(c.node);
  std::vector<TypeShape> y = infer_qavgpool_nchw(c, in_l ? q_dims_nchw(c.node, c.in(0), "qforge.nhwc_in") : c.in(0));
  if (q_nhwc_out(c.node)) y[0] = q_dims_nhwc(c.node, y[0], "qforge.nhwc_out");
  return y;
}

PoolGeom qpool_geom(const ir::Node& node, const Shape& x) {
  const int nd = static_cast<int>(x.size()) - 2;
  PoolGeom g;
  g.batch = x[0];
  g.channels = x[1];
  g.nd = nd;
  const int off = 3 - nd;
  if (is_global(node)) {
    for (int i = 0; i < nd; ++i) g.in[off + i] = g.kernel[off + i] = x[i + 2];
    return g;
  }
  const WindowAttrs a = read_window_attrs(node, nd, {});
  for (int i = 0; i < nd; ++i) {
    const AxisWindow aw = conv_axis(node, a, i, x[i + 2]);
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

struct QPoolState {
  double ratio = 1;  // x_scale / y_scale
  int32_t y_zp = 0, qmin = 0, qmax = 255;
  bool include_pad = false;
};

std::shared_ptr<void> prepare_qavgpool(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i = 1; i < 5; ++i)
    if (i >= k.size() || !k[i]) fail_node(node, "input {} must be a constant", i);
  auto s = std::make_shared<QPoolState>();
  s->ratio = static_cast<double>(q_scalar_f32(node, k[1], "x_scale")) / q_scalar_f32(node, k[3], "y_scale");
  s->y_zp = q_scalar_zp(node, k[4], "y_zero_point");
  q_clamp(node, k[4]->dtype(), s->qmin, s->qmax);
  s->include_pad = node.attr_i("count_include_pad", 0) != 0;
  return s;
}

template <class T>
void qavgpool_plane(const PoolGeom& g, const QPoolTaps& tr, const std::vector<float>& scale_of, const QPoolState& s,
                    const T* x, int32_t x_zp, T* y) {
  int64_t i = 0;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const QPoolTap& rd = tr.axis[0][od];
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const QPoolTap& rh = tr.axis[1][oh];
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        const QPoolTap& rw = tr.axis[2][ow];
        int32_t acc = 0;
        for (int64_t kd = rd.lo; kd < rd.hi; ++kd) {
          const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
          for (int64_t kh = rh.lo; kh < rh.hi; ++kh) {
            const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
            const T* xr = x + (id * g.in[1] + ih) * g.in[2] + ow * g.stride[2] - g.pad_begin[2];
            for (int64_t kw = rw.lo; kw < rw.hi; ++kw) acc += static_cast<int32_t>(xr[kw * g.dilation[2]]) - x_zp;
          }
        }
        // Taps inside x form a box: i is monotonic in k, so each axis's valid taps are contiguous.
        const int64_t valid = [&] {
          int64_t v[3];
          const QPoolTap* r[3] = {&rd, &rh, &rw};
          for (int a = 0; a < 3; ++a) v[a] = r[a]->hi - r[a]->lo;
          return v[0] * v[1] * v[2];
        }();
        const int64_t divisor = s.include_pad ? rd.padded * rh.padded * rw.padded : valid;
        y[i++] = static_cast<T>(quant::requantize_f32(acc, scale_of[static_cast<size_t>(divisor)], s.y_zp, s.qmin, s.qmax));
      }
    }
  }
}

template <class T>
void qavgpool_global(int64_t planes, int64_t plane, const QPoolState& s, const T* x, int32_t x_zp, T* y, int threads) {
  const float scale = static_cast<float>(s.ratio / static_cast<double>(std::max<int64_t>(plane, 1)));
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && planes * plane > 65536)
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * plane;
    int32_t acc = 0;
    for (int64_t i = 0; i < plane; ++i) acc += static_cast<int32_t>(xp[i]);
    acc -= static_cast<int32_t>(plane) * x_zp;
    y[p] = static_cast<T>(quant::requantize_f32(acc, scale, s.y_zp, s.qmin, s.qmax));
  }
}

// The logical (NCHW) geometry of the node's x.
PoolGeom qpool_geom_of(const KernelCtx& k) {
  const Shape& x = k.inputs[0].shape();
  return qpool_geom(k.node, q_nhwc_in(k.node) ? q_shape_nchw(x) : x);
}

// Runs the kernel of x's layout — nchw(x, y) or nhwc(x, y), y in the same layout — and transposes y
// where the node's output layout differs (a 1×1 output plane has the same bytes in both).
template <class T, class Nchw, class Nhwc>
void run_in_layouts(KernelCtx& k, const PoolGeom& g, Nchw nchw, Nhwc nhwc) {
  const bool in_l = q_nhwc_in(k.node), out_l = q_nhwc_out(k.node);
  const T* x = k.inputs[0].data<T>();
  T* y = k.outputs[0].data<T>();
  const int64_t P = g.out_plane();
  if (in_l == out_l || P == 1) {
    if (in_l) nhwc(x, y);
    else nchw(x, y);
    return;
  }
  static thread_local std::vector<uint8_t> tmp;
  tmp.resize(static_cast<size_t>(k.outputs[0].numel()));
  T* t = reinterpret_cast<T*>(tmp.data());
  auto* yb = reinterpret_cast<uint8_t*>(y);
  if (in_l) {
    nhwc(x, t);
    q_to_nchw(tmp.data(), yb, g.batch, g.channels, P, k.threads);
  } else {
    nchw(x, t);
    q_to_nhwc(tmp.data(), yb, g.batch, g.channels, P, k.threads);
  }
}

template <class T>
void qavgpool(KernelCtx& k, const QPoolState& s, int32_t x_zp) {
  const PoolGeom g = qpool_geom_of(k);
  const int64_t planes = g.batch * g.channels;
  const int threads = k.threads;
  if (is_global(k.node)) {
    const float scale = static_cast<float>(s.ratio / static_cast<double>(std::max<int64_t>(g.in_plane(), 1)));
    const QAvgPoolOut o{&scale, s.y_zp, s.qmin, s.qmax, false};
    return run_in_layouts<T>(
        k, g, [&](const T* x, T* y) { qavgpool_global(planes, g.in_plane(), s, x, x_zp, y, threads); },
        [&](const T* x, T* y) { qavgpool_global_nhwc(g.batch, g.in_plane(), g.channels, o, x, x_zp, y, threads); });
  }
  // requantization scale per divisor (1 .. kernel size), computed once: x_scale / (y_scale · divisor)
  std::vector<float> scale_of(static_cast<size_t>(g.kernel[0] * g.kernel[1] * g.kernel[2] + 1));
  for (size_t d = 0; d < scale_of.size(); ++d)
    scale_of[d] = static_cast<float>(s.ratio / static_cast<double>(std::max<size_t>(d, 1)));
  const QAvgPoolOut o{scale_of.data(), s.y_zp, s.qmin, s.qmax, s.include_pad};
  const auto nchw = [&](const T* x, T* y) {
    const QPoolTaps tr = qpool_taps(g);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; ++p)
      qavgpool_plane(g, tr, scale_of, s, x + p * g.in_plane(), x_zp, y + p * g.out_plane());
  };
  run_in_layouts<T>(k, g, nchw, [&](const T* x, T* y) { qavgpool_nhwc(g, o, x, x_zp, y, threads); });
}

void compute_qavgpool(KernelCtx& k) {
  const auto& s = *static_cast<const QPoolState*>(k.state);
  const int32_t x_zp = q_scalar_zp(k.node, &k.inputs[2], "x_zero_point");
  if (k.inputs[0].dtype() != k.outputs[0].dtype()) fail_node(k.node, "x and y must have the same dtype");
  if (k.inputs[0].dtype() == DType::u8) qavgpool<uint8_t>(k, s, x_zp);
  else qavgpool<int8_t>(k, s, x_zp);
}

// ---- QMaxPool: MaxPool on u8 / s8 (no Indices output), the same values as maxpool_*8__ref ----

std::vector<TypeShape> infer_qmaxpool(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  require_q8(c, 0, "x");
  const TypeShape x = q_nhwc_in(c.node) ? q_dims_nchw(c.node, c.in(0), "qforge.nhwc_in") : c.in(0);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  const int nd = x.rank() - 2;
  if (nd < 1 || nd > 3) fail_node(c.node, "x has rank {}, expected 3 to 5", x.rank());
  const WindowAttrs a = read_window_attrs(c.node, nd, {});
  TypeShape y{x.dtype, true, {x.dims[0], x.dims[1]}};
  for (int i = 0; i < nd; ++i) {
    const ir::Dim& in = x.dims[i + 2];
    y.dims.push_back(in.is_known() ? ir::Dim::known(conv_axis(c.node, a, i, in.value).out) : ir::Dim{});
  }
  return {q_nhwc_out(c.node) ? q_dims_nhwc(c.node, y, "qforge.nhwc_out") : y};
}

// Per output row: the column-wise max over the window's valid input rows (contiguous, vectorises),
// then the max over each window's valid columns. An all-padding window gives the type's lowest value.
template <class T>
void qmaxpool_plane(const PoolGeom& g, const T* x, T* y, T* rowmax) {
  const T lowest = std::numeric_limits<T>::lowest();
  const int64_t W = g.in[2];
  const bool inner = g.pad_begin[2] == 0 && g.out[2] > 0 &&
                     (g.out[2] - 1) * g.stride[2] + (g.kernel[2] - 1) * g.dilation[2] < W;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      for (int64_t w = 0; w < W; ++w) rowmax[w] = lowest;
      for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
        const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
          const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          const T* xr = x + (id * g.in[1] + ih) * W;
          for (int64_t w = 0; w < W; ++w) rowmax[w] = std::max(rowmax[w], xr[w]);
        }
      }
      T* yr = y + (od * g.out[1] + oh) * g.out[2];
      if (inner) {  // every window inside the row: no bounds checks, the loop vectorises
        const int64_t s = g.stride[2], dl = g.dilation[2], KW = g.kernel[2];
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          T m = rowmax[ow * s];
          for (int64_t kw = 1; kw < KW; ++kw) m = std::max(m, rowmax[ow * s + kw * dl]);
          yr[ow] = m;
        }
        continue;
      }
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        T m = lowest;
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
          if (iw >= 0 && iw < W) m = std::max(m, rowmax[iw]);
        }
        yr[ow] = m;
      }
    }
}

// 2×2 windows, stride 2, no padding, even input (the common downsampling MaxPool): the vertical max
// of each pair of input rows, then the horizontal max of each pair of columns — both flat loops over
// the whole tensor (planes of 28×28 or 14×14 are too small for per-row loops to pay off).
bool is_maxpool_2x2s2(const PoolGeom& g) {
  return g.in[0] == 1 && g.kernel[1] == 2 && g.kernel[2] == 2 && g.stride[1] == 2 && g.stride[2] == 2 &&
         g.dilation[1] == 1 && g.dilation[2] == 1 && g.pad_begin[1] == 0 && g.pad_begin[2] == 0 &&
         g.in[1] == 2 * g.out[1] && g.in[2] == 2 * g.out[2];
}

template <class T>
void qmaxpool_2x2s2(const PoolGeom& g, const T* x, T* y, int threads) {
  const int64_t W = g.in[2], rows = g.batch * g.channels * g.out[1], block = 64;
  const int64_t blocks = (rows + block - 1) / block;
#pragma omp parallel num_threads(threads) if (threads > 1 && rows * W > 65536)
  {
    std::vector<T> v(static_cast<size_t>(block * W));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * block, r1 = std::min(rows, r0 + block);
      for (int64_t r = r0; r < r1; ++r) {
        const T* a = x + 2 * r * W;
        T* vr = v.data() + (r - r0) * W;
        for (int64_t w = 0; w < W; ++w) vr[w] = std::max(a[w], a[W + w]);
      }
      T* yb = y + r0 * (W / 2);
      const int64_t n = (r1 - r0) * (W / 2);
      for (int64_t i = 0; i < n; ++i) yb[i] = std::max(v[2 * i], v[2 * i + 1]);
    }
  }
}

template <class T>
void qmaxpool_nchw(const PoolGeom& g, const T* x, T* y, int threads) {
  const int64_t planes = g.batch * g.channels;
  if (is_maxpool_2x2s2(g)) {
    qmaxpool_2x2s2(g, x, y, threads);
    return;
  }
#pragma omp parallel num_threads(threads) if (threads > 1 && planes * g.in_plane() > 65536)
  {
    std::vector<T> rowmax(static_cast<size_t>(g.in[2]));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) qmaxpool_plane(g, x + p * g.in_plane(), y + p * g.out_plane(), rowmax.data());
  }
}

template <class T>
void qmaxpool(KernelCtx& k) {
  const PoolGeom g = qpool_geom_of(k);
  const int threads = k.threads;
  run_in_layouts<T>(
      k, g, [&](const T* x, T* y) { qmaxpool_nchw(g, x, y, threads); },
      [&](const T* x, T* y) { qmaxpool_nhwc(g, x, y, threads); });
}

void compute_qmaxpool(KernelCtx& k) {
  if (k.inputs[0].dtype() == DType::u8) qmaxpool<uint8_t>(k);
  else qmaxpool<int8_t>(k);
}

}  // namespace

void register_ops_qlinear_pool(std::vector<OpDef>& ops) {
  ops.push_back({"QAvgPool", "qforge", infer_qavgpool, compute_qavgpool, prepare_qavgpool});
  ops.push_back({"QMaxPool", "qforge", infer_qmaxpool, compute_qmaxpool, nullptr});
}

}  // namespace qforge::runtime
