// Range policy tables and QParams layout helpers (the policy itself is stated in qparams.h).
#include "quant/qparams.h"

#include <cmath>

namespace qforge::quant {

bool qformat_is_integer(DType format) {
  switch (format) {
    case DType::s8:
    case DType::u8:
    case DType::s16:
    case DType::u16:
    case DType::s4:
    case DType::u4: return true;
    default: return false;
  }
}

QRange qrange_storage(DType format) {
  switch (format) {
    case DType::s8: return {-128, 127};
    case DType::u8: return {0, 255};
    case DType::s16: return {-32768, 32767};
    case DType::u16: return {0, 65535};
    case DType::s4: return {-8, 7};
    case DType::u4: return {0, 15};
    default: break;
  }
  QF_CHECK(false, "qrange_storage: not an integer format: " + std::string(dtype_name(format)));
  return {};
}

namespace {

bool is_signed_format(DType f) { return f == DType::s8 || f == DType::s16 || f == DType::s4; }

QRange base_range(DType format, bool reduced_range) {
  if (!reduced_range) return qrange_storage(format);
  QF_CHECK(format == DType::s8 || format == DType::u8,
           "reduced_range applies to 8-bit formats only, not " + std::string(dtype_name(format)));
  return format == DType::s8 ? QRange{-64, 63} : QRange{0, 127};
}

}  // namespace

int32_t symmetric_zero_point(DType format, bool reduced_range) {
  const QRange r = base_range(format, reduced_range);
  return is_signed_format(format) ? 0 : r.qmin + (r.qmax - r.qmin - 1) / 2 + 1;
}

QRange qrange(DType format, bool symmetric, bool reduced_range) {
  const QRange r = base_range(format, reduced_range);
  if (!symmetric) return r;
  const int32_t h = (r.qmax - r.qmin - 1) / 2;
  const int32_t zp = symmetric_zero_point(format, reduced_range);
  return {zp - h, zp + h};
}

QGranularity QParams::granularity() const {
  if (axis == kPerTensor) return QGranularity::per_tensor;
  return group_size > 0 ? QGranularity::per_group : QGranularity::per_channel;
}

QRange QParams::range() const { return qrange(format, symmetric, reduced_range); }

SliceLayout slice_layout(const Shape& x, int axis, int64_t group_size) {
  SliceLayout l;
  const int rank = static_cast<int>(x.size());
  QF_CHECK(axis >= 0 && axis < rank, "slice_layout: axis out of range");
  QF_CHECK(group_size >= 0);
  for (int d = 0; d < rank; ++d) (d < axis ? l.outer : d > axis ? l.inner : l.axis_len) *= x[d];
  l.group_size = group_size;
  l.groups = group_size > 0 ? (l.axis_len + group_size - 1) / group_size : l.axis_len;
  return l;
}

Shape QParams::scale_shape(const Shape& x) const {
  switch (granularity()) {
    case QGranularity::per_tensor: return {};
    case QGranularity::per_channel: QF_CHECK(axis < static_cast<int>(x.size())); return {x[axis]};
    case QGranularity::per_group: {
      QF_CHECK(axis < static_cast<int>(x.size()));
      Shape s = x;
      s[axis] = (x[axis] + group_size - 1) / group_size;
      return s;
    }
  }
  return {};
}

int64_t QParams::expected_num_scales(const Shape& x) const {
  if (format == DType::f16 || format == DType::bf16) return 0;
  return shape_numel(scale_shape(x));
}

QParams qparams_cast(DType format) {
  QF_CHECK(format == DType::f16 || format == DType::bf16);
  QParams p;
  p.format = format;
  return p;
}

void check_qparams(const QParams& p, const Shape& x, const std::string& name) {
  const bool is_cast = p.format == DType::f16 || p.format == DType::bf16;
  if (!is_cast && !qformat_is_integer(p.format) && p.format != DType::nf4)
    fail_input("bad quantization parameters for '{}': format {} cannot be quantized to", name,
               dtype_name(p.format));
  const int rank = static_cast<int>(x.size());
  if (p.axis != QParams::kPerTensor && (p.axis < 0 || p.axis >= rank))
    fail_input("bad quantization parameters for '{}': axis {} out of range for shape {}", name, p.axis,
               shape_str(x));
  if (p.group_size < 0 || (p.group_size > 0 && p.axis == QParams::kPerTensor))
    fail_input("bad quantization parameters for '{}': group size {} needs an axis and must be positive", name,
               p.group_size);
  if (p.reduced_range && p.format != DType::s8 && p.format != DType::u8)
    fail_input("bad quantization parameters for '{}': reduced range applies to s8/u8, not {}", name,
               dtype_name(p.format));
  const int64_t want = p.expected_num_scales(x);
  if (p.num_scales() != want)
    fail_input("bad quantization parameters for '{}': {} scales for shape {}, expected {}", name, p.num_scales(),
               shape_str(x), want);
  for (size_t i = 0; i < p.scale.size(); ++i)
    if (!std::isfinite(p.scale[i]) || !(p.scale[i] > 0))
      fail_input("bad quantization parameters for '{}': scale[{}] = {} is not a finite positive number", name, i,
                 p.scale[i]);
  if (!qformat_is_integer(p.format)) {
    if (!p.zero_point.empty())
      fail_input("bad quantization parameters for '{}': format {} has no zero point", name, dtype_name(p.format));
    return;
  }
  if (p.zero_point.size() != p.scale.size())
    fail_input("bad quantization parameters for '{}': {} zero points for {} scales", name, p.zero_point.size(),
               p.scale.size());
  const QRange r = qrange_storage(p.format);
  for (size_t i = 0; i < p.zero_point.size(); ++i)
    if (p.zero_point[i] < r.qmin || p.zero_point[i] > r.qmax)
      fail_input("bad quantization parameters for '{}': zero_point[{}] = {} outside [{}, {}] of {}", name, i,
                 p.zero_point[i], r.qmin, r.qmax, dtype_name(p.format));
}

}  // namespace qforge::quant
