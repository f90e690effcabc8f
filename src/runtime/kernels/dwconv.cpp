#include "runtime/kernels/dwconv.h"

#include <algorithm>

namespace qforge::runtime {

namespace {
constexpr DwConvKernel kDwConvKernels[] = {
    {"dwconv2d_f32__scalar", dwconv2d_f32__scalar, Isa::ref},
    {"dwconv2d_f32__avx2", dwconv2d_f32__avx2, Isa::avx2},
    {"dwconv2d_f32__avx512", dwconv2d_f32__avx512, Isa::avx512},
};
}  // namespace

std::span<const DwConvKernel> dwconv_kernels() { return kDwConvKernels; }

const DwConvKernel& dwconv_kernel(Isa isa) { return kernel_for_isa(kDwConvKernels, isa); }

void dwconv2d_f32__scalar(const DwConvPlane& p, const float* x, const float* w, float bias,
                          const FusedActivation& act, float* y) {
  for (int64_t oh = 0; oh < p.oh; ++oh)
    for (int64_t ow = 0; ow < p.ow; ++ow) {
      float acc = bias;
      for (int64_t kh = 0; kh < p.kh; ++kh) {
        const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
        if (ih < 0 || ih >= p.h) continue;
        for (int64_t kw = 0; kw < p.kw; ++kw) {
          const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
          if (iw >= 0 && iw < p.w) acc += w[kh * p.kw + kw] * x[ih * p.w + iw];
        }
      }
      y[oh * p.ow + ow] = act.apply(acc);
    }
}

bool dwconv_applies(const ConvGeom& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1 && g.group == g.in_channels &&
         g.group > 1 && g.out_channels % g.group == 0;
}

void dwconv2d_f32(const DwConvKernel& k, const ConvGeom& g, const float* x, const float* w,
                  const float* b, const FusedActivation& act, float* y, int threads) {
  DwConvPlane p;
  p.h = g.in[1], p.w = g.in[2], p.oh = g.out[1], p.ow = g.out[2];
  p.kh = g.kernel[1], p.kw = g.kernel[2], p.sh = g.stride[1], p.sw = g.stride[2];
  p.dh = g.dilation[1], p.dw = g.dilation[2], p.pt = g.pad_begin[1], p.pl = g.pad_begin[2];
  const int64_t mult = g.out_channels / g.group;
  const int64_t planes = g.batch * g.out_channels;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), ksz = g.kernel_size();
  const int nt = static_cast<int>(std::min<int64_t>(threads, planes));
  const bool parallel = nt > 1 && planes * out_plane * ksz >= 65536;
#pragma omp parallel for num_threads(nt) schedule(static) if (parallel)
  for (int64_t pm = 0; pm < planes; ++pm) {
    const int64_t n = pm / g.out_channels, m = pm % g.out_channels;
    k.fn(p, x + (n * g.in_channels + m / mult) * in_plane, w + m * ksz, b ? b[m] : 0.f, act, y + pm * out_plane);
  }
}

}  // namespace qforge::runtime
