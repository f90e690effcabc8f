// Small helpers shared by the backward rules: strided matrix products on the runtime's SGEMM,
// and the broadcast bookkeeping of elementwise gradients.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace qforge::train {

// A(r, k) = p[r*rs + k*cs].
struct MatView {
  const float* p = nullptr;
  int64_t rs = 0, cs = 1;
};

// c[M×N] (row-major, contiguous) = [c +] a[M×K] · b[K×N].
void matmul_f32(int64_t M, int64_t N, int64_t K, MatView a, MatView b, float* c, bool accumulate,
                int threads);

// Strides of `shape` aligned right to `out` rank (numpy broadcasting), 0 along broadcast dims.
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out);

// dst (shape `shape`, zero-filled by the caller) += Σ over broadcast dims of src (shape `out`)
// times the optional factor f (same layout as a broadcast input with strides fs; nullptr: 1).
void reduce_broadcast_f32(const Shape& out, const float* src, const float* f,
                          const std::vector<int64_t>& fs, const Shape& shape, float* dst);

// A zero-filled f32 tensor of the shape of t.
inline Tensor zeros_like(const Tensor& t) { return Tensor(DType::f32, t.shape()); }

// An f32 tensor of `shape` whose contents are undefined (no zero fill: the big per-step gradient
// buffers skip a pass over memory), for results the caller overwrites entirely.
Tensor uninit_f32(const Shape& shape);

}  // namespace qforge::train
