// MaxPool (optional Indices), AveragePool, GlobalAveragePool, GlobalMaxPool: 1-D to 3-D windows
// with strides, pads, auto_pad, dilations, ceil_mode, count_include_pad, storage_order. Above ISA
// level ref, f32 1-D / 2-D pools run the SIMD plane kernels (kernels/pool2d.h); otherwise the
// reference kernels run on chunks of (n, c) planes in parallel.
#include <algorithm>

#include "core/cpu.h"
#include "runtime/kernels/pool2d.h"
#include "runtime/kernels/reference/pool_ref.h"
#include "runtime/op_registry.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

namespace {

int check_pool_input(const InferCtx& c, bool any_int8) {
  require_input(c, 0, "X");
  const TypeShape& x = c.in(0);
  const DType t = x.dtype;
  const bool ok = t == DType::f32 || t == DType::undefined || (any_int8 && (t == DType::s8 || t == DType::u8));
  if (!ok) fail_node(c.node, "X has dtype {}, which this op does not support", dtype_name(t));
  if (!x.has_shape) return 0;
  if (x.rank() < 3 || x.rank() > 5)
    fail_node(c.node, "X has rank {}, expected 3 to 5 (N, C and 1 to 3 spatial axes)", x.rank());
  return x.rank() - 2;
}

std::vector<TypeShape> infer_window_pool(const InferCtx& c, bool is_max) {
  const int nd = check_pool_input(c, is_max);
  const TypeShape& x = c.in(0);
  std::vector<TypeShape> outs;
  if (nd == 0) {
    outs.push_back(TypeShape::unknown_rank(x.dtype));
  } else {
    const WindowAttrs a = read_window_attrs(c.node, nd, {});
    TypeShape y{x.dtype, true, {x.dims[0], x.dims[1]}};
    for (int i = 0; i < nd; ++i) {
      const ir::Dim& in = x.dims[i + 2];
      y.dims.push_back(in.is_known() ? ir::Dim::known(conv_axis(c.node, a, i, in.value).out) : ir::Dim{});
    }
    outs.push_back(y);
  }
  if (is_max) {
    const int64_t so = c.node.attr_i("storage_order", 0);
    if (so != 0 && so != 1) fail_node(c.node, "storage_order is {}, expected 0 or 1", so);
    if (c.node.outputs.size() > 1) {
      TypeShape idx = outs[0];
      idx.dtype = DType::s64;
      outs.push_back(idx);
    }
  }
  return outs;
}

std::vector<TypeShape> infer_maxpool(const InferCtx& c) { return infer_window_pool(c, true); }
std::vector<TypeShape> infer_avgpool(const InferCtx& c) { return infer_window_pool(c, false); }

std::vector<TypeShape> infer_global_pool(const InferCtx& c) {
  const int nd = check_pool_input(c, false);
  const TypeShape& x = c.in(0);
  if (nd == 0) return {TypeShape::unknown_rank(x.dtype)};
  TypeShape y{x.dtype, true, {x.dims[0], x.dims[1]}};
  for (int i = 0; i < nd; ++i) y.dims.push_back(ir::Dim::known(1));
  return {y};
}

PoolGeom pool_geom(const ir::Node& node, const Shape& x) {
  const int nd = static_cast<int>(x.size()) - 2;
  const WindowAttrs a = read_window_attrs(node, nd, {});
  PoolGeom g;
  g.batch = x[0];
  g.channels = x[1];
  g.nd = nd;
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

// Runs fn(sub_geometry, first_plane) over chunks of the N*C planes on up to `threads` threads.
template <class Fn>
void for_plane_chunks(const PoolGeom& g, int threads, Fn&& fn) {
  const int64_t planes = g.batch * g.channels;
  const int64_t work = planes * g.out_plane() * g.kernel[0] * g.kernel[1] * g.kernel[2];
  const int64_t chunks = threads > 1 && work >= 32768 ? std::min<int64_t>(planes, threads) : 1;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static) if (chunks > 1)
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t p0 = planes * ch / chunks, p1 = planes * (ch + 1) / chunks;
    if (p0 == p1) continue;
    PoolGeom sub = g;
    sub.batch = 1;
    sub.channels = p1 - p0;
    fn(sub, p0);
  }
}

void compute_maxpool(KernelCtx& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  if (y.numel() == 0) return;
  const PoolGeom g = pool_geom(ctx.node, x.shape());
  const int so = static_cast<int>(ctx.node.attr_i("storage_order", 0));
  Tensor* idx = ctx.outputs.size() > 1 && !ctx.node.outputs[1].empty() ? &ctx.outputs[1] : nullptr;
  if (idx) {  // plane offsets are part of the indices: one pass over all planes
    int64_t* id = idx->data<int64_t>();
    switch (x.dtype()) {
      case DType::s8: maxpool_s8__ref(g, x.data<int8_t>(), y.data<int8_t>(), id, so); break;
      case DType::u8: maxpool_u8__ref(g, x.data<uint8_t>(), y.data<uint8_t>(), id, so); break;
      default: maxpool_f32__ref(g, x.data<float>(), y.data<float>(), id, so); break;
    }
    return;
  }
  const Isa isa = active_isa();
  if (isa != Isa::ref && x.dtype() == DType::f32 && pool2d_applies(g)) {
    maxpool2d_f32(pool2d_kernel(isa), g, x.data<float>(), y.data<float>(), ctx.threads);
    return;
  }
  const int64_t ip = g.in_plane(), op = g.out_plane();
  for_plane_chunks(g, ctx.threads, [&](const PoolGeom& sub, int64_t p0) {
    switch (x.dtype()) {
      case DType::s8: maxpool_s8__ref(sub, x.data<int8_t>() + p0 * ip, y.data<int8_t>() + p0 * op, nullptr, so); break;
      case DType::u8: maxpool_u8__ref(sub, x.data<uint8_t>() + p0 * ip, y.data<uint8_t>() + p0 * op, nullptr, so); break;
      default: maxpool_f32__ref(sub, x.data<float>() + p0 * ip, y.data<float>() + p0 * op, nullptr, so); break;
    }
  });
}

void compute_avgpool(KernelCtx& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  if (y.numel() == 0) return;
  const PoolGeom g = pool_geom(ctx.node, x.shape());
  const bool include_pad = ctx.node.attr_i("count_include_pad", 0) != 0;
  const Isa isa = active_isa();
  if (isa != Isa::ref && pool2d_applies(g)) {
    avgpool2d_f32(pool2d_kernel(isa), g, include_pad, x.data<float>(), y.data<float>(), ctx.threads);
    return;
  }
  const int64_t ip = g.in_plane(), op = g.out_plane();
  for_plane_chunks(g, ctx.threads, [&](const PoolGeom& sub, int64_t p0) {
    avgpool_f32__ref(sub, include_pad, x.data<float>() + p0 * ip, y.data<float>() + p0 * op);
  });
}

template <bool kMax>
void compute_global_pool(KernelCtx& ctx) {
  const Tensor& x = ctx.inputs[0];
  Tensor& y = ctx.outputs[0];
  const int64_t planes = x.dim(0) * x.dim(1);
  if (planes == 0) return;
  const int64_t plane = x.numel() / planes;
  const int64_t chunks = ctx.threads > 1 && x.numel() >= 65536 ? std::min<int64_t>(planes, ctx.threads) : 1;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static) if (chunks > 1)
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t p0 = planes * ch / chunks, p1 = planes * (ch + 1) / chunks;
    if (kMax) global_maxpool_f32__ref(p1 - p0, plane, x.data<float>() + p0 * plane, y.data<float>() + p0);
    else global_avgpool_f32__ref(p1 - p0, plane, x.data<float>() + p0 * plane, y.data<float>() + p0);
  }
}

}  // namespace

void register_ops_pool(std::vector<OpDef>& ops) {
  ops.push_back({"MaxPool", "", infer_maxpool, compute_maxpool, nullptr});
  ops.push_back({"AveragePool", "", infer_avgpool, compute_avgpool, nullptr});
  ops.push_back({"GlobalAveragePool", "", infer_global_pool, compute_global_pool<false>, nullptr});
  ops.push_back({"GlobalMaxPool", "", infer_global_pool, compute_global_pool<true>, nullptr});
}

}  // namespace qforge::runtime
