#include "runtime/kernels/qconv_dw_nhwc.h"

#include <algorithm>

#include "core/error.h"
#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/kernels/reference/qconv_dw_nhwc_ref.h"

namespace qforge::runtime {

namespace {

// The table's ref entry: the spec on the row range, weights as given ([C][kH][kW]).
void qconv_dw_nhwc_rows__ref(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1) {
  qconv_dw_nhwc_u8s8_rows__ref(*a.g, a.x, a.x_zp, a.w->data.data(), *a.out, a.y, row0, row1);
}

constexpr QconvDwNhwcKernel kQconvDwNhwcKernels[] = {
    {"qconv_dw_nhwc_u8s8__ref", qconv_dw_nhwc_rows__ref, Isa::ref},
    {"qconv_dw_nhwc_u8s8__avx2", qconv_dw_nhwc_u8s8__avx2, Isa::avx2},
    {"qconv_dw_nhwc_u8s8__avx512", qconv_dw_nhwc_u8s8__avx512, Isa::avx512},
};

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

bool in_type_range(int32_t v, QgemmOut t) {
  return t == QgemmOut::u8 ? v >= 0 && v <= 255 : v >= -128 && v <= 127;
}

}  // namespace

std::span<const QconvDwNhwcKernel> qconv_dw_nhwc_kernels() { return kQconvDwNhwcKernels; }

const QconvDwNhwcKernel& qconv_dw_nhwc_kernel(Isa isa) { return kernel_for_isa(kQconvDwNhwcKernels, isa); }

bool qconv_dw_nhwc_applies(const ConvGeom& g, const QgemmOutputStage& out) {
  const bool depthwise = g.group == g.in_channels && g.group == g.out_channels;
  if (!depthwise || g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  if (out.type != QgemmOut::u8 && out.type != QgemmOut::s8) return false;
  for (int i = 1; i < 3; ++i)
    if (g.pad_begin[i] < 0 || g.pad_end[i] < 0 || g.stride[i] < 1 || g.dilation[i] < 1 || g.out[i] < 1) return false;
  return in_type_range(out.zero_point, out.type) && in_type_range(out.qmin, out.type) &&
         in_type_range(out.qmax, out.type) && out.qmin <= out.qmax &&
         static_cast<size_t>(g.kernel_size()) <= kQgemmMaxK;
}

QconvDwNhwcWeights pack_qconv_dw_nhwc(const QconvDwNhwcKernel& k, const ConvGeom& g, const int8_t* w) {
  QF_CHECK(g.group == g.in_channels && g.group == g.out_channels && g.kernel[0] == 1);
  const int64_t C = g.in_channels, KH = g.kernel[1], KW = g.kernel[2];
  QconvDwNhwcWeights p;
  p.isa = k.isa, p.channels = C, p.kh = KH, p.kw = KW;
  p.wsum.assign(static_cast<size_t>(C), 0);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < KH * KW; ++t) p.wsum[c] += w[c * KH * KW + t];
  const auto tap = [&](int64_t c, int64_t kh, int64_t kw) -> int8_t {
    return c < C && kh < KH ? w[(c * KH + kh) * KW + kw] : int8_t{0};
  };
  switch (k.isa) {
    case Isa::ref: p.data.assign(w, w + C * KH * KW); break;
    case Isa::avx2: {
      // [ceil(kH/2)][kW][ceil(C/8)][8][2] s16
      const int64_t G = (KH + 1) / 2, Cp = round_up(C, 8);
      p.data16.resize(static_cast<size_t>(G * KW * Cp * 2));
      int16_t* d = p.data16.data();
      for (int64_t gr = 0; gr < G; ++gr)
        for (int64_t kw = 0; kw < KW; ++kw)
          for (int64_t c = 0; c < Cp; ++c)
            for (int64_t i = 0; i < 2; ++i) *d++ = tap(c, gr * 2 + i, kw);
      break;
    }
    case Isa::avx512: {
      // [ceil(kH/4)][kW][ceil(C/16)][16][4] s8
      const int64_t G = (KH + 3) / 4, Cp = round_up(C, 16);
      p.data.resize(static_cast<size_t>(G * KW * Cp * 4));
      int8_t* d = p.data.data();
      for (int64_t gr = 0; gr < G; ++gr)
        for (int64_t kw = 0; kw < KW; ++kw)
          for (int64_t c = 0; c < Cp; ++c)
            for (int64_t i = 0; i < 4; ++i) *d++ = tap(c, gr * 4 + i, kw);
      break;
    }
  }
  return p;
}

void qconv_dw_nhwc_u8s8(const QconvDwNhwcKernel& k, const ConvGeom& g, const uint8_t* x, uint8_t x_zp,
                        const QconvDwNhwcWeights& w, const QgemmOutputStage& out, void* y, int threads) {
  QF_CHECK(w.isa == k.isa && w.channels == g.in_channels && w.kh == g.kernel[1] && w.kw == g.kernel[2]);
  QF_CHECK(qconv_dw_nhwc_applies(g, out));
  // Per-channel seed and scale, zero-padded to a multiple of 64 channels (the kernels' widest step).
  static thread_local std::vector<int32_t> seed;
  static thread_local std::vector<float> scale;
  const int64_t C = g.in_channels, Cp = round_up(C, 64);
  seed.assign(static_cast<size_t>(Cp), 0);
  scale.assign(static_cast<size_t>(Cp), 0.f);
  for (int64_t c = 0; c < C; ++c) {
    const uint32_t bias = out.bias ? static_cast<uint32_t>(out.bias[c]) : 0u;
    seed[c] = static_cast<int32_t>(bias - static_cast<uint32_t>(x_zp) * static_cast<uint32_t>(w.wsum[c]));
    scale[c] = out.scale[c];
  }
  QconvDwNhwcArgs a;
  a.g = &g, a.x = x, a.x_zp = x_zp, a.w = &w, a.seed = seed.data(), a.scale = scale.data(), a.out = &out, a.y = y;
  const int64_t rows = g.batch * g.out[1];
  const int64_t tasks = std::clamp<int64_t>(threads, 1, std::max<int64_t>(rows, 1));
  parallel_tasks(tasks, threads, [&](int64_t t) { k.fn(a, rows * t / tasks, rows * (t + 1) / tasks); });
}

}  // namespace qforge::runtime
