// Choosing scales and zero points from ranges, and measuring ranges on float tensors. The range
// policy, the asymmetric / symmetric formulas and the degenerate-range rule are stated in qparams.h;
// rounding is round half to even (std::nearbyint in the default rounding mode), in double.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "quant/qparams.h"
#include "quant/slice_iter.h"

namespace qforge::quant {
namespace {

void check_range(double min, double max, const std::string& name) {
  if (!std::isfinite(min) || !std::isfinite(max))
    fail_input("failed to quantize tensor '{}': range [{}, {}] is not finite", name, min, max);
  if (min > max) fail_input("failed to quantize tensor '{}': range [{}, {}] has min > max", name, min, max);
}

int32_t clamp_code(double v, const QRange& r) {
  return static_cast<int32_t>(std::clamp(v, static_cast<double>(r.qmin), static_cast<double>(r.qmax)));
}

int normalize_axis(int axis, int rank, const std::string& name) {
  if (axis < -rank || axis >= rank)
    fail_input("failed to quantize tensor '{}': axis {} out of range for rank {}", name, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace

ScaleZeroPoint choose_scale_zero_point(double min, double max, const QScheme& scheme, const std::string& name) {
  check_range(min, max, name);
  QF_CHECK(qformat_is_integer(scheme.format), "choose_scale_zero_point: not an integer format");
  const QRange r = qrange(scheme.format, scheme.symmetric, scheme.reduced_range);
  if (scheme.symmetric) {
    const int32_t zp = symmetric_zero_point(scheme.format, scheme.reduced_range);
    const double scale = std::max(std::fabs(min), std::fabs(max)) / (r.qmax - zp);
    if (!(scale >= FLT_MIN)) return {1.0f, zp};  // degenerate: all (near) zero
    return {static_cast<float>(scale), zp};
  }
  const double lo = std::min(min, 0.0), hi = std::max(max, 0.0);
  const double scale = (hi - lo) / (static_cast<double>(r.qmax) - r.qmin);
  if (!(scale >= FLT_MIN)) return {1.0f, clamp_code(0, r)};  // degenerate: all (near) zero
  const int32_t zp = clamp_code(std::nearbyint(r.qmin - lo / scale), r);
  return {static_cast<float>(scale), zp};
}

float choose_scale_nf4(double min, double max, const std::string& name) {
  check_range(min, max, name);
  const double absmax = std::max(std::fabs(min), std::fabs(max));
  return absmax >= FLT_MIN ? static_cast<float>(absmax) : 1.0f;
}

namespace {

QParams empty_params(const QScheme& scheme, int axis, int64_t group_size) {
  QF_CHECK(axis >= QParams::kPerTensor && group_size >= 0);
  QF_CHECK(scheme.format == DType::nf4 || qformat_is_integer(scheme.format), "choose_qparams: not a quantized format");
  QF_CHECK(scheme.format != DType::nf4 || !scheme.reduced_range);
  QParams p;
  p.format = scheme.format;
  p.axis = axis;
  p.group_size = group_size;
  p.symmetric = scheme.format == DType::nf4 || scheme.symmetric;
  p.reduced_range = scheme.reduced_range;
  return p;
}

void append_scale(QParams& p, double min, double max, const QScheme& scheme, const std::string& name) {
  if (scheme.format == DType::nf4) {
    p.scale.push_back(choose_scale_nf4(min, max, name));
    return;
  }
  const ScaleZeroPoint sz = choose_scale_zero_point(min, max, scheme, name);
  p.scale.push_back(sz.scale);
  p.zero_point.push_back(sz.zero_point);
}

}  // namespace

QParams choose_qparams_from_ranges(std::span<const MinMax> ranges, int axis, int64_t group_size,
                                   const QScheme& scheme, const std::string& name) {
  QF_CHECK(axis != QParams::kPerTensor || (ranges.size() == 1 && group_size == 0));
  QParams p = empty_params(scheme, axis, group_size);
  for (const MinMax& m : ranges) append_scale(p, m.min, m.max, scheme, name);
  return p;
}

QParams choose_qparams(double min, double max, const QScheme& scheme, const std::string& name) {
  QParams p = empty_params(scheme, QParams::kPerTensor, 0);
  append_scale(p, min, max, scheme, name);
  return p;
}

MinMax tensor_min_max(const Tensor& x, const std::string& name) {
  QF_CHECK(x.dtype() == DType::f32, "tensor_min_max needs f32");
  const float* v = x.data<float>();
  const int64_t n = x.numel();
  if (n == 0) return {};
  MinMax m{v[0], v[0]};
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i]))
      fail_input("failed to quantize tensor '{}': element {} is {}", name, i, v[i]);
    m.min = std::min(m.min, v[i]);
    m.max = std::max(m.max, v[i]);
  }
  return m;
}

std::vector<MinMax> slice_min_max(const Tensor& x, int axis, int64_t group_size, const std::string& name) {
  QF_CHECK(x.dtype() == DType::f32, "slice_min_max needs f32");
  if (group_size < 0) fail_input("failed to quantize tensor '{}': group size {} is negative", name, group_size);
  const int ax = normalize_axis(axis, x.rank(), name);
  const SliceLayout l = slice_layout(x.shape(), ax, group_size);
  const bool per_group = group_size > 0;
  const int64_t count = per_group ? l.outer * l.groups * l.inner : l.axis_len;
  std::vector<MinMax> r(static_cast<size_t>(count));
  std::vector<bool> seen(static_cast<size_t>(count), false);
  const float* v = x.data<float>();
  for_each_scale_index(l, per_group, [&](int64_t e, int64_t s) {
    if (!std::isfinite(v[e])) fail_input("failed to quantize tensor '{}': element {} is {}", name, e, v[e]);
    if (!seen[s]) {
      r[s] = {v[e], v[e]};
      seen[s] = true;
    } else {
      r[s].min = std::min(r[s].min, v[e]);
      r[s].max = std::max(r[s].max, v[e]);
    }
  });
  return r;
}

QParams choose_qparams_per_tensor(const Tensor& x, const QScheme& scheme, const std::string& name) {
  const MinMax m = tensor_min_max(x, name);
  return choose_qparams(m.min, m.max, scheme, name);
}

QParams choose_qparams_per_channel(const Tensor& x, int axis, const QScheme& scheme, const std::string& name) {
  const int ax = normalize_axis(axis, x.rank(), name);
  const std::vector<MinMax> r = slice_min_max(x, ax, 0, name);
  return choose_qparams_from_ranges(r, ax, 0, scheme, name);
}

QParams choose_qparams_per_group(const Tensor& x, int axis, int64_t group_size, const QScheme& scheme,
                                 const std::string& name) {
  if (group_size <= 0) fail_input("failed to quantize tensor '{}': group size {} must be positive", name, group_size);
  const int ax = normalize_axis(axis, x.rank(), name);
  const std::vector<MinMax> r = slice_min_max(x, ax, group_size, name);
  return choose_qparams_from_ranges(r, ax, group_size, scheme, name);
}

}  // namespace qforge::quant
