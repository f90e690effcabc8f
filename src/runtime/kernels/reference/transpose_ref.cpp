#include "runtime/kernels/reference/transpose_ref.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace qforge::runtime {

namespace {

// Drops size-1 axes and merges input axes that stay adjacent and in order in the output, so that
// e.g. NCHW -> NHWC becomes a [N, C, HW] -> [N, HW, C] transpose.
void simplify(const Shape& shape, const std::vector<int>& perm, Shape& s, std::vector<int>& p) {
  const int r = static_cast<int>(shape.size());
  std::vector<int> new_index(r, -1);
  Shape squeezed;
  for (int i = 0; i < r; ++i)
    if (shape[i] != 1) { new_index[i] = static_cast<int>(squeezed.size()); squeezed.push_back(shape[i]); }
  std::vector<int> sp;
  for (int k = 0; k < r; ++k)
    if (new_index[perm[k]] >= 0) sp.push_back(new_index[perm[k]]);
  // Runs of consecutive input axes in output order.
  std::vector<std::pair<int, int>> runs;  // [first input axis, last input axis]
  for (int a : sp) {
    if (!runs.empty() && runs.back().second + 1 == a) runs.back().second = a;
    else runs.push_back({a, a});
  }
  std::vector<int> order(runs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int x, int y) { return runs[x].first < runs[y].first; });
  std::vector<int> rank_of(runs.size());
  for (size_t i = 0; i < order.size(); ++i) rank_of[order[i]] = static_cast<int>(i);
  s.assign(runs.size(), 1);
  p.assign(runs.size(), 0);
  for (size_t j = 0; j < runs.size(); ++j) {
    int64_t d = 1;
    for (int a = runs[j].first; a <= runs[j].second; ++a) d *= squeezed[a];
    s[rank_of[j]] = d;
    p[j] = rank_of[j];
  }
}

template <typename T>
void copy_tile(const std::byte* src, std::byte* dst, int64_t rows, int64_t cols, int64_t src_col_stride,
               int64_t dst_row_stride, size_t elem) {
  // dst[i * dst_row_stride + j] = src[j * src_col_stride + i]  (strides in elements)
  if constexpr (std::is_void_v<T>) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        std::memcpy(dst + (i * dst_row_stride + j) * elem, src + (j * src_col_stride + i) * elem, elem);
  } else {
    const T* s = reinterpret_cast<const T*>(src);
    T* d = reinterpret_cast<T*>(dst);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) d[i * dst_row_stride + j] = s[j * src_col_stride + i];
  }
}

void copy_tile_any(const std::byte* src, std::byte* dst, int64_t rows, int64_t cols, int64_t scs, int64_t drs,
                   size_t elem) {
  switch (elem) {
    case 1: copy_tile<uint8_t>(src, dst, rows, cols, scs, drs, elem); break;
    case 2: copy_tile<uint16_t>(src, dst, rows, cols, scs, drs, elem); break;
    case 4: copy_tile<uint32_t>(src, dst, rows, cols, scs, drs, elem); break;
    case 8: copy_tile<uint64_t>(src, dst, rows, cols, scs, drs, elem); break;
    default: copy_tile<void>(src, dst, rows, cols, scs, drs, elem); break;
  }
}

}  // namespace

void transpose_bytes__ref(const void* src_v, void* dst_v, const Shape& src_shape, const std::vector<int>& perm,
                          size_t elem, int threads) {
  const auto* src = static_cast<const std::byte*>(src_v);
  auto* dst = static_cast<std::byte*>(dst_v);
  const int64_t total = shape_numel(src_shape);
  if (total == 0) return;
  Shape s;
  std::vector<int> p;
  simplify(src_shape, perm, s, p);
  const int r = static_cast<int>(s.size());
  if (r <= 1) { std::memcpy(dst, src, static_cast<size_t>(total) * elem); return; }

  std::vector<int64_t> is(r, 1);  // input strides (elements)
  for (int i = r - 2; i >= 0; --i) is[i] = is[i + 1] * s[i + 1];
  Shape os_shape(r);
  for (int k = 0; k < r; ++k) os_shape[k] = s[p[k]];
  std::vector<int64_t> os(r, 1);  // output strides
  for (int k = r - 2; k >= 0; --k) os[k] = os[k + 1] * os_shape[k + 1];

  // Case 1: the innermost input axis stays innermost (e.g. [A,B,C] -> [B,A,C]): copy contiguous rows.
  const int a = p[r - 1];  // input axis that becomes the output's innermost
  const int q = static_cast<int>(std::find(p.begin(), p.end(), r - 1) - p.begin());  // output pos of input's innermost
  if (a == r - 1) {
    const int64_t rows = total / s[r - 1];
    const size_t row_bytes = static_cast<size_t>(s[r - 1]) * elem;
#pragma omp parallel for num_threads(threads) if (rows > 64)
    for (int64_t o = 0; o < rows; ++o) {
      int64_t rem = o, src_off = 0;
      for (int k = r - 2; k >= 0; --k) { src_off += (rem % os_shape[k]) * is[p[k]]; rem /= os_shape[k]; }
      std::memcpy(dst + o * row_bytes, src + src_off * static_cast<int64_t>(elem), row_bytes);
    }
    return;
  }

  // Case 2: 2-D tiled transpose between output axis q (input innermost, contiguous reads) and output
  // axis r-1 (contiguous writes), for every index of the other axes.
  constexpr int64_t kTile = 32;
  const int64_t nb = s[r - 1];  // rows of a tile block: along output axis q
  const int64_t na = s[a];      // cols: along output axis r-1
  std::vector<int> others;
  for (int k = 0; k < r - 1; ++k)
    if (k != q) others.push_back(k);
  int64_t outer = 1;
  for (int k : others) outer *= os_shape[k];
  const int64_t row_tiles = (nb + kTile - 1) / kTile;
  const int64_t work = outer * row_tiles;
#pragma omp parallel for num_threads(threads) if (total > 4096)
  for (int64_t w = 0; w < work; ++w) {
    int64_t o = w / row_tiles, ib = (w % row_tiles) * kTile;
    int64_t rem = o, src_off = 0, dst_off = 0;
    for (int i = static_cast<int>(others.size()) - 1; i >= 0; --i) {
      int k = others[i];
      int64_t idx = rem % os_shape[k];
      rem /= os_shape[k];
      src_off += idx * is[p[k]];
      dst_off += idx * os[k];
    }
    const int64_t rows = std::min(kTile, nb - ib);
    for (int64_t jb = 0; jb < na; jb += kTile) {
      const int64_t cols = std::min(kTile, na - jb);
      copy_tile_any(src + (src_off + jb * is[a] + ib) * static_cast<int64_t>(elem),
                    dst + (dst_off + ib * os[q] + jb) * static_cast<int64_t>(elem), rows, cols, is[a], os[q], elem);
    }
  }
}

}  // namespace qforge::runtime
