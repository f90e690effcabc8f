// Conv backward, the spec: for every image n, output channel m (group grp), output position o,
// input channel c of the group and kernel tap k whose input position i lies inside x:
//   dX[n][grp·Cg + c][i] += dY[n][m][o] · W[m][c][k]
//   dW[m][c][k]          += dY[n][m][o] · X[n][grp·Cg + c][i]
//   dB[m]                += dY[n][m][o]
// with i = o·stride - pad_begin + k·dilation per spatial axis. Double accumulation.
#include <vector>

#include "train/kernels/conv_grad.h"

namespace qforge::train {

void conv_grad_f32__ref(const runtime::ConvGeom& g, const float* x, const float* w, const float* dy,
                        const ConvGradOut& out, int /*threads*/) {
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t ksz = g.kernel_size(), ip = g.in_plane(), op = g.out_plane();
  std::vector<double> dx(out.dx ? static_cast<size_t>(g.batch * g.in_channels * ip) : 0);
  std::vector<double> dw(out.dw ? static_cast<size_t>(g.out_channels * cg * ksz) : 0);
  std::vector<double> db(out.db ? static_cast<size_t>(g.out_channels) : 0);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m) {
      const int64_t grp = m / mg;
      const float* dyp = dy + (n * g.out_channels + m) * op;
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const double d = dyp[(od * g.out[1] + oh) * g.out[2] + ow];
            if (out.db) db[m] += d;
            for (int64_t c = 0; c < cg; ++c) {
              const int64_t xc = (n * g.in_channels + grp * cg + c) * ip, wc = (m * cg + c) * ksz;
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
                if (id < 0 || id >= g.in[0]) continue;
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
                  if (ih < 0 || ih >= g.in[1]) continue;
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                    if (iw < 0 || iw >= g.in[2]) continue;
                    const int64_t xi = xc + (id * g.in[1] + ih) * g.in[2] + iw;
                    const int64_t wi = wc + (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
                    if (out.dx) dx[xi] += d * w[wi];
                    if (out.dw) dw[wi] += d * x[xi];
                  }
                }
              }
            }
          }
    }
  for (size_t i = 0; i < dx.size(); ++i) out.dx[i] = static_cast<float>(dx[i]);
  for (size_t i = 0; i < dw.size(); ++i) out.dw[i] = static_cast<float>(dw[i]);
  for (size_t i = 0; i < db.size(); ++i) out.db[i] = static_cast<float>(db[i]);
}

}  // namespace qforge::train
