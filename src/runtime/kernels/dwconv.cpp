#include "runtime/kernels/dwconv.h"

#include <algorithm>
#include <cstring>

#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {
constexpr DwConvKernel kDwConvKernels[] = {
    {"dwconv2d_f32__scalar", dwconv2d_f32__scalar, Isa::ref},
    {"dwconv2d_f32__avx2", dwconv2d_f32__avx2, Isa::avx2},
    {"dwconv2d_f32__avx512", dwconv2d_f32__avx512, Isa::avx512},
};
constexpr size_t kSlack = 256;
}  // namespace

std::span<const DwConvKernel> dwconv_kernels() { return kDwConvKernels; }

const DwConvKernel& dwconv_kernel(Isa isa) {
  const DwConvKernel* best = &kDwConvKernels[0];
  for (const auto& k : kDwConvKernels)
    if (k.isa <= isa && k.isa >= best->isa) best = &k;
  return *best;
}

void dwconv2d_f32__scalar(const DwConvPlane& p, const float* xpad, const float* w, float bias,
                          const FusedActivation& act, float* y) {
  for (size_t oh = 0; oh < p.oh; ++oh)
    for (size_t ow = 0; ow < p.ow; ++ow) {
      float acc = bias;
      for (size_t kh = 0; kh < p.kh; ++kh)
        for (size_t kw = 0; kw < p.kw; ++kw)
          acc += w[kh * p.kw + kw] * xpad[(oh * p.sh + kh * p.dh) * p.xs + ow * p.sw + kw * p.dw];
      y[oh * p.ow + ow] = act.apply(acc);
    }
}

bool dwconv_applies(const ConvGeom& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1 && g.group == g.in_channels &&
         g.group > 1 && g.out_channels % g.group == 0;
}

void dwconv2d_f32(const DwConvKernel& k, const ConvGeom& g, const float* x, const float* w,
                  const float* b, const FusedActivation& act, float* y, int threads) {
  const size_t H = static_cast<size_t>(g.in[1]), W = static_cast<size_t>(g.in[2]);
  const size_t pt = static_cast<size_t>(g.pad_begin[1]), pl = static_cast<size_t>(g.pad_begin[2]);
  DwConvPlane p;
  p.oh = static_cast<size_t>(g.out[1]), p.ow = static_cast<size_t>(g.out[2]);
  p.kh = static_cast<size_t>(g.kernel[1]), p.kw = static_cast<size_t>(g.kernel[2]);
  p.sh = static_cast<size_t>(g.stride[1]), p.sw = static_cast<size_t>(g.stride[2]);
  p.dh = static_cast<size_t>(g.dilation[1]), p.dw = static_cast<size_t>(g.dilation[2]);
  // The padded plane covers every tap: rows [0, rows) and columns [0, cols) in padded coordinates.
  const size_t rows = std::max(pt + H, (p.oh - 1) * p.sh + (p.kh - 1) * p.dh + 1);
  const size_t cols = std::max(pl + W, (p.ow - 1) * p.sw + (p.kw - 1) * p.dw + 1);
  p.xs = (cols + 15) / 16 * 16;
  const size_t plane_floats = rows * p.xs + kSlack;
  const int64_t mult = g.out_channels / g.group;
  const int64_t planes = g.batch * g.out_channels;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), ksz = g.kernel_size();
  const int nt = static_cast<int>(std::min<int64_t>(threads, planes));
  const bool parallel = nt > 1 && planes * out_plane * ksz >= 32768;
#pragma omp parallel num_threads(nt) if (parallel)
  {
    float* xp = sgemm_scratch(plane_floats, 2);
    std::memset(xp, 0, plane_floats * sizeof(float));
    int64_t loaded = -1;  // input plane currently in xp (channel multiplier > 1 reuses it)
#pragma omp for schedule(static)
    for (int64_t pm = 0; pm < planes; ++pm) {
      const int64_t n = pm / g.out_channels, m = pm % g.out_channels, c = m / mult;
      const int64_t src = n * g.in_channels + c;
      if (src != loaded) {
        const float* xs = x + src * in_plane;
        for (size_t h = 0; h < H; ++h) std::memcpy(xp + (pt + h) * p.xs + pl, xs + h * W, W * sizeof(float));
        loaded = src;
      }
      k.fn(p, xp, w + m * ksz, b ? b[m] : 0.f, act, y + pm * out_plane);
    }
  }
}

}  // namespace qforge::runtime
