#include "runtime/kernels/reference/qconv_dw_nhwc_ref.h"

#include "runtime/kernels/reference/qgemm_ref.h"

namespace qforge::runtime {

namespace {

// acc for channel c at output position (od, oh, ow) of image x_n [D][H][W][C].
int32_t dw_acc(const ConvGeom& g, const uint8_t* x_n, int32_t x_zp, const int8_t* w, int64_t c, int64_t od,
               int64_t oh, int64_t ow) {
  const int64_t C = g.in_channels;
  const int8_t* wc = w + c * g.kernel_size();
  int32_t acc = 0;
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
    if (id < 0 || id >= g.in[0]) continue;
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
      if (ih < 0 || ih >= g.in[1]) continue;
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
        if (iw < 0 || iw >= g.in[2]) continue;
        const int32_t xv = x_n[((id * g.in[1] + ih) * g.in[2] + iw) * C + c];
        acc += (xv - x_zp) * wc[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
      }
    }
  }
  return acc;
}

}  // namespace

void qconv_dw_nhwc_u8s8_rows__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                                 const QgemmOutputStage& out, void* y, int64_t row0, int64_t row1) {
  const int64_t C = g.in_channels, OD = g.out[0], OH = g.out[1], OW = g.out[2];
  for (int64_t r = row0; r < row1; ++r) {
    const int64_t n = r / (OD * OH), od = (r / OH) % OD, oh = r % OH;
    const uint8_t* x_n = x + n * g.in_plane() * C;
    for (int64_t ow = 0; ow < OW; ++ow)
      for (int64_t c = 0; c < C; ++c)
        qgemm_store_ref(dw_acc(g, x_n, x_zp, w, c, od, oh, ow), static_cast<size_t>(c), out, y,
                        static_cast<size_t>((r * OW + ow) * C + c));
  }
}

void qconv_dw_nhwc_u8s8__ref(const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                             const QgemmOutputStage& out, void* y) {
  qconv_dw_nhwc_u8s8_rows__ref(g, x, x_zp, w, out, y, 0, g.batch * g.out[0] * g.out[1]);
}

}  // namespace qforge::runtime
