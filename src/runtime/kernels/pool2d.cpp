#include "runtime/kernels/pool2d.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {
constexpr Pool2dKernel kPool2dKernels[] = {
    {"pool2d_f32__scalar", pool2d_f32__scalar, Isa::ref},
    {"pool2d_f32__avx2", pool2d_f32__avx2, Isa::avx2},
    {"pool2d_f32__avx512", pool2d_f32__avx512, Isa::avx512},
};
constexpr size_t kSlack = 256;

Pool2dPlane plane_of(const PoolGeom& g) {
  Pool2dPlane p;
  p.oh = static_cast<size_t>(g.out[1]), p.ow = static_cast<size_t>(g.out[2]);
  p.kh = static_cast<size_t>(g.kernel[1]), p.kw = static_cast<size_t>(g.kernel[2]);
  p.sh = static_cast<size_t>(g.stride[1]), p.sw = static_cast<size_t>(g.stride[2]);
  p.dh = static_cast<size_t>(g.dilation[1]), p.dw = static_cast<size_t>(g.dilation[2]);
  return p;
}

// Floats a plane kernel may read past the last element its windows cover (partial vectors of
// 16 outputs at stride <= 2 read up to 15·2 columns past the row; larger strides run scalar).
constexpr int64_t kOverread = 64;

// Runs fn(plane, xs, plane index) for every (n, c) plane, in parallel when the work is large enough;
// xs is the plane as the kernel reads it. Without begin padding and with every window inside x, that
// is x itself (row stride W) for every plane whose over-read stays inside x; otherwise the plane is
// copied into the thread's padded buffer (whose border keeps `fill`).
template <class Fn>
__attribute__((no_builtin("memcpy"))) void for_padded_planes(const PoolGeom& g, const float* x, float fill,
                                                            int threads, Fn&& fn) {
  Pool2dPlane p = plane_of(g);
  const size_t H = static_cast<size_t>(g.in[1]), W = static_cast<size_t>(g.in[2]);
  const size_t pt = static_cast<size_t>(g.pad_begin[1]), pl = static_cast<size_t>(g.pad_begin[2]);
  const size_t need_rows = (p.oh - 1) * p.sh + (p.kh - 1) * p.dh + 1;
  const size_t need_cols = (p.ow - 1) * p.sw + (p.kw - 1) * p.dw + 1;
  const size_t rows = std::max(pt + H, need_rows), cols = std::max(pl + W, need_cols);
  const int64_t planes = g.batch * g.channels, ip = g.in_plane();
  // Planes [0, direct) are read in place.
  const bool in_place = pt == 0 && pl == 0 && need_rows <= H && need_cols <= W;
  const int64_t direct = in_place ? std::max<int64_t>(0, (planes * ip - kOverread) / ip) : 0;
  Pool2dPlane pd = p;
  pd.xs = W;
  p.xs = (cols + 15) / 16 * 16;
  const size_t floats = rows * p.xs + kSlack;
  const int nt = static_cast<int>(std::min<int64_t>(threads, planes));
  const bool parallel = nt > 1 && planes * g.out_plane() * g.kernel[1] * g.kernel[2] >= 32768;
#pragma omp parallel num_threads(nt) if (parallel)
  {
    float* xp = nullptr;
#pragma omp for schedule(static)
    for (int64_t pi = 0; pi < planes; ++pi) {
      const float* xi = x + pi * ip;
      if (pi < direct) {
        fn(pd, xi, pi);
        continue;
      }
      if (!xp) {
        xp = sgemm_scratch(floats, 2);
        std::fill(xp, xp + floats, fill);
      }
      for (size_t h = 0; h < H; ++h)
        for (size_t w = 0; w < W; ++w) xp[(pt + h) * p.xs + pl + w] = xi[h * W + w];
      fn(p, xp, pi);
    }
  }
}

// Number of window taps of each output index on one axis: in-bounds, or inside the padded extent.
std::vector<float> axis_counts(int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t in, int64_t pe,
                               bool include_pad) {
  std::vector<float> c(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    int64_t n = 0;
    for (int64_t t = 0; t < k; ++t) {
      const int64_t i = o * s - pb + t * d;
      n += include_pad ? (i < in + pe) : (i >= 0 && i < in);
    }
    c[static_cast<size_t>(o)] = static_cast<float>(n);
  }
  return c;
}

}  // namespace

std::span<const Pool2dKernel> pool2d_kernels() { return kPool2dKernels; }

const Pool2dKernel& pool2d_kernel(Isa isa) { return kernel_for_isa(kPool2dKernels, isa); }

void pool2d_f32__scalar(const Pool2dPlane& p, const float* xpad, bool is_max, float* y) {
  for (size_t oh = 0; oh < p.oh; ++oh)
    for (size_t ow = 0; ow < p.ow; ++ow) {
      float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.f;
      for (size_t kh = 0; kh < p.kh; ++kh)
        for (size_t kw = 0; kw < p.kw; ++kw) {
          const float v = xpad[(oh * p.sh + kh * p.dh) * p.xs + ow * p.sw + kw * p.dw];
          acc = is_max ? (v > acc ? v : acc) : acc + v;
        }
      y[oh * p.ow + ow] = acc;
    }
}

bool pool2d_applies(const PoolGeom& g) {
  if (g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  // Every window must hold an input element (an all-padding window is the reference's business).
  for (int ax = 1; ax < 3; ++ax) {
    const std::vector<float> n = axis_counts(g.out[ax], g.kernel[ax], g.stride[ax], g.dilation[ax], g.pad_begin[ax],
                                             g.in[ax], g.pad_end[ax], false);
    if (std::find(n.begin(), n.end(), 0.f) != n.end()) return false;
  }
  return true;
}

void maxpool2d_f32(const Pool2dKernel& k, const PoolGeom& g, const float* x, float* y, int threads) {
  const int64_t op = g.out_plane();
  for_padded_planes(g, x, -std::numeric_limits<float>::infinity(), threads,
                    [&](const Pool2dPlane& p, const float* xs, int64_t pi) { k.fn(p, xs, true, y + pi * op); });
}

void avgpool2d_f32(const Pool2dKernel& k, const PoolGeom& g, bool count_include_pad, const float* x, float* y,
                   int threads) {
  const std::vector<float> rows = axis_counts(g.out[1], g.kernel[1], g.stride[1], g.dilation[1], g.pad_begin[1],
                                              g.in[1], g.pad_end[1], count_include_pad);
  const std::vector<float> cols = axis_counts(g.out[2], g.kernel[2], g.stride[2], g.dilation[2], g.pad_begin[2],
                                              g.in[2], g.pad_end[2], count_include_pad);
  const int64_t op = g.out_plane();
  for_padded_planes(g, x, 0.f, threads, [&](const Pool2dPlane& p, const float* xs, int64_t pi) {
    float* yp = y + pi * op;
    k.fn(p, xs, false, yp);
    for (size_t oh = 0; oh < p.oh; ++oh)
      for (size_t ow = 0; ow < p.ow; ++ow) yp[oh * p.ow + ow] /= rows[oh] * cols[ow];
  });
}

}  // namespace qforge::runtime
