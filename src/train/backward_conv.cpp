// Conv backward (any group incl. depthwise, strides, dilations, pads, auto_pad; 1-D to 3-D), per
// image n and group g, with cols = im2col(X_g) [K = (C/G)·kD·kH·kW × P = output positions]:
//   dW_g += dY_g[M/G × P] · cols^T          dcols = W_g^T · dY_g,  dX_g = col2im(dcols)
//   dB[m] = Σ_{n, p} dY[n][m][p]
#include <vector>

#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

namespace {

runtime::ConvGeom conv_geom(const ir::Node& node, const Shape& x, const Shape& w) {
  const int nd = static_cast<int>(x.size()) - 2;
  if (nd < 1 || nd > 3) fail_input("{}: training supports 1-D to 3-D Conv, got rank {}", node.describe(), x.size());
  const std::vector<int64_t> kw(w.begin() + 2, w.end());
  const runtime::WindowAttrs a = runtime::read_window_attrs(node, nd, kw);
  runtime::ConvGeom g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.group = node.attr_i("group", 1);
  g.out_channels = w[0];
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

// Visits every (row k of cols, output position p, input offset) with the tap inside x.
template <class Fn>
void for_taps(const runtime::ConvGeom& g, int64_t cg, Fn&& fn) {
  const int64_t P = g.out_plane(), ks = g.kernel_size();
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t k = c * ks + (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t oh = 0; oh < g.out[1]; ++oh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              if (ih < 0 || ih >= g.in[1]) continue;
              const int64_t row = ((c * g.in[0] + id) * g.in[1] + ih) * g.in[2];
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                if (iw < 0 || iw >= g.in[2]) continue;
                fn(k * P + (od * g.out[1] + oh) * g.out[2] + ow, row + iw);
              }
            }
          }
        }
}

}  // namespace

void backward_conv(BackwardCtx& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& w = c.inputs[1];
  const Tensor& dy = c.grad_outputs[0];
  if (x.dtype() != DType::f32 || w.dtype() != DType::f32)
    fail_input("{}: training needs float32 Conv inputs", c.node.describe());
  if (runtime::fused_activation_of(c.node).kind != runtime::FusedActivation::Kind::none)
    fail_input("{}: training does not support fused activations", c.node.describe());
  const runtime::ConvGeom g = conv_geom(c.node, x.shape(), w.shape());
  const int64_t G = g.group, Cg = g.in_channels / G, Mg = g.out_channels / G;
  const int64_t P = g.out_plane(), K = Cg * g.kernel_size(), IP = g.in_plane();
  const bool want_x = c.wants(0), want_w = c.wants(1), want_b = c.wants(2) && c.has_input(2);
  Tensor dx = want_x ? zeros_like(x) : Tensor();
  Tensor dw = want_w ? zeros_like(w) : Tensor();
  std::vector<float> cols(want_w ? static_cast<size_t>(K * P) : 0), dcols(want_x ? static_cast<size_t>(K * P) : 0);
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* dyp = dy.data<float>();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < G; ++gi) {
      const float* xg = xp + (n * g.in_channels + gi * Cg) * IP;
      const float* dyg = dyp + (n * g.out_channels + gi * Mg) * P;
      if (want_w) {
        std::fill(cols.begin(), cols.end(), 0.f);
        for_taps(g, Cg, [&](int64_t ci, int64_t xi) { cols[ci] = xg[xi]; });
        matmul_f32(Mg, K, P, {dyg, P, 1}, {cols.data(), 1, P}, dw.data<float>() + gi * Mg * K, true, c.threads);
      }
      if (want_x) {
        matmul_f32(K, P, Mg, {wp + gi * Mg * K, 1, K}, {dyg, P, 1}, dcols.data(), false, c.threads);
        float* dxg = dx.data<float>() + (n * g.in_channels + gi * Cg) * IP;
        for_taps(g, Cg, [&](int64_t ci, int64_t xi) { dxg[xi] += dcols[ci]; });
      }
    }
  if (want_x) c.grad_inputs[0] = dx;
  if (want_w) c.grad_inputs[1] = dw;
  if (want_b) {
    Tensor db = zeros_like(c.inputs[2]);
    float* b = db.data<float>();
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t m = 0; m < g.out_channels; ++m) {
        const float* d = dyp + (n * g.out_channels + m) * P;
        double s = 0;
        for (int64_t p = 0; p < P; ++p) s += d[p];
        b[m] += static_cast<float>(s);
      }
    c.grad_inputs[2] = db;
  }
}

}  // namespace qforge::train
