#include "runtime/kernels/reference/conv_ref.h"

#include <cstddef>
#include <vector>

namespace qforge::runtime {

void conv_f32__ref(const ConvGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t ksz = g.kernel_size();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m) {
      const int64_t grp = m / mg;
      float* yp = y + (n * g.out_channels + m) * g.out_plane();
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            double acc = b ? b[m] : 0.0;
            for (int64_t c = 0; c < cg; ++c) {
              const float* xp = x + (n * g.in_channels + grp * cg + c) * g.in_plane();
              const float* wp = w + (m * cg + c) * ksz;
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
                if (id < 0 || id >= g.in[0]) continue;
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
                  if (ih < 0 || ih >= g.in[1]) continue;
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                    if (iw < 0 || iw >= g.in[2]) continue;
                    acc += static_cast<double>(xp[(id * g.in[1] + ih) * g.in[2] + iw]) *
                           wp[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
                  }
                }
              }
            }
            yp[(od * g.out[1] + oh) * g.out[2] + ow] = static_cast<float>(acc);
          }
    }
}

void conv_transpose_f32__ref(const ConvGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t ksz = g.kernel_size(), oplane = g.out_plane();
  std::vector<double> acc(static_cast<std::size_t>(g.batch * g.out_channels * oplane));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m)
      for (int64_t o = 0; o < oplane; ++o) acc[(n * g.out_channels + m) * oplane + o] = b ? b[m] : 0.0;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.in_channels; ++c) {
      const int64_t grp = c / cg;
      const float* xp = x + (n * g.in_channels + c) * g.in_plane();
      for (int64_t ml = 0; ml < mg; ++ml) {
        const int64_t m = grp * mg + ml;
        const float* wp = w + (c * mg + ml) * ksz;
        double* yp = acc.data() + (n * g.out_channels + m) * oplane;
        for (int64_t id = 0; id < g.in[0]; ++id)
          for (int64_t ih = 0; ih < g.in[1]; ++ih)
            for (int64_t iw = 0; iw < g.in[2]; ++iw) {
              const double xv = xp[(id * g.in[1] + ih) * g.in[2] + iw];
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const int64_t od = id * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
                if (od < 0 || od >= g.out[0]) continue;
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  const int64_t oh = ih * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
                  if (oh < 0 || oh >= g.out[1]) continue;
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t ow = iw * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                    if (ow < 0 || ow >= g.out[2]) continue;
                    yp[(od * g.out[1] + oh) * g.out[2] + ow] +=
                        xv * wp[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
                  }
                }
              }
            }
      }
    }
  for (std::size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<float>(acc[i]);
}

}  // namespace qforge::runtime
