// Multidirectional (numpy) broadcasting as an iteration plan shared by the elementwise kernels.
// The output shape is collapsed first: size-1 output dims are dropped and neighbouring dims merge
// where every input continues contiguously (or stays broadcast) across them, so [N,C,H,W] + [1,C,1,1]
// becomes [N, C, H*W] with strides {HW*C, HW, 1} and {0, 1, 0}. The innermost collapsed dim is a
// "row": each input has stride 1 (read) or 0 (repeat one element) along it, which lets the row loop
// vectorise. Rows are walked with an odometer that updates offsets incrementally.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {

inline constexpr int kBroadcastMaxInputs = 3;

struct BroadcastPlan {
  int num_inputs = 0;
  std::vector<int64_t> dims;                                      // collapsed output dims, at least one
  std::array<std::vector<int64_t>, kBroadcastMaxInputs> strides;  // element strides, 0 = broadcast
  int64_t numel = 0;
};

// Precondition: `out` is the broadcast of the input shapes (checked by shape inference).
BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<const Shape*>& ins);

// Calls row(out_offset, in_offsets, in_row_strides, len) for every row piece in order; each
// in_row_strides[k] is 0 or 1. Splits the elements across threads for large outputs.
template <int N, class RowFn>
void broadcast_for_each_row(const BroadcastPlan& p, int threads, RowFn&& row) {
  static_assert(N >= 1 && N <= kBroadcastMaxInputs);
  const int r = static_cast<int>(p.dims.size());
  const int64_t inner = p.dims[r - 1];
  std::array<int64_t, N> row_stride{};
  for (int k = 0; k < N; ++k) row_stride[k] = p.strides[k][r - 1];
  parallel_chunks(p.numel, threads, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> coord(r > 1 ? r - 1 : 1, 0);
    std::array<int64_t, N> base{};
    int64_t rest = begin / inner;
    for (int d = r - 2; d >= 0; --d) {
      coord[d] = rest % p.dims[d];
      rest /= p.dims[d];
      for (int k = 0; k < N; ++k) base[k] += coord[d] * p.strides[k][d];
    }
    int64_t col = begin % inner;
    for (int64_t idx = begin; idx < end;) {
      const int64_t len = std::min(inner - col, end - idx);
      std::array<int64_t, N> off;
      for (int k = 0; k < N; ++k) off[k] = base[k] + col * row_stride[k];
      row(idx, off, row_stride, len);
      idx += len;
      col = 0;
      for (int d = r - 2; d >= 0; --d) {
        for (int k = 0; k < N; ++k) base[k] += p.strides[k][d];
        if (++coord[d] < p.dims[d]) break;
        for (int k = 0; k < N; ++k) base[k] -= p.strides[k][d] * p.dims[d];
        coord[d] = 0;
      }
    }
  });
}

}  // namespace qforge::runtime
