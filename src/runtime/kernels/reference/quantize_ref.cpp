#include "runtime/kernels/reference/quantize_ref.h"

#include <vector>

#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {
namespace {

bool is_4bit(DType t) { return t == DType::s4 || t == DType::u4; }

// Zero points widened to int32 (0 when absent), one per scale.
std::vector<int32_t> zero_points_s32(const Tensor* zp, int64_t count) {
  std::vector<int32_t> z(static_cast<size_t>(count), 0);
  if (!zp) return z;
  QF_CHECK(zp->numel() == count);
  for (int64_t i = 0; i < count; ++i) z[i] = static_cast<int32_t>(zp->at_i64(i));  // unpacks 4-bit too
  return z;
}

// Walks x as rows of `inner` elements (row r = o * axis_len + a) and calls
// fn(row_offset, scale_row, zp_row, scale_step, begin_col, len), split across threads.
template <class Fn>
void for_each_quant_row(const QuantLayout& l, const float* scale, const int32_t* zp, int threads, Fn&& fn) {
  const int64_t total = l.outer * l.axis_len * l.inner;
  const int64_t blocks = l.block > 0 ? (l.axis_len + l.block - 1) / l.block : 0;
  parallel_chunks(total, threads, [&](int64_t begin, int64_t end) {
    for (int64_t idx = begin; idx < end;) {
      const int64_t r = idx / l.inner, col = idx % l.inner;
      const int64_t len = std::min(l.inner - col, end - idx);
      const int64_t o = r / l.axis_len, a = r % l.axis_len;
      int64_t s = 0, step = 0;
      switch (l.granularity) {
        case QuantGranularity::per_tensor: s = 0; break;
        case QuantGranularity::per_axis: s = a; break;
        case QuantGranularity::blocked:
          s = (o * blocks + a / l.block) * l.inner + col;
          step = 1;
          break;
      }
      fn(idx, scale + s, zp + s, step, len);
      idx += len;
    }
  });
}

// One row; restrict parameters (LLVM honours restrict only there) let 1-byte stores vectorise.
// step 0: one scale / zero point for the row; step 1: one per element (blocked).
template <class Q>
void quantize_row(const float* __restrict x, Q* __restrict y, int64_t n, const float* __restrict s,
                  const int32_t* __restrict z, int64_t step, int32_t qmin, int32_t qmax) {
  if (step == 0) {
    const float sv = s[0];
    const int32_t zv = z[0];
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<Q>(quant::quantize_value(x[i], sv, zv, qmin, qmax));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<Q>(quant::quantize_value(x[i], s[i], z[i], qmin, qmax));
  }
}

template <class Q>
void dequantize_row(const Q* __restrict x, float* __restrict y, int64_t n, const float* __restrict s,
                    const int32_t* __restrict z, int64_t step) {
  if (step == 0) {
    const float sv = s[0];
    const int64_t zv = z[0];
    for (int64_t i = 0; i < n; ++i) y[i] = quant::dequantize_value(x[i], sv, zv);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = quant::dequantize_value(x[i], s[i], z[i]);
  }
}

template <class Q>
void quantize_rows(const float* x, Q* y, const float* scale, const int32_t* zp, const QuantLayout& l, int32_t qmin,
                   int32_t qmax, int threads) {
  for_each_quant_row(l, scale, zp, threads,
                     [&](int64_t off, const float* s, const int32_t* z, int64_t step, int64_t n) {
                       quantize_row(x + off, y + off, n, s, z, step, qmin, qmax);
                     });
}

template <class Q>
void dequantize_rows(const Q* x, float* y, const float* scale, const int32_t* zp, const QuantLayout& l, int threads) {
  for_each_quant_row(l, scale, zp, threads,
                     [&](int64_t off, const float* s, const int32_t* z, int64_t step, int64_t n) {
                       dequantize_row(x + off, y + off, n, s, z, step);
                     });
}

}  // namespace

bool quant_dtype_supported(DType t) { return quant::qformat_is_integer(t); }

int32_t quant_min(DType t) { return quant::qrange_storage(t).qmin; }

int32_t quant_max(DType t) { return quant::qrange_storage(t).qmax; }

void quantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y, const QuantLayout& layout,
                  int threads) {
  QF_CHECK(x.dtype() == DType::f32 && scale.dtype() == DType::f32 && quant_dtype_supported(y.dtype()));
  QF_CHECK(x.numel() == y.numel() && x.numel() == layout.outer * layout.axis_len * layout.inner);
  const std::vector<int32_t> zp = zero_points_s32(zero_point, scale.numel());
  const int32_t qmin = quant_min(y.dtype()), qmax = quant_max(y.dtype());
  const float* xs = x.data<float>();
  const float* ss = scale.data<float>();
  switch (y.dtype()) {
    case DType::u8: quantize_rows(xs, y.data<uint8_t>(), ss, zp.data(), layout, qmin, qmax, threads); return;
    case DType::s8: quantize_rows(xs, y.data<int8_t>(), ss, zp.data(), layout, qmin, qmax, threads); return;
    case DType::u16: quantize_rows(xs, y.data<uint16_t>(), ss, zp.data(), layout, qmin, qmax, threads); return;
    case DType::s16: quantize_rows(xs, y.data<int16_t>(), ss, zp.data(), layout, qmin, qmax, threads); return;
    default: break;
  }
  // 4-bit: quantize one value per byte, then pack pairs (low nibble first).
  QF_CHECK(is_4bit(y.dtype()));
  const int64_t n = x.numel();
  std::vector<int8_t> tmp(static_cast<size_t>(n));
  quantize_rows(xs, tmp.data(), ss, zp.data(), layout, qmin, qmax, threads);
  quant::pack_4bit(tmp.data(), n, y.data<uint8_t>());
}

bool dequant_dtype_supported(DType t) { return quant_dtype_supported(t) || t == DType::s32; }

void dequantize_ref(const Tensor& x, const Tensor& scale, const Tensor* zero_point, Tensor& y,
                    const QuantLayout& layout, int threads) {
  QF_CHECK(dequant_dtype_supported(x.dtype()) && scale.dtype() == DType::f32 && y.dtype() == DType::f32);
  QF_CHECK(x.numel() == y.numel() && x.numel() == layout.outer * layout.axis_len * layout.inner);
  const std::vector<int32_t> zp = zero_points_s32(zero_point, scale.numel());
  const float* ss = scale.data<float>();
  float* ys = y.data<float>();
  switch (x.dtype()) {
    case DType::u8: dequantize_rows(x.data<uint8_t>(), ys, ss, zp.data(), layout, threads); return;
    case DType::s8: dequantize_rows(x.data<int8_t>(), ys, ss, zp.data(), layout, threads); return;
    case DType::u16: dequantize_rows(x.data<uint16_t>(), ys, ss, zp.data(), layout, threads); return;
    case DType::s16: dequantize_rows(x.data<int16_t>(), ys, ss, zp.data(), layout, threads); return;
    case DType::s32: dequantize_rows(x.data<int32_t>(), ys, ss, zp.data(), layout, threads); return;
    default: break;
  }
  // 4-bit: unpack to one value per byte first.
  const int64_t n = x.numel();
  std::vector<int8_t> tmp(static_cast<size_t>(n));
  if (x.dtype() == DType::s4)
    quant::unpack_s4(x.data<uint8_t>(), n, tmp.data());
  else
    quant::unpack_u4(x.data<uint8_t>(), n, tmp.data());
  dequantize_rows(tmp.data(), ys, ss, zp.data(), layout, threads);
}

}  // namespace qforge::runtime
