// Conv and ConvTranspose (1-D to 3-D, groups incl. depthwise, strides, dilations, pads, auto_pad,
// output_padding / output_shape). Conv runs the reference at ISA level ref; otherwise, in order:
// the transposed product for pointwise convs over few positions (weights packed once in prepare),
// the depthwise kernels for group == C (flat phase planes for short rows on AVX-512, row by row
// otherwise), the direct padded-width kernel for stride-1 convs (AVX-512), im2col + SGEMM for the
// rest of 1-D / 2-D, the reference for 3-D. A fused activation (qforge.activation*) is applied in
// the kernels' output stage.
#include <algorithm>
#include <memory>

#include "core/cpu.h"
#include "runtime/kernels/conv_direct.h"
#include "runtime/kernels/conv_gemm.h"
#include "runtime/kernels/dwconv.h"
#include "runtime/kernels/dwconv_flat.h"
#include "runtime/kernels/reference/conv_ref.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

namespace {

void check_f32(const InferCtx& c, size_t i, const char* what) {
  if (c.has_input(i) && c.in(i).dtype != DType::f32 && c.in(i).dtype != DType::undefined)
    fail_node(c.node, "{} has dtype {}, only f32 is supported", what, dtype_name(c.in(i).dtype));
}

// Validates ranks and channel counts; returns the spatial rank, or 0 when X's rank is unknown.
int check_conv_inputs(const InferCtx& c, bool transpose) {
  require_input(c, 0, "X");
  require_input(c, 1, "W");
  check_f32(c, 0, "X");
  check_f32(c, 1, "W");
  check_f32(c, 2, "B");
  const TypeShape& x = c.in(0);
  const TypeShape& w = c.in(1);
  if (!x.has_shape) return 0;
  if (x.rank() < 3 || x.rank() > 5)
    fail_node(c.node, "X has rank {}, expected 3 to 5 (N, C and 1 to 3 spatial axes)", x.rank());
  if (w.has_shape && w.rank() != x.rank())
    fail_node(c.node, "W has rank {} but X has rank {}", w.rank(), x.rank());
  const int64_t group = c.node.attr_i("group", 1);
  if (group < 1) fail_node(c.node, "group is {}, expected >= 1", group);
  if (w.has_shape) {
    const ir::Dim &xc = x.dims[1], &w0 = w.dims[0], &w1 = w.dims[1];
    if (!transpose) {
      if (xc.is_known() && w1.is_known() && xc.value != w1.value * group)
        fail_node(c.node, "X has {} channels but W expects {} x group {}", xc.value, w1.value, group);
      if (w0.is_known() && w0.value % group != 0)
        fail_node(c.node, "W has {} output channels, not a multiple of group {}", w0.value, group);
    } else {
      if (xc.is_known() && w0.is_known() && xc.value != w0.value)
        fail_node(c.node, "X has {} channels but W has {}", xc.value, w0.value);
      if (xc.is_known() && xc.value % group != 0)
        fail_node(c.node, "X has {} channels, not a multiple of group {}", xc.value, group);
    }
  }
  return x.rank() - 2;
}

void check_bias(const InferCtx& c, const ir::Dim& m) {
  if (!c.has_input(2) || !c.in(2).has_shape) return;
  const TypeShape& b = c.in(2);
  if (b.rank() != 1 || (m.is_known() && b.dims[0].is_known() && b.dims[0].value != m.value))
    fail_node(c.node, "B must be 1-D with one value per output channel");
}

std::vector<TypeShape> infer_conv_like(const InferCtx& c, bool transpose) {
  const int nd = check_conv_inputs(c, transpose);
  if (nd == 0) return {TypeShape::unknown_rank(DType::f32)};
  const TypeShape& x = c.in(0);
  const TypeShape& w = c.in(1);
  std::vector<int64_t> kw(static_cast<size_t>(nd), -1);
  if (w.has_shape)
    for (int i = 0; i < nd; ++i) kw[i] = w.dims[i + 2].is_known() ? w.dims[i + 2].value : -1;
  const WindowAttrs a = read_window_attrs(c.node, nd, kw);
  const int64_t group = c.node.attr_i("group", 1);
  TypeShape out{DType::f32, true, {}};
  out.dims.push_back(x.dims[0]);
  ir::Dim m;
  if (w.has_shape) {
    const ir::Dim& src = transpose ? w.dims[1] : w.dims[0];
    if (src.is_known()) m = ir::Dim::known(transpose ? src.value * group : src.value);
  }
  check_bias(c, m);
  out.dims.push_back(m);
  for (int i = 0; i < nd; ++i) {
    const ir::Dim& in = x.dims[i + 2];
    if (!in.is_known() || a.kernel[i] < 0) {
      out.dims.emplace_back();
      continue;
    }
    const AxisWindow aw = transpose ? conv_transpose_axis(c.node, a, i, in.value)
                                    : conv_axis(c.node, a, i, in.value);
    out.dims.push_back(ir::Dim::known(aw.out));
  }
  return {out};
}

std::vector<TypeShape> infer_conv(const InferCtx& c) { return infer_conv_like(c, false); }
std::vector<TypeShape> infer_conv_transpose(const InferCtx& c) { return infer_conv_like(c, true); }

// Geometry from concrete shapes (already validated by the inference).
ConvGeom conv_geom(const ir::Node& node, const Shape& x, const Shape& w, bool transpose) {
  const int nd = static_cast<int>(x.size()) - 2;
  const std::vector<int64_t> kw(w.begin() + 2, w.end());
  const WindowAttrs a = read_window_attrs(node, nd, kw);
  ConvGeom g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.group = node.attr_i("group", 1);
  g.out_channels = transpose ? w[1] * g.group : w[0];
  const int off = 3 - nd;
  for (int i = 0; i < nd; ++i) {
    const AxisWindow aw = transpose ? conv_transpose_axis(node, a, i, x[i + 2]) : conv_axis(node, a, i, x[i + 2]);
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

// W^T packed for the transposed pointwise path (conv1x1_f32__gemm_t), for one SGEMM kernel.
struct PackedConv1x1 {
  const SgemmKernel* kernel = nullptr;
  std::shared_ptr<std::byte> buf;
};

std::shared_ptr<void> prepare_conv(const ir::Node& node, std::span<const Tensor* const> consts) {
  const Tensor* w = consts.size() > 1 ? consts[1] : nullptr;
  const Isa isa = active_isa();
  if (!w || w->dtype() != DType::f32 || w->rank() < 3 || isa == Isa::ref) return nullptr;
  if (node.attr_i("group", 1) != 1 || w->numel() != w->dim(0) * w->dim(1)) return nullptr;  // 1x1 kernels only
  auto p = std::make_shared<PackedConv1x1>();
  p->kernel = &sgemm_kernel(isa);
  ConvGeom g;
  g.in_channels = w->dim(1), g.out_channels = w->dim(0);
  p->buf = alloc_aligned(sgemm_packed_b_floats(*p->kernel, static_cast<size_t>(g.in_channels),
                                               static_cast<size_t>(g.out_channels)) * sizeof(float) + 64);
  pack_conv1x1_weights(*p->kernel, g, w->data<float>(), reinterpret_cast<float*>(p->buf.get()));
  return p;
}

void compute_conv(KernelCtx& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& w = ctx.inputs[1];
  const float* b = ctx.has_input(2) ? ctx.inputs[2].data<float>() : nullptr;
  Tensor& y = ctx.outputs[0];
  if (y.numel() == 0) return;
  const ConvGeom g = conv_geom(ctx.node, x.shape(), w.shape(), false);
  const FusedActivation act = fused_activation_of(ctx.node);
  const Isa isa = active_isa();
  const auto* packed = static_cast<const PackedConv1x1*>(ctx.state);
  if (isa != Isa::ref && packed && packed->kernel == &sgemm_kernel(isa) && conv1x1_transposed_pays(*packed->kernel, g)) {
    conv1x1_f32__gemm_t(*packed->kernel, g, x.data<float>(), reinterpret_cast<const float*>(packed->buf.get()), b, act,
                        y.data<float>(), ctx.threads);
  } else if (dwconv_flat_applies(isa, g)) {
    dwconv2d_f32__avx512_flat(g, x.data<float>(), w.data<float>(), b, act, y.data<float>(), ctx.threads);
  } else if (isa != Isa::ref && dwconv_applies(g)) {
    dwconv2d_f32(dwconv_kernel(isa), g, x.data<float>(), w.data<float>(), b, act, y.data<float>(), ctx.threads);
  } else if (conv_direct_applies(isa, g)) {
    conv2d_f32__avx512_direct(g, x.data<float>(), w.data<float>(), b, act, y.data<float>(), ctx.threads);
  } else if (isa != Isa::ref && conv_gemm_applies(g)) {
    conv2d_f32__gemm(sgemm_kernel(isa), g, x.data<float>(), w.data<float>(), b, act, y.data<float>(), ctx.threads);
  } else {
    conv_f32__ref(g, x.data<float>(), w.data<float>(), b, y.data<float>());
    act.apply(y.data<float>(), static_cast<size_t>(y.numel()));
  }
}

void compute_conv_transpose(KernelCtx& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& w = ctx.inputs[1];
  const float* b = ctx.has_input(2) ? ctx.inputs[2].data<float>() : nullptr;
  Tensor& y = ctx.outputs[0];
  if (y.numel() == 0) return;
  const ConvGeom g = conv_geom(ctx.node, x.shape(), w.shape(), true);
  conv_transpose_f32__ref(g, x.data<float>(), w.data<float>(), b, y.data<float>());
}

}  // namespace

void register_ops_conv(std::vector<OpDef>& ops) {
  ops.push_back({"Conv", "", infer_conv, compute_conv, prepare_conv});
  ops.push_back({"ConvTranspose", "", infer_conv_transpose, compute_conv_transpose, nullptr});
}

}  // namespace qforge::runtime
