// Whole-tensor quantize / dequantize for every format and granularity (formulas and rounding in
// quantize.h; scale layout in qparams.h / slice_iter.h). Plain loops: this is the reference path used
// by PTQ, export and tests; the runtime kernels have their own vectorised, threaded versions.
#include "quant/quantize.h"

#include <limits>
#include <vector>

#include "quant/nf4.h"
#include "quant/pack.h"
#include "quant/slice_iter.h"

namespace qforge::quant {
namespace {

void check_fits(const Shape& x, const QParams& p) {
  QF_CHECK(p.num_scales() == p.expected_num_scales(x), "quantize: scale count does not fit the tensor shape");
  if (qformat_is_integer(p.format)) QF_CHECK(p.zero_point.size() == p.scale.size(), "quantize: zero_point count");
}

SliceLayout layout_of(const Shape& x, const QParams& p) { return params_layout(x, p.axis, p.group_size); }

bool per_group(const QParams& p) { return p.granularity() == QGranularity::per_group; }

// Integer codes, one per int32 (before narrowing or packing).
std::vector<int32_t> quantize_codes(const Tensor& x, const QParams& p) {
  const float* xs = x.data<float>();
  std::vector<int32_t> q(static_cast<size_t>(x.numel()));
  if (p.format == DType::nf4) {
    std::vector<float> inv(p.scale.size());
    for (size_t s = 0; s < inv.size(); ++s) inv[s] = 1.0f / p.scale[s];
    for_each_scale_index(layout_of(x.shape(), p), per_group(p),
                         [&](int64_t e, int64_t s) { q[e] = nf4_quantize_value(xs[e], inv[s]); });
    return q;
  }
  const QRange r = p.range();
  for_each_scale_index(layout_of(x.shape(), p), per_group(p), [&](int64_t e, int64_t s) {
    q[e] = quantize_value(xs[e], p.scale[s], p.zero_point[s], r.qmin, r.qmax);
  });
  return q;
}

template <class T>
void narrow(const std::vector<int32_t>& q, T* dst) {
  for (size_t i = 0; i < q.size(); ++i) dst[i] = static_cast<T>(q[i]);
}

// Integer codes read back from a tensor of p.format.
std::vector<int32_t> read_codes(const Tensor& q) {
  const int64_t n = q.numel();
  std::vector<int32_t> c(static_cast<size_t>(n));
  switch (q.dtype()) {
    case DType::s8: for (int64_t i = 0; i < n; ++i) c[i] = q.data<int8_t>()[i]; break;
    case DType::u8: for (int64_t i = 0; i < n; ++i) c[i] = q.data<uint8_t>()[i]; break;
    case DType::s16: for (int64_t i = 0; i < n; ++i) c[i] = q.data<int16_t>()[i]; break;
    case DType::u16: for (int64_t i = 0; i < n; ++i) c[i] = q.data<uint16_t>()[i]; break;
    case DType::s4: for (int64_t i = 0; i < n; ++i) c[i] = unpack_s4(q.data<uint8_t>(), i); break;
    case DType::u4:
    case DType::nf4: for (int64_t i = 0; i < n; ++i) c[i] = unpack_u4(q.data<uint8_t>(), i); break;
    default: QF_CHECK(false, "read_codes: not a quantized dtype: " + std::string(dtype_name(q.dtype())));
  }
  return c;
}

Tensor cast_to_half(const Tensor& x, DType format) {
  Tensor y(format, x.shape());
  const float* xs = x.data<float>();
  uint16_t* ys = y.data<uint16_t>();
  for (int64_t i = 0; i < x.numel(); ++i) ys[i] = format == DType::f16 ? f32_to_f16(xs[i]) : f32_to_bf16(xs[i]);
  return y;
}

}  // namespace

BiasS32 quantize_bias_s32(float b, float scale) {
  QF_CHECK(scale > 0 && std::isfinite(scale), "quantize_bias_s32: scale must be finite and positive");
  constexpr double lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  const double v = round_half_even(static_cast<double>(b) / static_cast<double>(scale));
  if (std::isnan(v)) return {0, true};
  if (v < lo) return {std::numeric_limits<int32_t>::min(), true};
  if (v > hi) return {std::numeric_limits<int32_t>::max(), true};
  return {static_cast<int32_t>(v), false};
}

Tensor quantize(const Tensor& x, const QParams& p) {
  QF_CHECK(x.dtype() == DType::f32, "quantize: x must be f32");
  if (p.format == DType::f16 || p.format == DType::bf16) return cast_to_half(x, p.format);
  check_fits(x.shape(), p);
  const std::vector<int32_t> q = quantize_codes(x, p);
  Tensor y(p.format, x.shape());
  switch (p.format) {
    case DType::s8: narrow(q, y.data<int8_t>()); break;
    case DType::u8: narrow(q, y.data<uint8_t>()); break;
    case DType::s16: narrow(q, y.data<int16_t>()); break;
    case DType::u16: narrow(q, y.data<uint16_t>()); break;
    case DType::s4:
    case DType::u4:
    case DType::nf4: {
      std::vector<int8_t> codes(q.size());
      narrow(q, codes.data());
      pack_4bit(codes.data(), x.numel(), y.data<uint8_t>());
      break;
    }
    default: QF_CHECK(false, "quantize: unsupported format " + std::string(dtype_name(p.format)));
  }
  return y;
}

Tensor dequantize(const Tensor& q, const QParams& p) {
  QF_CHECK(q.dtype() == p.format, "dequantize: tensor dtype differs from the params' format");
  Tensor y(DType::f32, q.shape());
  float* ys = y.data<float>();
  if (p.format == DType::f16 || p.format == DType::bf16) {
    const uint16_t* h = q.data<uint16_t>();
    for (int64_t i = 0; i < q.numel(); ++i) ys[i] = p.format == DType::f16 ? f16_to_f32(h[i]) : bf16_to_f32(h[i]);
    return y;
  }
  check_fits(q.shape(), p);
  const std::vector<int32_t> c = read_codes(q);
  if (p.format == DType::nf4) {
    for_each_scale_index(layout_of(q.shape(), p), per_group(p),
                         [&](int64_t e, int64_t s) { ys[e] = nf4_dequantize_value(c[e], p.scale[s]); });
  } else {
    for_each_scale_index(layout_of(q.shape(), p), per_group(p),
                         [&](int64_t e, int64_t s) { ys[e] = dequantize_value(c[e], p.scale[s], p.zero_point[s]); });
  }
  return y;
}

Tensor fake_quantize(const Tensor& x, const QParams& p) { return dequantize(quantize(x, p), p); }

}  // namespace qforge::quant
