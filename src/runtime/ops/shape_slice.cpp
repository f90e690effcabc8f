// Ops that select or join parts of tensors: Slice, Gather, Split, Concat (any element type).
#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/kernels/reference/copy_ref.h"
#include "runtime/ops/shape_common.h"
#include "runtime/ops/shape_ops.h"

namespace qforge::runtime {

namespace {

// ---- Slice (ONNX Slice-13): inputs data, starts, ends, axes?, steps?
struct SliceAxis {
  int axis;
  int64_t start, end, step;
};

// Per-axis slice parameters from the four value inputs; InputError on inconsistent lengths.
std::vector<SliceAxis> slice_params(const ir::Node& node, int rank, const std::vector<int64_t>& starts,
                                    const std::vector<int64_t>& ends, const std::vector<int64_t>* axes_in,
                                    const std::vector<int64_t>* steps_in) {
  if (starts.size() != ends.size())
    fail_node(node, "starts has {} values but ends has {}", starts.size(), ends.size());
  std::vector<int64_t> axes;
  if (axes_in) axes = *axes_in;
  else for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (axes.size() != starts.size()) fail_node(node, "axes has {} values but starts has {}", axes.size(), starts.size());
  if (steps_in && steps_in->size() != starts.size())
    fail_node(node, "steps has {} values but starts has {}", steps_in->size(), starts.size());
  std::vector<int> ax = normalize_axes(node, axes, rank);
  std::vector<SliceAxis> out;
  for (size_t i = 0; i < ax.size(); ++i) {
    int64_t step = steps_in ? (*steps_in)[i] : 1;
    if (step == 0) fail_node(node, "steps must not be 0 (axis {})", axes[i]);
    out.push_back({ax[i], starts[i], ends[i], step});
  }
  return out;
}

// Clamps start/end per the spec for a known dim; returns the output length and the clamped start.
int64_t slice_length(int64_t dim, const SliceAxis& s, int64_t* start_out) {
  int64_t start = s.start, end = s.end;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  int64_t len;
  if (s.step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    len = end > start ? (end - start + s.step - 1) / s.step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
    end = std::clamp<int64_t>(end, -1, dim - 1);
    len = start > end ? (start - end + (-s.step) - 1) / (-s.step) : 0;
  }
  if (dim == 0) len = 0;
  *start_out = start;
  return len;
}

std::vector<TypeShape> infer_slice(const InferCtx& c) {
  require_input(c, 0, "data");
  require_input(c, 1, "starts");
  require_input(c, 2, "ends");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  auto starts = known_ints(c, 1, "starts");
  auto ends = known_ints(c, 2, "ends");
  auto axes = known_ints(c, 3, "axes");
  auto steps = known_ints(c, 4, "steps");
  std::vector<ir::Dim> out = x.dims;
  const bool axes_ok = !c.has_input(3) || axes.has_value();
  if (!starts || !ends || !axes_ok || (c.has_input(4) && !steps)) {
    // Only the sliced axes become unknown, when they are known.
    if (axes) {
      for (int a : normalize_axes(c.node, *axes, x.rank())) out[a] = ir::Dim{};
    } else if (!c.has_input(3) && c.in(1).has_shape && c.in(1).rank() == 1 && c.in(1).dims[0].is_known()) {
      for (int64_t a = 0; a < c.in(1).dims[0].value && a < x.rank(); ++a) out[a] = ir::Dim{};
    } else {
      out.assign(out.size(), ir::Dim{});
    }
    return {typed_like_input(c, out)};
  }
  for (const SliceAxis& s : slice_params(c.node, x.rank(), *starts, *ends, axes ? &*axes : nullptr,
                                         steps ? &*steps : nullptr)) {
    const ir::Dim& d = x.dims[s.axis];
    if (d.is_known()) {
      int64_t st;
      out[s.axis] = ir::Dim::known(slice_length(d.value, s, &st));
    } else {
      // x[0:big] with step 1 keeps a symbolic dim (exporters write INT64_MAX or INT32_MAX for "to the end").
      bool whole = s.step == 1 && s.start == 0 && s.end >= std::numeric_limits<int32_t>::max();
      out[s.axis] = whole ? d : ir::Dim{};
    }
  }
  return {typed_like_input(c, out)};
}

void compute_slice(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  std::vector<int64_t> axes = kernel_ints(k, 3, "axes"), steps = kernel_ints(k, 4, "steps");
  auto params = slice_params(k.node, x.rank(), kernel_ints(k, 1, "starts"), kernel_ints(k, 2, "ends"),
                             k.has_input(3) ? &axes : nullptr, k.has_input(4) ? &steps : nullptr);
  std::vector<int64_t> starts(x.rank(), 0), st(x.rank(), 1);
  for (const SliceAxis& s : params) {
    slice_length(x.dim(s.axis), s, &starts[s.axis]);
    st[s.axis] = s.step;
  }
  slice_bytes__ref(x.raw(), x.shape(), k.outputs[0].raw(), k.outputs[0].shape(), starts, st,
                   element_bytes(k.node, x.dtype()));
}

// ---- Gather (axis, default 0): out = data[:axis] + indices.shape + data[axis+1:]
std::vector<TypeShape> infer_gather(const InferCtx& c) {
  require_input(c, 0, "data");
  require_input(c, 1, "indices");
  const TypeShape& x = c.in(0);
  const TypeShape& ind = c.in(1);
  require_dtype(c.node, ind.dtype, {DType::s32, DType::s64}, "indices");
  if (!x.has_shape || !ind.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  if (x.rank() == 0) fail_node(c.node, "data must have rank >= 1");
  int axis = normalize_axis(c.node, c.node.attr_i("axis", 0), x.rank());
  std::vector<ir::Dim> out(x.dims.begin(), x.dims.begin() + axis);
  out.insert(out.end(), ind.dims.begin(), ind.dims.end());
  out.insert(out.end(), x.dims.begin() + axis + 1, x.dims.end());
  return {typed_like_input(c, out)};
}

void compute_gather(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  int axis = normalize_axis(k.node, k.node.attr_i("axis", 0), x.rank());
  const int64_t n = x.dim(axis);
  std::vector<int64_t> idx = k.inputs[1].to_i64_vector();
  for (int64_t& i : idx) {
    if (i < -n || i >= n) fail_node(k.node, "index {} is out of range for axis {} of size {}", i, axis, n);
    if (i < 0) i += n;
  }
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  gather_bytes__ref(x.raw(), outer, n, inner, idx, k.outputs[0].raw(), element_bytes(k.node, x.dtype()));
}

// ---- Split (Split-18): split sizes input 1, or num_outputs / number of outputs with ceil-sized
// chunks, the last one smaller.
std::vector<int64_t> split_equal(const ir::Node& node, int64_t dim, int64_t parts) {
  int64_t chunk = (dim + parts - 1) / parts;
  std::vector<int64_t> sizes(static_cast<size_t>(parts), chunk);
  sizes.back() = dim - chunk * (parts - 1);
  if (sizes.back() < 0)
    fail_node(node, "cannot split a dimension of size {} into {} parts of size {}", dim, parts, chunk);
  return sizes;
}

int64_t split_parts(const ir::Node& node) {
  const auto n = static_cast<int64_t>(node.outputs.size());
  if (node.has_attr("num_outputs") && node.attr_i("num_outputs", 0) != n)
    fail_node(node, "num_outputs is {} but the node has {} outputs", node.attr_i("num_outputs", 0), n);
  return n;
}

std::vector<int64_t> check_split_sizes(const ir::Node& node, std::vector<int64_t> sizes, const ir::Dim& dim) {
  if (sizes.size() != node.outputs.size())
    fail_node(node, "split has {} values but the node has {} outputs", sizes.size(), node.outputs.size());
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) fail_node(node, "split sizes must be >= 0, got {}", s);
    sum += s;
  }
  if (dim.is_known() && sum != dim.value)
    fail_node(node, "split sizes sum to {} but the dimension has size {}", sum, dim.value);
  return sizes;
}

std::vector<TypeShape> infer_split(const InferCtx& c) {
  require_input(c, 0, "input");
  const TypeShape& x = c.in(0);
  if (c.has_input(1) && c.node.has_attr("num_outputs"))
    fail_node(c.node, "the split input and the num_outputs attribute must not both be given");
  const int64_t parts = split_parts(c.node);
  if (!x.has_shape) return std::vector<TypeShape>(parts, TypeShape::unknown_rank(x.dtype));
  int axis = normalize_axis(c.node, c.node.attr_i("axis", 0), x.rank());
  const ir::Dim& d = x.dims[axis];
  std::vector<ir::Dim> sizes(static_cast<size_t>(parts));
  if (c.has_input(1)) {
    if (auto s = known_ints(c, 1, "split")) {
      s = check_split_sizes(c.node, *s, d);
      for (int64_t i = 0; i < parts; ++i) sizes[i] = ir::Dim::known((*s)[i]);
    }
  } else if (d.is_known()) {
    auto s = split_equal(c.node, d.value, parts);
    for (int64_t i = 0; i < parts; ++i) sizes[i] = ir::Dim::known(s[i]);
  } else if (parts == 1) {
    sizes[0] = d;
  }
  std::vector<TypeShape> out;
  for (int64_t i = 0; i < parts; ++i) {
    std::vector<ir::Dim> dims = x.dims;
    dims[axis] = sizes[i];
    out.push_back(typed_like_input(c, dims));
  }
  return out;
}

void compute_split(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  int axis = normalize_axis(k.node, k.node.attr_i("axis", 0), x.rank());
  const size_t elem = element_bytes(k.node, x.dtype());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t row = x.dim(axis) * inner * static_cast<int64_t>(elem);
  int64_t offset = 0;
  for (Tensor& y : k.outputs) {
    const int64_t chunk = y.dim(axis) * inner * static_cast<int64_t>(elem);
    auto* dst = static_cast<std::byte*>(y.raw());
    const auto* src = static_cast<const std::byte*>(x.raw()) + offset;
    for (int64_t o = 0; o < outer && chunk > 0; ++o) std::memcpy(dst + o * chunk, src + o * row, static_cast<size_t>(chunk));
    offset += chunk;
  }
}

// ---- Concat (axis, required)
std::vector<TypeShape> infer_concat(const InferCtx& c) {
  if (c.num_inputs() == 0) fail_node(c.node, "needs at least one input");
  if (!c.node.has_attr("axis")) fail_node(c.node, "the axis attribute is required");
  DType t = c.in(0).dtype;
  int rank = -1;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    require_input(c, i, "inputs");
    if (c.in(i).dtype != t && c.in(i).dtype != DType::undefined && t != DType::undefined)
      fail_node(c.node, "input {} has element type {} but input 0 has {}", i, dtype_name(c.in(i).dtype), dtype_name(t));
    if (!c.in(i).has_shape) continue;
    if (rank >= 0 && c.in(i).rank() != rank)
      fail_node(c.node, "input {} has rank {} but another input has rank {}", i, c.in(i).rank(), rank);
    rank = c.in(i).rank();
  }
  if (rank < 0) return {TypeShape::unknown_rank(t)};
  if (rank == 0) fail_node(c.node, "inputs must have rank >= 1");
  int axis = normalize_axis(c.node, c.node.attr_i("axis", 0), rank);
  std::vector<ir::Dim> out(static_cast<size_t>(rank));
  bool all_shapes = true;
  int64_t sum = 0;
  bool sum_known = true;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    const TypeShape& s = c.in(i);
    if (!s.has_shape) { all_shapes = false; continue; }
    for (int d = 0; d < rank; ++d) {
      if (d == axis) continue;
      const ir::Dim& a = s.dims[d];
      if (out[d].is_known() && a.is_known() && out[d].value != a.value)
        fail_node(c.node, "input {} has size {} in dimension {} but another input has {}", i, a.value, d, out[d].value);
      if (!out[d].is_known() && (a.is_known() || out[d].param.empty())) out[d] = a;
    }
    if (s.dims[axis].is_known()) sum += s.dims[axis].value;
    else sum_known = false;
  }
  if (all_shapes && sum_known) out[axis] = ir::Dim::known(sum);
  else if (all_shapes && c.num_inputs() == 1) out[axis] = c.in(0).dims[axis];
  return {typed_like_input(c, out)};
}

void compute_concat(KernelCtx& k) {
  Tensor& y = k.outputs[0];
  int axis = normalize_axis(k.node, k.node.attr_i("axis", 0), y.rank());
  const size_t elem = element_bytes(k.node, y.dtype());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= y.dim(d);
  for (int d = axis + 1; d < y.rank(); ++d) inner *= y.dim(d);
  const int64_t row = y.dim(axis) * inner * static_cast<int64_t>(elem);
  auto* dst = static_cast<std::byte*>(y.raw());
  int64_t offset = 0;
  for (const Tensor& x : k.inputs) {
    const int64_t chunk = x.dim(axis) * inner * static_cast<int64_t>(elem);
    const auto* src = static_cast<const std::byte*>(x.raw());
    for (int64_t o = 0; o < outer && chunk > 0; ++o)
      std::memcpy(dst + o * row + offset, src + o * chunk, static_cast<size_t>(chunk));
    offset += chunk;
  }
}

}  // namespace

void register_ops_shape_slice(std::vector<OpDef>& ops) {
  ops.push_back({"Slice", "", infer_slice, compute_slice});
  ops.push_back({"Gather", "", infer_gather, compute_gather});
  ops.push_back({"Split", "", infer_split, compute_split});
  ops.push_back({"Concat", "", infer_concat, compute_concat});
}

}  // namespace qforge::runtime
