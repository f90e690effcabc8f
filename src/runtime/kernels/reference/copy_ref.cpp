#include "runtime/kernels/reference/copy_ref.h"

#include <cstring>

namespace qforge::runtime {

namespace {

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// dst (dense, dst_shape) [j] = src[base + sum_d j_d * src_strides[d]]  (strides may be 0 or negative)
void strided_copy(const std::byte* src, int64_t base, const std::vector<int64_t>& src_strides, std::byte* dst,
                  const Shape& dst_shape, size_t elem) {
  const int r = static_cast<int>(dst_shape.size());
  const int64_t total = shape_numel(dst_shape);
  if (total == 0) return;
  if (r == 0) { std::memcpy(dst, src + base * static_cast<int64_t>(elem), elem); return; }
  const int64_t inner = dst_shape[r - 1];
  const int64_t inner_stride = src_strides[r - 1];
  const int64_t rows = total / inner;
  const auto e = static_cast<int64_t>(elem);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = base;
    for (int d = r - 2; d >= 0; --d) { off += (rem % dst_shape[d]) * src_strides[d]; rem /= dst_shape[d]; }
    std::byte* out = dst + row * inner * e;
    const std::byte* in = src + off * e;
    if (inner_stride == 1) {
      std::memcpy(out, in, static_cast<size_t>(inner * e));
    } else {
      for (int64_t j = 0; j < inner; ++j) std::memcpy(out + j * e, in + j * inner_stride * e, elem);
    }
  }
}

}  // namespace

void slice_bytes__ref(const void* src, const Shape& src_shape, void* dst, const Shape& dst_shape,
                      const std::vector<int64_t>& starts, const std::vector<int64_t>& steps, size_t elem) {
  std::vector<int64_t> is = strides_of(src_shape);
  std::vector<int64_t> st(src_shape.size());
  int64_t base = 0;
  for (size_t d = 0; d < src_shape.size(); ++d) {
    if (dst_shape[d] > 0) base += starts[d] * is[d];
    st[d] = steps[d] * is[d];
  }
  strided_copy(static_cast<const std::byte*>(src), base, st, static_cast<std::byte*>(dst), dst_shape, elem);
}

void broadcast_bytes__ref(const void* src, const Shape& src_shape, void* dst, const Shape& dst_shape, size_t elem) {
  std::vector<int64_t> is = strides_of(src_shape);
  for (size_t d = 0; d < src_shape.size(); ++d)
    if (src_shape[d] == 1) is[d] = 0;
  strided_copy(static_cast<const std::byte*>(src), 0, is, static_cast<std::byte*>(dst), dst_shape, elem);
}

void tile_bytes__ref(const void* src_v, const Shape& src_shape, void* dst_v, const Shape& dst_shape, size_t elem) {
  const auto* src = static_cast<const std::byte*>(src_v);
  auto* dst = static_cast<std::byte*>(dst_v);
  const int r = static_cast<int>(dst_shape.size());
  const int64_t total = shape_numel(dst_shape);
  if (total == 0) return;
  if (r == 0) { std::memcpy(dst, src, elem); return; }
  std::vector<int64_t> is = strides_of(src_shape);
  const auto e = static_cast<int64_t>(elem);
  const int64_t inner = dst_shape[r - 1], src_inner = src_shape[r - 1];
  const int64_t rows = total / inner;
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = 0;
    for (int d = r - 2; d >= 0; --d) { off += ((rem % dst_shape[d]) % src_shape[d]) * is[d]; rem /= dst_shape[d]; }
    std::byte* out = dst + row * inner * e;
    for (int64_t j = 0; j < inner; j += src_inner)
      std::memcpy(out + j * e, src + off * e, static_cast<size_t>(src_inner * e));
  }
}

void gather_bytes__ref(const void* src_v, int64_t outer, int64_t n, int64_t inner, const std::vector<int64_t>& indices,
                       void* dst_v, size_t elem) {
  const auto* src = static_cast<const std::byte*>(src_v);
  auto* dst = static_cast<std::byte*>(dst_v);
  const auto chunk = static_cast<size_t>(inner) * elem;
  const auto k = static_cast<int64_t>(indices.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < k; ++i)
      std::memcpy(dst + (o * k + i) * static_cast<int64_t>(chunk), src + (o * n + indices[i]) * static_cast<int64_t>(chunk),
                  chunk);
}

}  // namespace qforge::runtime
