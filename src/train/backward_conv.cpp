// Conv backward (any group incl. depthwise, strides, dilations, pads, auto_pad; 1-D to 3-D): reads
// the geometry and runs the kernels of train/kernels/conv_grad.h (the math is stated there).
#include <vector>

#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"
#include "train/kernels/conv_grad.h"

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
  const bool want_b = c.wants(2) && c.has_input(2);
  // The kernels overwrite every element.
  Tensor dx = c.wants(0) ? uninit_f32(x.shape()) : Tensor();
  Tensor dw = c.wants(1) ? uninit_f32(w.shape()) : Tensor();
  Tensor db = want_b ? uninit_f32(c.inputs[2].shape()) : Tensor();
  const ConvGradOut out{dx.empty() ? nullptr : dx.data<float>(), dw.empty() ? nullptr : dw.data<float>(),
                        db.empty() ? nullptr : db.data<float>()};
  conv_grad_f32(g, x.data<float>(), w.data<float>(), dy.data<float>(), out, c.threads);
  if (c.wants(0)) c.grad_inputs[0] = dx;
  if (c.wants(1)) c.grad_inputs[1] = dw;
  if (want_b) c.grad_inputs[2] = db;
}

}  // namespace qforge::train
