// qforge.QConv (qlinear.h): INT8 convolution of the lowered QDQ Conv. Weights are packed once at
// prepare for the qgemm kernel of the active ISA; compute picks, in order: the reference at ISA ref,
// the direct depthwise kernel (group == C == M, 1-D / 2-D), im2col + qgemm (kernels/qconv.h).
// Channels-last x / y (qforge.nhwc_in / nhwc_out, qlinear.h): im2col reads and writes either layout
// itself; the depthwise kernel runs channels-last when either side is (the other side transposed);
// the reference runs NCHW between transposes.
#include <memory>

#include "core/cpu.h"
#include "runtime/kernels/qconv.h"
#include "runtime/kernels/qconv_dw_nhwc.h"
#include "runtime/kernels/reference/qconv_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"
#include "runtime/ops/qlinear.h"

namespace qforge::runtime {

namespace {

// The NCHW output of the NCHW x.
TypeShape infer_qconv_nchw(const InferCtx& c, const TypeShape& x) {
  const DType out_t = c.in(6).dtype;
  const TypeShape& w = c.in(3);
  if (!x.has_shape || !w.has_shape) return TypeShape::unknown_rank(out_t);
  const int nd = x.rank() - 2;
  if (nd < 1 || nd > 3 || w.rank() != x.rank()) fail_node(c.node, "x has rank {}, w rank {}", x.rank(), w.rank());
  std::vector<int64_t> kw(static_cast<size_t>(nd), -1);
  for (int i = 0; i < nd; ++i) kw[i] = w.dims[i + 2].is_known() ? w.dims[i + 2].value : -1;
  const WindowAttrs a = read_window_attrs(c.node, nd, kw);
  const int64_t group = c.node.attr_i("group", 1);
  if (x.dims[1].is_known() && w.dims[1].is_known() && x.dims[1].value != w.dims[1].value * group)
    fail_node(c.node, "x has {} channels but w expects {} x group {}", x.dims[1].value, w.dims[1].value, group);
  TypeShape out{out_t, true, {x.dims[0], w.dims[0]}};
  for (int i = 0; i < nd; ++i) {
    const ir::Dim& in = x.dims[i + 2];
    if (!in.is_known() || a.kernel[i] < 0) {
      out.dims.emplace_back();
      continue;
    }
    out.dims.push_back(ir::Dim::known(conv_axis(c.node, a, i, in.value).out));
  }
  return out;
}

std::vector<TypeShape> infer_qconv(const InferCtx& c) {
  if (c.num_inputs() < 7 || c.num_inputs() > 8) fail_node(c.node, "expects 7 or 8 inputs, got {}", c.num_inputs());
  require_q8(c, 0, "x");
  require_q8(c, 6, "y_zero_point");
  if (c.in(3).dtype != DType::s8) fail_node(c.node, "w must be s8");
  const TypeShape y =
      infer_qconv_nchw(c, q_nhwc_in(c.node) ? q_dims_nchw(c.node, c.in(0), "qforge.nhwc_in") : c.in(0));
  return {q_nhwc_out(c.node) ? q_dims_nhwc(c.node, y, "qforge.nhwc_out") : y};
}

ConvGeom qconv_geom(const ir::Node& node, const Shape& x, const Shape& w) {
  const int nd = static_cast<int>(x.size()) - 2;
  const WindowAttrs a = read_window_attrs(node, nd, std::vector<int64_t>(w.begin() + 2, w.end()));
  ConvGeom g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.group = node.attr_i("group", 1);
  g.out_channels = w[0];
  const int off = 3 - nd;
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

struct QConvState {
  Tensor w;                      // s8 [M][C/G][k...]
  std::vector<float> scale;      // x_scale · w_scale[m] / y_scale
  std::vector<int32_t> bias;     // [M]
  QgemmOutputStage out;          // pointers into scale / bias
  Isa isa = Isa::ref;
  const QgemmKernel* gemm = nullptr;
  QconvPackedW packed;           // for the im2col path (not depthwise)
  const QconvDwNhwcKernel* dw = nullptr;  // depthwise: the channels-last kernel and its weights
  QconvDwNhwcWeights dw_packed;
};

std::shared_ptr<void> prepare_qconv(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i = 1; i < k.size(); ++i)
    if (!k[i]) fail_node(node, "input {} must be a constant", i);
  auto s = std::make_shared<QConvState>();
  s->w = *k[3];
  const int64_t M = s->w.dim(0);
  const float xs = q_scalar_f32(node, k[1], "x_scale"), ys = q_scalar_f32(node, k[5], "y_scale");
  const Tensor& ws = *k[4];
  if (ws.numel() != M) fail_node(node, "w_scale has {} values, expected {}", ws.numel(), M);
  for (int64_t m = 0; m < M; ++m)
    s->scale.push_back(static_cast<float>(static_cast<double>(xs) * ws.data<float>()[m] / ys));
  s->bias.assign(static_cast<size_t>(M), 0);
  if (k.size() > 7 && k[7]) {
    if (k[7]->dtype() != DType::s32 || k[7]->numel() != M) fail_node(node, "bias must be s32 [{}]", M);
    for (int64_t m = 0; m < M; ++m) s->bias[m] = k[7]->data<int32_t>()[m];
  }
  const DType out_t = k[6]->dtype();
  s->out.type = out_t == DType::u8 ? QgemmOut::u8 : QgemmOut::s8;
  s->out.zero_point = q_scalar_zp(node, k[6], "y_zero_point");
  q_clamp(node, out_t, s->out.qmin, s->out.qmax);
  s->out.scale = s->scale.data();
  s->out.bias = s->bias.data();
  s->isa = active_isa();
  ConvGeom g;  // channels, group, kernel, strides, dilations: what the packing needs
  g.group = node.attr_i("group", 1);
  s->gemm = &qgemm_kernel(s->isa, static_cast<size_t>(M / g.group));  // N of each group's product
  g.out_channels = M;
  g.in_channels = s->w.dim(1) * g.group;
  const int nd = s->w.rank() - 2;
  const std::vector<int64_t> strides = node.attr_ints("strides"), dilations = node.attr_ints("dilations");
  for (int i = 0; i < nd; ++i) {
    g.kernel[3 - nd + i] = s->w.dim(i + 2);
    if (static_cast<int>(strides.size()) == nd) g.stride[3 - nd + i] = strides[i];
    if (static_cast<int>(dilations.size()) == nd) g.dilation[3 - nd + i] = dilations[i];
  }
  if (s->isa != Isa::ref && !qconv_is_depthwise(g)) s->packed = pack_qconv_weights(*s->gemm, g, s->w.data<int8_t>());
  if (s->isa != Isa::ref && qconv_is_depthwise(g) && nd <= 2) {
    s->dw = &qconv_dw_nhwc_kernel(s->isa);
    s->dw_packed = pack_qconv_dw_nhwc(*s->dw, g, s->w.data<int8_t>());
  }
  return s;
}

void compute_qconv(KernelCtx& k) {
  const auto& s = *static_cast<const QConvState*>(k.state);
  const Tensor& x = k.inputs[0];
  const bool in_l = q_nhwc_in(k.node), out_l = q_nhwc_out(k.node);
  const ConvGeom g = qconv_geom(k.node, in_l ? q_shape_nchw(x.shape()) : x.shape(), s.w.shape());
  static thread_local std::vector<uint8_t> tmp, x_tmp, y_tmp;
  int32_t x_zp = q_scalar_zp(k.node, &k.inputs[2], "x_zero_point");
  const uint8_t* xu = q_as_u8(x, tmp, x_zp, k.threads);
  const int8_t* w = s.w.data<int8_t>();
  auto* y = static_cast<uint8_t*>(k.outputs[0].raw());
  if (g.batch == 0) return;
  const int64_t N = g.batch, C = g.in_channels, M = g.out_channels;
  const auto buf = [](std::vector<uint8_t>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
    return v.data();
  };
  const bool depthwise = qconv_is_depthwise(g);
  if (s.isa != Isa::ref && !depthwise) {
    qconv_u8s8__im2col(*s.gemm, g, xu, static_cast<uint8_t>(x_zp), s.packed, s.out, y, k.threads, {in_l, out_l});
    return;
  }
  // Depthwise on the channels-last kernel (kernels/qconv_dw_nhwc.h), NCHW sides transposed: even with
  // both transposes it is several times faster than the NCHW kernel.
  const bool dw_nhwc = s.dw && qconv_dw_nhwc_applies(g, s.out);
  if (s.isa != Isa::ref && (dw_nhwc || in_l || out_l)) {
    const uint8_t* xl = xu;
    if (!in_l) {
      uint8_t* t = buf(x_tmp, N * C * g.in_plane());
      q_to_nhwc(xu, t, N, C, g.in_plane(), k.threads);
      xl = t;
    }
    uint8_t* yl = out_l ? y : buf(y_tmp, N * M * g.out_plane());
    if (dw_nhwc) qconv_dw_nhwc_u8s8(*s.dw, g, xl, static_cast<uint8_t>(x_zp), s.dw_packed, s.out, yl, k.threads);
    else qconv_dw_u8s8_channels_last(s.isa, g, xl, x_zp, w, s.out, yl, k.threads);
    if (!out_l) q_to_nchw(yl, y, N, M, g.out_plane(), k.threads);
    return;
  }
  // NCHW kernels: the reference, or depthwise
  const uint8_t* xc = xu;
  if (in_l) {
    uint8_t* t = buf(x_tmp, N * C * g.in_plane());
    q_to_nchw(xu, t, N, C, g.in_plane(), k.threads);
    xc = t;
  }
  uint8_t* yc = out_l ? buf(y_tmp, N * M * g.out_plane()) : y;
  if (s.isa == Isa::ref) {
    qconv_u8s8__ref(g, xc, x_zp, w, s.out, yc);
  } else {
    const QconvDwKernel& dk = qconv_dw_applies(g, s.out) ? qconv_dw_kernel(s.isa) : qconv_dw_kernels()[0];
    qconv_dw_u8s8(dk, g, xc, x_zp, w, s.out, yc, k.threads);
  }
  if (out_l) q_to_nhwc(yc, y, N, M, g.out_plane(), k.threads);
}

}  // namespace

void register_ops_qlinear_conv(std::vector<OpDef>& ops) {
  ops.push_back({"QConv", "qforge", infer_qconv, compute_qconv, prepare_qconv});
}

}  // namespace qforge::runtime
