#include "train/grad_util.h"

#include <cstdlib>
#include <new>
#include <vector>

#include "runtime/kernels/sgemm.h"

namespace qforge::train {

void matmul_f32(int64_t M, int64_t N, int64_t K, MatView a, MatView b, float* c, bool accumulate,
                int threads) {
  if (M == 0 || N == 0) return;
  std::vector<float> acopy;
  if (a.rs != 1 && a.cs != 1) {  // SGEMM reads A with one unit stride: make it row-major
    acopy.resize(static_cast<size_t>(M * K));
    for (int64_t r = 0; r < M; ++r)
      for (int64_t k = 0; k < K; ++k) acopy[r * K + k] = a.p[r * a.rs + k * a.cs];
    a = {acopy.data(), K, 1};
  }
  if (K == 0) {
    if (!accumulate) std::fill(c, c + M * N, 0.f);
    return;
  }
  const auto& kern = runtime::sgemm_kernel();
  runtime::sgemm(kern, static_cast<size_t>(M), static_cast<size_t>(N), static_cast<size_t>(K),
                 runtime::SgemmA{a.p, static_cast<size_t>(a.rs), static_cast<size_t>(a.cs)}, b.p,
                 static_cast<size_t>(b.rs), static_cast<size_t>(b.cs), c, static_cast<size_t>(N),
                 accumulate, runtime::SgemmEpilogue{}, threads);
}

Tensor uninit_f32(const Shape& shape) {
  const size_t bytes = (static_cast<size_t>(shape_numel(shape)) * sizeof(float) + 63) / 64 * 64 + 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return Tensor::with_storage(DType::f32, shape, std::shared_ptr<std::byte>(static_cast<std::byte*>(p), std::free));
}

std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  const size_t r = out.size(), off = r - shape.size();
  std::vector<int64_t> s(r, 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[off + i] = shape[i] == 1 && out[off + i] != 1 ? 0 : stride;
    stride *= shape[i];
  }
  return s;
}

void reduce_broadcast_f32(const Shape& out, const float* src, const float* f,
                          const std::vector<int64_t>& fs, const Shape& shape, float* dst) {
  const int64_t n = shape_numel(out);
  const size_t r = out.size();
  const std::vector<int64_t> ds = broadcast_strides(shape, out);
  std::vector<int64_t> idx(r, 0);
  int64_t doff = 0, foff = 0;
  for (int64_t i = 0; i < n; ++i) {
    dst[doff] += f ? src[i] * f[foff] : src[i];
    for (size_t d = r; d-- > 0;) {  // odometer increment, keeping both offsets
      if (++idx[d] < out[d]) {
        doff += ds[d];
        if (f) foff += fs[d];
        break;
      }
      doff -= ds[d] * (out[d] - 1);
      if (f) foff -= fs[d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace qforge::train
