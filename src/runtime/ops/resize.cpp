// Resize (ONNX Resize-19: inputs X, roi?, scales?, sizes?) and Pad (ONNX Pad-19: inputs data, pads,
// constant_value?, axes?). Upsample is mapped to Resize by the importer.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/pad_ref.h"
#include "runtime/kernels/reference/resize_ref.h"
#include "runtime/ops/shape_common.h"

namespace qforge::runtime {

namespace {

// ---- Resize attributes
template <typename E>
E pick(const ir::Node& node, const char* attr, const std::string& dflt,
       std::initializer_list<std::pair<const char*, E>> table) {
  std::string v = node.attr_s(attr, dflt);
  for (const auto& [name, e] : table)
    if (v == name) return e;
  fail_node(node, "{} '{}' is not supported", attr, v);
}

ResizeParams resize_params(const ir::Node& node) {
  ResizeParams p;
  p.mode = pick<ResizeMode>(node, "mode", "nearest",
                            {{"nearest", ResizeMode::nearest}, {"linear", ResizeMode::linear}, {"cubic", ResizeMode::cubic}});
  p.coord = pick<ResizeCoord>(node, "coordinate_transformation_mode", "half_pixel",
                              {{"half_pixel", ResizeCoord::half_pixel},
                               {"half_pixel_symmetric", ResizeCoord::half_pixel_symmetric},
                               {"pytorch_half_pixel", ResizeCoord::pytorch_half_pixel},
                               {"align_corners", ResizeCoord::align_corners},
                               {"asymmetric", ResizeCoord::asymmetric},
                               {"tf_half_pixel_for_nn", ResizeCoord::tf_half_pixel_for_nn},
                               {"tf_crop_and_resize", ResizeCoord::tf_crop_and_resize}});
  p.nearest = pick<ResizeNearest>(node, "nearest_mode", "round_prefer_floor",
                                  {{"round_prefer_floor", ResizeNearest::round_prefer_floor},
                                   {"round_prefer_ceil", ResizeNearest::round_prefer_ceil},
                                   {"floor", ResizeNearest::floor},
                                   {"ceil", ResizeNearest::ceil}});
  p.cubic_a = node.attr_f("cubic_coeff_a", -0.75f);
  p.exclude_outside = node.attr_i("exclude_outside", 0) != 0;
  // antialias applies to linear and cubic; nearest ignores it.
  p.antialias = node.attr_i("antialias", 0) != 0 && p.mode != ResizeMode::nearest;
  p.extrapolation_value = node.attr_f("extrapolation_value", 0.f);
  return p;
}

// tf_crop_and_resize: roi holds [start_1 .. start_k, end_1 .. end_k] for the k resized axes (all
// axes, or the `axes` attribute); the other axes keep [0, 1].
void resize_roi(const ir::Node& node, int rank, const KernelCtx& k, ResizeParams& p) {
  if (p.coord != ResizeCoord::tf_crop_and_resize) return;
  if (!k.has_input(1) || k.inputs[1].numel() == 0)
    fail_node(node, "coordinate_transformation_mode 'tf_crop_and_resize' needs the roi input");
  const Tensor& roi = k.inputs[1];
  if (roi.dtype() != DType::f32 && roi.dtype() != DType::f64 && roi.dtype() != DType::f16)
    fail_node(node, "roi must be a float tensor, got {}", dtype_name(roi.dtype()));
  std::vector<int> axes;
  if (node.has_attr("axes")) axes = normalize_axes(node, node.attr_ints("axes"), rank);
  else for (int d = 0; d < rank; ++d) axes.push_back(d);
  const std::vector<float> v = roi.to_f32_vector();
  if (v.size() != 2 * axes.size())
    fail_node(node, "roi has {} values, expected {} (start and end per resized axis)", v.size(), 2 * axes.size());
  p.roi_start.assign(rank, 0.f);
  p.roi_end.assign(rank, 1.f);
  for (size_t i = 0; i < axes.size(); ++i) {
    p.roi_start[axes[i]] = v[i];
    p.roi_end[axes[i]] = v[i + axes.size()];
  }
}

enum class AspectPolicy { stretch, not_larger, not_smaller };

// An optional input counts as given when present and not an empty tensor. Returns 1 given, 0 absent,
// -1 unknown (present, value and size not known statically).
int optional_given(const InferCtx* c, const KernelCtx* k, size_t i) {
  if (k) return k->has_input(i) && k->inputs[i].numel() > 0 ? 1 : 0;
  if (!c->has_input(i)) return 0;
  if (const Tensor* v = c->value(i)) return v->numel() > 0 ? 1 : 0;
  const TypeShape& s = c->in(i);
  if (s.fully_known() && shape_numel(s.concrete()) == 0) return 0;
  return -1;
}

struct ResizePlan {
  std::vector<ir::Dim> out;
  std::vector<float> scales;          // full rank
  std::vector<bool> scale_is_ratio;   // full rank: scale = out / in from sizes
  bool complete = true;               // scales known for every axis
};

// Output dims and per-axis scales from scales (float) or sizes (int64), per Resize-19:
// scales: out = floor(in * scale); sizes: out = sizes (stretch) or round(in * s) with s the min
// (not_larger) / max (not_smaller) of sizes / in over the resized axes, and scale = out / in (stretch).
ResizePlan plan_resize(const ir::Node& node, const std::vector<ir::Dim>& in, int scales_given, const Tensor* scales,
                       int sizes_given, const Tensor* sizes) {
  const int r = static_cast<int>(in.size());
  std::vector<int> axes;
  if (node.has_attr("axes")) axes = normalize_axes(node, node.attr_ints("axes"), r);
  else for (int d = 0; d < r; ++d) axes.push_back(d);
  if (scales_given == 1 && sizes_given == 1) fail_node(node, "only one of scales and sizes may be given");
  if (scales_given == 0 && sizes_given == 0) fail_node(node, "one of scales and sizes must be given");
  ResizePlan plan{in, std::vector<float>(r, 1.f), std::vector<bool>(r, false), true};
  const Tensor* given = scales_given == 1 ? scales : sizes_given == 1 ? sizes : nullptr;
  if (!given) {  // values unknown statically: the resized axes are unknown
    for (int a : axes) plan.out[a] = ir::Dim{};
    plan.complete = false;
    return plan;
  }
  if (given->numel() != static_cast<int64_t>(axes.size()))
    fail_node(node, "{} has {} values but {} axes are resized", scales_given == 1 ? "scales" : "sizes",
              given->numel(), axes.size());
  if (scales_given == 1) {
    if (scales->dtype() != DType::f32) fail_node(node, "scales must be float32");
    for (size_t i = 0; i < axes.size(); ++i) {
      const float s = scales->data<float>()[i];
      if (!(s > 0)) fail_node(node, "scales must be > 0, got {}", s);
      const int a = axes[i];
      plan.scales[a] = s;
      if (in[a].is_known()) {
        const float size = s * static_cast<float>(in[a].value);
        if (!(size < 0x1p62f))  // also catches inf: the float → int64 conversion must stay defined
          fail_node(node, "scale {} makes axis {} of size {} too large", s, a, in[a].value);
        plan.out[a] = ir::Dim::known(static_cast<int64_t>(size));
      }
      else if (s != 1.f) plan.out[a] = ir::Dim{};
    }
    return plan;
  }
  if (sizes->dtype() != DType::s64) fail_node(node, "sizes must be int64");
  const std::vector<int64_t> sz = sizes->to_i64_vector();
  for (int64_t v : sz)
    if (v < 0) fail_node(node, "sizes must be >= 0, got {}", v);
  const AspectPolicy policy = pick<AspectPolicy>(
      node, "keep_aspect_ratio_policy", "stretch",
      {{"stretch", AspectPolicy::stretch}, {"not_larger", AspectPolicy::not_larger}, {"not_smaller", AspectPolicy::not_smaller}});
  bool all_known = true;
  for (int a : axes) all_known &= in[a].is_known();
  if (policy == AspectPolicy::stretch) {
    for (size_t i = 0; i < axes.size(); ++i) {
      const int a = axes[i];
      plan.out[a] = ir::Dim::known(sz[i]);
      plan.scale_is_ratio[a] = true;
      if (in[a].is_known()) {
        if (in[a].value == 0 && sz[i] != 0)
          fail_node(node, "cannot resize axis {} of size 0 to size {}", a, sz[i]);
        plan.scales[a] = in[a].value ? static_cast<float>(sz[i]) / static_cast<float>(in[a].value) : 1.f;
      } else {
        plan.complete = false;
      }
    }
    return plan;
  }
  if (!all_known) {
    for (int a : axes) plan.out[a] = ir::Dim{};
    plan.complete = false;
    return plan;
  }
  float s = policy == AspectPolicy::not_larger ? INFINITY : 0.f;
  for (size_t i = 0; i < axes.size(); ++i) {
    const float si = static_cast<float>(sz[i]) / static_cast<float>(in[axes[i]].value);
    s = policy == AspectPolicy::not_larger ? std::min(s, si) : std::max(s, si);
  }
  for (int a : axes) {
    plan.scales[a] = s;
    plan.out[a] = ir::Dim::known(static_cast<int64_t>(std::round(s * static_cast<float>(in[a].value))));
  }
  return plan;
}

std::vector<TypeShape> infer_resize(const InferCtx& c) {
  require_input(c, 0, "X");
  require_dtype(c.node, c.in(0).dtype, {DType::f32}, "X");
  resize_params(c.node);
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  const int sg = optional_given(&c, nullptr, 2), zg = optional_given(&c, nullptr, 3);
  ResizePlan plan = plan_resize(c.node, x.dims, sg, c.value(2), zg, c.value(3));
  return {TypeShape{x.dtype, true, plan.out}};
}

void compute_resize(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  ResizeParams p = resize_params(k.node);
  std::vector<ir::Dim> in;
  for (int64_t d : x.shape()) in.push_back(ir::Dim::known(d));
  ResizePlan plan = plan_resize(k.node, in, optional_given(nullptr, &k, 2), k.has_input(2) ? &k.inputs[2] : nullptr,
                                optional_given(nullptr, &k, 3), k.has_input(3) ? &k.inputs[3] : nullptr);
  p.scales = plan.scales;
  p.scale_is_ratio = plan.scale_is_ratio;
  resize_roi(k.node, x.rank(), k, p);
  resize_f32__ref(x.data<float>(), x.shape(), k.outputs[0].data<float>(), k.outputs[0].shape(), p, k.threads);
}

// ---- Pad
PadMode pad_mode(const ir::Node& node) {
  return pick<PadMode>(node, "mode", "constant",
                       {{"constant", PadMode::constant}, {"reflect", PadMode::reflect}, {"edge", PadMode::edge},
                        {"wrap", PadMode::wrap}});
}

// Full-rank signed begin/end pads from pads (+ axes).
void pad_amounts(const ir::Node& node, int rank, const std::vector<int64_t>& pads, const std::vector<int64_t>* axes_in,
                 std::vector<int64_t>& begin, std::vector<int64_t>& end) {
  std::vector<int> axes;
  if (axes_in) axes = normalize_axes(node, *axes_in, rank);
  else for (int d = 0; d < rank; ++d) axes.push_back(d);
  if (pads.size() != 2 * axes.size())
    fail_node(node, "pads has {} values, expected {} (2 per padded axis)", pads.size(), 2 * axes.size());
  begin.assign(rank, 0);
  end.assign(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[i + axes.size()];
  }
}

std::vector<TypeShape> infer_pad(const InferCtx& c) {
  require_input(c, 0, "data");
  require_input(c, 1, "pads");
  const TypeShape& x = c.in(0);
  const PadMode mode = pad_mode(c.node);
  if (c.has_input(2) && c.in(2).dtype != DType::undefined && x.dtype != DType::undefined && c.in(2).dtype != x.dtype)
    fail_node(c.node, "constant_value has element type {} but data has {}", dtype_name(c.in(2).dtype), dtype_name(x.dtype));
  if (x.dtype != DType::undefined) element_bytes(c.node, x.dtype);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  auto pads = known_ints(c, 1, "pads");
  auto axes = known_ints(c, 3, "axes");
  if (!pads || (c.has_input(3) && !axes)) {
    std::vector<ir::Dim> out = x.dims;
    if (axes) for (int a : normalize_axes(c.node, *axes, x.rank())) out[a] = ir::Dim{};
    else out.assign(out.size(), ir::Dim{});
    return {TypeShape{x.dtype, true, out}};
  }
  std::vector<int64_t> begin, end;
  pad_amounts(c.node, x.rank(), *pads, axes ? &*axes : nullptr, begin, end);
  std::vector<ir::Dim> out = x.dims;
  for (int d = 0; d < x.rank(); ++d) {
    if (begin[d] == 0 && end[d] == 0) continue;
    if (!x.dims[d].is_known()) { out[d] = ir::Dim{}; continue; }
    const int64_t in = x.dims[d].value;
    const int64_t n = in + begin[d] + end[d];
    if (n < 0) fail_node(c.node, "pads {} and {} crop axis {} of size {} below zero", begin[d], end[d], d, in);
    const int64_t window = in - std::max<int64_t>(0, -begin[d]) - std::max<int64_t>(0, -end[d]);
    if (mode != PadMode::constant && (begin[d] > 0 || end[d] > 0) && window <= 0)
      fail_node(c.node, "cannot pad axis {} in {} mode: no input elements left to copy", d, c.node.attr_s("mode", ""));
    out[d] = ir::Dim::known(n);
  }
  return {TypeShape{x.dtype, true, out}};
}

void compute_pad(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  std::vector<int64_t> axes = kernel_ints(k, 3, "axes");
  std::vector<int64_t> begin, end;
  pad_amounts(k.node, x.rank(), kernel_ints(k, 1, "pads"), k.has_input(3) ? &axes : nullptr, begin, end);
  const size_t elem = element_bytes(k.node, x.dtype());
  std::vector<std::byte> value(elem, std::byte{0});
  if (k.has_input(2) && k.inputs[2].numel() > 0) {
    if (k.inputs[2].dtype() != x.dtype()) fail_node(k.node, "constant_value must have the element type of data");
    std::memcpy(value.data(), k.inputs[2].raw(), elem);
  }
  pad_bytes__ref(x.raw(), x.shape(), k.outputs[0].raw(), k.outputs[0].shape(), begin, pad_mode(k.node), value.data(), elem);
}

}  // namespace

void register_ops_resize(std::vector<OpDef>& ops) {
  ops.push_back({"Resize", "", infer_resize, compute_resize});
  ops.push_back({"Pad", "", infer_pad, compute_pad});
}

}  // namespace qforge::runtime
