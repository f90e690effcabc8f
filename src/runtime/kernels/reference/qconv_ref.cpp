#include "runtime/kernels/reference/qconv_ref.h"

#include "runtime/kernels/reference/qgemm_ref.h"

namespace qforge::runtime {

namespace {

// acc for output channel m (global index) at output position (od, oh, ow) of image x_n.
int32_t qconv_acc(const ConvGeom& g, const uint8_t* x_n, int32_t x_zp, const int8_t* w, int64_t m, int64_t od,
                  int64_t oh, int64_t ow) {
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group, grp = m / mg;
  const int64_t kd_n = g.kernel[0], kh_n = g.kernel[1], kw_n = g.kernel[2];
  int32_t acc = 0;
  for (int64_t c = 0; c < cg; ++c) {
    const uint8_t* xc = x_n + (grp * cg + c) * g.in_plane();
    const int8_t* wc = w + (m * cg + c) * g.kernel_size();
    for (int64_t kd = 0; kd < kd_n; ++kd) {
      const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
      if (id < 0 || id >= g.in[0]) continue;
      for (int64_t kh = 0; kh < kh_n; ++kh) {
        const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
        if (ih < 0 || ih >= g.in[1]) continue;
        for (int64_t kw = 0; kw < kw_n; ++kw) {
          const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
          if (iw < 0 || iw >= g.in[2]) continue;
          const int32_t xv = xc[(id * g.in[1] + ih) * g.in[2] + iw];
          acc += (xv - x_zp) * wc[(kd * kh_n + kh) * kw_n + kw];
        }
      }
    }
  }
  return acc;
}

void qconv_channel(const ConvGeom& g, const uint8_t* x_n, int32_t x_zp, const int8_t* w,
                   const QgemmOutputStage& out, void* y, int64_t n, int64_t m) {
  int64_t i = (n * g.out_channels + m) * g.out_plane();
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow)
        qgemm_store_ref(qconv_acc(g, x_n, x_zp, w, m, od, oh, ow), static_cast<size_t>(m), out, y,
                        static_cast<size_t>(i++));
}

}  // namespace

void qconv_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                     const QgemmOutputStage& out, void* y) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m)
      qconv_channel(g, x + n * g.in_channels * g.in_plane(), x_zp, w, out, y, n, m);
}

void qconv_dw_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                        const QgemmOutputStage& out, void* y, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c) qconv_channel(g, x, x_zp, w, out, y, 0, c);
}

}  // namespace qforge::runtime
