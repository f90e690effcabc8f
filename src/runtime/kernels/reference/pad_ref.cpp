#include "runtime/kernels/reference/pad_ref.h"

#include <algorithm>
#include <cstring>

namespace qforge::runtime {

namespace {

// Output index -> input index along one axis, -1 for the constant value.
std::vector<int64_t> pad_axis_map(int64_t in, int64_t out, int64_t begin, PadMode mode) {
  const int64_t end = out - in - begin;
  const int64_t lo = std::max<int64_t>(0, -begin);
  const int64_t m = in - lo - std::max<int64_t>(0, -end);
  const int64_t shift = std::max<int64_t>(begin, 0);
  std::vector<int64_t> map(static_cast<size_t>(out));
  for (int64_t j = 0; j < out; ++j) {
    int64_t rel = j - shift;
    if (rel < 0 || rel >= m) {
      switch (mode) {
        case PadMode::constant: map[j] = -1; continue;
        case PadMode::edge: rel = std::clamp<int64_t>(rel, 0, m - 1); break;
        case PadMode::wrap: rel = ((rel % m) + m) % m; break;
        case PadMode::reflect: {
          if (m == 1) { rel = 0; break; }
          const int64_t period = 2 * (m - 1);
          rel = (rel < 0 ? -rel : rel) % period;
          if (rel >= m) rel = period - rel;
          break;
        }
      }
    }
    map[j] = lo + rel;
  }
  return map;
}

}  // namespace

void pad_bytes__ref(const void* src_v, const Shape& in_shape, void* dst_v, const Shape& out_shape,
                    const std::vector<int64_t>& begin, PadMode mode, const void* value, size_t elem) {
  const auto* src = static_cast<const std::byte*>(src_v);
  auto* dst = static_cast<std::byte*>(dst_v);
  const int r = static_cast<int>(out_shape.size());
  const int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  if (r == 0) { std::memcpy(dst, src, elem); return; }
  std::vector<std::vector<int64_t>> maps;
  for (int d = 0; d < r; ++d) maps.push_back(pad_axis_map(in_shape[d], out_shape[d], begin[d], mode));
  std::vector<int64_t> stride(r, 1);
  for (int d = r - 2; d >= 0; --d) stride[d] = stride[d + 1] * in_shape[d + 1];
  const auto e = static_cast<int64_t>(elem);
  const int64_t width = out_shape[r - 1];
  const int64_t rows = total / width;
  const std::vector<int64_t>& mx = maps[r - 1];
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = 0;
    bool outside = false;
    for (int d = r - 2; d >= 0; --d) {
      int64_t i = maps[d][rem % out_shape[d]];
      rem /= out_shape[d];
      if (i < 0) outside = true;
      off += i * stride[d];
    }
    std::byte* y = dst + row * width * e;
    for (int64_t j = 0; j < width; ++j) {
      if (outside || mx[j] < 0) std::memcpy(y + j * e, value, elem);
      else std::memcpy(y + j * e, src + (off + mx[j]) * e, elem);
    }
  }
}

}  // namespace qforge::runtime
