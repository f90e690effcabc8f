// Ops that change only the shape (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout) and
// Transpose. Shape inference keeps symbolic dims wherever the op passes them through.
#include <algorithm>
#include <map>
#include <numeric>

#include "runtime/kernels/reference/transpose_ref.h"
#include "runtime/ops/shape_common.h"
#include "runtime/ops/shape_ops.h"

namespace qforge::runtime {

namespace {

std::string dims_str(const std::vector<ir::Dim>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + (dims[i].is_known() ? std::to_string(dims[i].value)
                                              : (dims[i].param.empty() ? "?" : dims[i].param));
  return s + "]";
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// ---- Flatten: [d0..d(a-1), da..d(r-1)] -> [prod(d0..d(a-1)), prod(da..d(r-1))]; axis in [-r, r].
std::vector<TypeShape> infer_flatten(const InferCtx& c) {
  require_input(c, 0, "input");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {typed_like_input(c, std::vector<ir::Dim>(2))};
  const int r = x.rank();
  int64_t axis = c.node.attr_i("axis", 1);
  if (axis < -r || axis > r) fail_node(c.node, "axis {} is out of range [-{}, {}]", axis, r, r);
  if (axis < 0) axis += r;
  const auto a = static_cast<size_t>(axis);
  return {typed_like_input(c, {dim_product(x.dims, 0, a), dim_product(x.dims, a, x.dims.size())})};
}

// ---- Reshape
// Product of dims as a known factor times a multiset of symbols; `opaque` when an unnamed unknown dim
// takes part (then nothing can be derived); `overflow` when the known factor passes int64 (no tensor
// has that many elements; a 0 dim makes the product 0 whatever came before).
struct SymbolicProduct {
  int64_t known = 1;
  std::map<std::string, int> symbols;
  bool opaque = false;
  bool overflow = false;
  void mul(const ir::Dim& d) {
    if (!d.is_known()) {
      if (d.param.empty()) opaque = true;
      else ++symbols[d.param];
    } else if (d.value == 0 || known == 0) {
      known = 0;
      overflow = false;
    } else if (!overflow) {
      overflow = __builtin_mul_overflow(known, d.value, &known);
    }
  }
  // The product is a number (no symbol, no unknown dim); `exact` also when it fits int64.
  bool numeric() const { return !opaque && symbols.empty(); }
  bool exact() const { return numeric() && !overflow; }
};

std::vector<TypeShape> infer_reshape(const InferCtx& c) {
  require_input(c, 0, "data");
  require_input(c, 1, "shape");
  const TypeShape& x = c.in(0);
  auto target = known_ints(c, 1, "shape");
  if (!target) {
    const TypeShape& s = c.in(1);
    if (s.has_shape && s.rank() == 1 && s.dims[0].is_known())
      return {typed_like_input(c, std::vector<ir::Dim>(static_cast<size_t>(s.dims[0].value)))};
    return {TypeShape::unknown_rank(x.dtype)};
  }
  const bool allowzero = c.node.attr_i("allowzero", 0) != 0;
  std::vector<ir::Dim> out(target->size());
  int infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < target->size(); ++i) {
    int64_t t = (*target)[i];
    if (t == -1) {
      if (infer_at >= 0) fail_node(c.node, "target shape {} has more than one -1", ints_str(*target));
      infer_at = static_cast<int>(i);
    } else if (t < -1) {
      fail_node(c.node, "target shape {} has an invalid dimension {}", ints_str(*target), t);
    } else if (t == 0 && !allowzero) {
      if (x.has_shape) {
        if (i >= x.dims.size())
          fail_node(c.node, "target shape {} copies dimension {} (0) but the input {} has rank {}",
                    ints_str(*target), i, dims_str(x.dims), x.rank());
        out[i] = x.dims[i];
      }
    } else {
      has_zero |= t == 0;
      out[i] = ir::Dim::known(t);
    }
  }
  if (allowzero && has_zero && infer_at >= 0)
    fail_node(c.node, "target shape {} has both 0 and -1 with allowzero=1", ints_str(*target));
  if (!x.has_shape) return {typed_like_input(c, out)};

  SymbolicProduct in, rest;
  for (const auto& d : x.dims) in.mul(d);
  for (size_t i = 0; i < out.size(); ++i)
    if (static_cast<int>(i) != infer_at) rest.mul(out[i]);
  auto incompatible = [&]() {
    fail_node(c.node, "target shape {} is not compatible with input shape {}", ints_str(*target), dims_str(x.dims));
  };
  // An input whose element count fits int64 never matches a target whose product does not.
  if (in.exact() && rest.numeric() && rest.overflow && (infer_at < 0 || in.known != 0)) incompatible();
  const bool in_known = in.exact();
  const bool rest_known = rest.exact();
  if (infer_at < 0) {
    if (in_known && rest_known && in.known != rest.known) incompatible();
    return {typed_like_input(c, out)};
  }
  // Solve in = rest * out[infer_at].
  if (in.opaque || rest.opaque || in.overflow || rest.overflow) return {typed_like_input(c, out)};
  std::map<std::string, int> remaining = in.symbols;
  for (const auto& [sym, n] : rest.symbols) {
    auto it = remaining.find(sym);
    if (it == remaining.end() || it->second < n) return {typed_like_input(c, out)};  // not derivable
    if ((it->second -= n) == 0) remaining.erase(it);
  }
  if (rest.known == 0) {
    if (in_known && rest_known) incompatible();  // -1 with a zero-sized remainder is ambiguous
    return {typed_like_input(c, out)};
  }
  if (in.known % rest.known != 0) {
    if (in_known && rest_known) incompatible();
    return {typed_like_input(c, out)};
  }
  const int64_t q = in.known / rest.known;
  if (remaining.empty()) out[infer_at] = ir::Dim::known(q);
  else if (remaining.size() == 1 && remaining.begin()->second == 1 && q == 1)
    out[infer_at] = ir::Dim::symbol(remaining.begin()->first);
  return {typed_like_input(c, out)};
}

// ---- Squeeze: axes (input 1, optional): remove those dims (must be 1); absent: remove every 1.
std::vector<TypeShape> infer_squeeze(const InferCtx& c) {
  require_input(c, 0, "data");
  const TypeShape& x = c.in(0);
  auto axes = known_ints(c, 1, "axes");
  if (c.has_input(1) && !axes) {
    const TypeShape& a = c.in(1);
    if (x.has_shape && a.has_shape && a.rank() == 1 && a.dims[0].is_known())
      return {typed_like_input(c, std::vector<ir::Dim>(static_cast<size_t>(x.rank() - a.dims[0].value)))};
    return {TypeShape::unknown_rank(x.dtype)};
  }
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  std::vector<ir::Dim> out;
  if (!axes || axes->empty()) {
    for (const auto& d : x.dims) {
      if (!d.is_known()) return {TypeShape::unknown_rank(x.dtype)};  // a symbol might be 1
      if (d.value != 1) out.push_back(d);
    }
    return {typed_like_input(c, out)};
  }
  std::vector<int> ax = normalize_axes(c.node, *axes, x.rank());
  for (int a : ax)
    if (x.dims[a].is_known() && x.dims[a].value != 1)
      fail_node(c.node, "cannot squeeze axis {} of size {} (input shape {})", a, x.dims[a].value, dims_str(x.dims));
  for (int i = 0; i < x.rank(); ++i)
    if (std::find(ax.begin(), ax.end(), i) == ax.end()) out.push_back(x.dims[i]);
  return {typed_like_input(c, out)};
}

// ---- Unsqueeze: axes (input 1, required) index the output; each inserts a 1.
std::vector<TypeShape> infer_unsqueeze(const InferCtx& c) {
  require_input(c, 0, "data");
  require_input(c, 1, "axes");
  const TypeShape& x = c.in(0);
  auto axes = known_ints(c, 1, "axes");
  if (!axes) {
    const TypeShape& a = c.in(1);
    if (x.has_shape && a.has_shape && a.rank() == 1 && a.dims[0].is_known())
      return {typed_like_input(c, std::vector<ir::Dim>(static_cast<size_t>(x.rank() + a.dims[0].value)))};
    return {TypeShape::unknown_rank(x.dtype)};
  }
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  const int out_rank = x.rank() + static_cast<int>(axes->size());
  std::vector<int> ax = normalize_axes(c.node, *axes, out_rank);
  std::vector<ir::Dim> out;
  size_t next = 0;
  for (int j = 0; j < out_rank; ++j) {
    if (std::find(ax.begin(), ax.end(), j) != ax.end()) out.push_back(ir::Dim::known(1));
    else out.push_back(x.dims[next++]);
  }
  return {typed_like_input(c, out)};
}

// ---- Transpose: perm (default reversed).
std::vector<int> transpose_perm(const ir::Node& node, int rank) {
  std::vector<int64_t> p = node.attr_ints("perm");
  std::vector<int> perm(rank);
  if (!node.has_attr("perm")) {
    for (int i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    return perm;
  }
  if (static_cast<int>(p.size()) != rank)
    fail_node(node, "perm has {} entries but the input has rank {}", p.size(), rank);
  std::vector<bool> seen(rank, false);
  for (int i = 0; i < rank; ++i) {
    int a = normalize_axis(node, p[i], rank);
    if (seen[a]) fail_node(node, "perm {} is not a permutation", ints_str(p));
    seen[a] = true;
    perm[i] = a;
  }
  return perm;
}

std::vector<TypeShape> infer_transpose(const InferCtx& c) {
  require_input(c, 0, "data");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) {
    if (c.node.has_attr("perm"))
      return {typed_like_input(c, std::vector<ir::Dim>(c.node.attr_ints("perm").size()))};
    return {TypeShape::unknown_rank(x.dtype)};
  }
  std::vector<int> perm = transpose_perm(c.node, x.rank());
  std::vector<ir::Dim> out;
  for (int a : perm) out.push_back(x.dims[a]);
  return {typed_like_input(c, out)};
}

void compute_transpose(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  std::vector<int> perm = transpose_perm(k.node, x.rank());
  transpose_bytes__ref(x.raw(), k.outputs[0].raw(), x.shape(), perm, element_bytes(k.node, x.dtype()), k.threads);
}

// ---- Identity
std::vector<TypeShape> infer_identity(const InferCtx& c) {
  require_input(c, 0, "input");
  const TypeShape& x = c.in(0);
  if (!x.has_shape) return {TypeShape::unknown_rank(x.dtype)};
  return {typed_like_input(c, x.dims)};
}

// ---- Dropout (inference): output = data; optional mask output is all true.
void check_dropout_mode(const ir::Node& node, const Tensor* training_mode) {
  if (training_mode && training_mode->numel() == 1 && training_mode->at_f64(0) != 0)
    fail_node(node, "training_mode=1 is not supported (qforge runs Dropout in inference mode only)");
}

std::vector<TypeShape> infer_dropout(const InferCtx& c) {
  require_input(c, 0, "data");
  if (c.has_input(2)) check_dropout_mode(c.node, c.value(2));
  TypeShape y = infer_identity(c)[0];
  TypeShape mask = y;
  mask.dtype = DType::boolean;
  return {y, mask};
}

void compute_dropout(KernelCtx& k) {
  if (k.has_input(2)) check_dropout_mode(k.node, &k.inputs[2]);
  compute_copy_input(k);
  if (k.outputs.size() > 1 && !k.outputs[1].empty()) {
    Tensor& mask = k.outputs[1];
    std::fill_n(mask.data<uint8_t>(), mask.numel(), uint8_t{1});
  }
}

}  // namespace

void register_ops_shape_reshape(std::vector<OpDef>& ops) {
  ops.push_back({"Flatten", "", infer_flatten, compute_copy_input});
  ops.push_back({"Reshape", "", infer_reshape, compute_copy_input});
  ops.push_back({"Squeeze", "", infer_squeeze, compute_copy_input});
  ops.push_back({"Unsqueeze", "", infer_unsqueeze, compute_copy_input});
  ops.push_back({"Transpose", "", infer_transpose, compute_transpose});
  ops.push_back({"Identity", "", infer_identity, compute_copy_input});
  ops.push_back({"Dropout", "", infer_dropout, compute_dropout});
}

}  // namespace qforge::runtime
