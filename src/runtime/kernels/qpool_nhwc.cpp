#include "runtime/kernels/qpool_nhwc.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "quant/requantize.h"

namespace qforge::runtime {

namespace {

QPoolTap tap_range(const PoolGeom& g, int a, int64_t o) {
  QPoolTap t{g.kernel[a], 0, 0};
  for (int64_t k = 0; k < g.kernel[a]; ++k) {
    const int64_t i = o * g.stride[a] - g.pad_begin[a] + k * g.dilation[a];
    t.padded += i < g.in[a] + g.pad_end[a];
    if (i >= 0 && i < g.in[a]) t.lo = std::min(t.lo, k), t.hi = k + 1;
  }
  if (t.hi == 0) t.lo = 0;
  return t;
}

// The 2-D geometry read into locals (the byte stores below may alias anything a pointer reaches).
struct Geom2d {
  int64_t C, H, W, OH, OW, sh, sw, dh, dw, ph, pw;
};
Geom2d geom2d(const PoolGeom& g) {
  QF_CHECK(g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1);
  return {g.channels, g.in[1], g.in[2], g.out[1], g.out[2], g.stride[1], g.stride[2],
          g.dilation[1], g.dilation[2], g.pad_begin[1], g.pad_begin[2]};
}

}  // namespace

QPoolTaps qpool_taps(const PoolGeom& g) {
  QPoolTaps r;
  for (int a = 0; a < 3; ++a)
    for (int64_t o = 0; o < g.out[a]; ++o) r.axis[a].push_back(tap_range(g, a, o));
  return r;
}

// Every window is the whole 2×2 block (no tap outside x, dilation 1): the common downsampling pool,
// one pass over the four input pixels per output, no running maximum in memory.
bool is_full_2x2(const PoolGeom& g, const QPoolTaps& tr) {
  if (g.kernel[1] != 2 || g.kernel[2] != 2 || g.dilation[1] != 1 || g.dilation[2] != 1) return false;
  for (int a = 1; a < 3; ++a)
    for (const QPoolTap& t : tr.axis[a])
      if (t.lo != 0 || t.hi != 2) return false;
  return true;
}

template <class T>
void qmaxpool_nhwc_2x2(const Geom2d& d, int64_t batch, const T* x, T* y, int threads) {
  const int64_t rows = batch * d.OH;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && rows > 1 && rows * d.OW * d.C > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / d.OH, oh = r % d.OH, C = d.C, WC = d.W * C;
    for (int64_t ow = 0; ow < d.OW; ++ow) {
      const T* __restrict p = x + ((n * d.H + oh * d.sh - d.ph) * d.W + ow * d.sw - d.pw) * C;
      const T* __restrict q = p + WC;
      T* __restrict yp = y + (r * d.OW + ow) * C;
      for (int64_t c = 0; c < C; ++c) yp[c] = std::max(std::max(p[c], p[C + c]), std::max(q[c], q[C + c]));
    }
  }
}

template <class T>
void qmaxpool_nhwc(const PoolGeom& g, const T* x, T* y, int threads) {
  const Geom2d d = geom2d(g);
  const QPoolTaps tr = qpool_taps(g);
  if (is_full_2x2(g, tr)) return qmaxpool_nhwc_2x2(d, g.batch, x, y, threads);
  const int64_t rows = g.batch * d.OH;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && rows > 1 && rows * d.OW * d.C > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / d.OH, oh = r % d.OH, C = d.C;
    const QPoolTap th = tr.axis[1][oh];
    for (int64_t ow = 0; ow < d.OW; ++ow) {
      const QPoolTap tw = tr.axis[2][ow];
      T* __restrict yp = y + (r * d.OW + ow) * C;
      for (int64_t c = 0; c < C; ++c) yp[c] = std::numeric_limits<T>::lowest();
      for (int64_t kh = th.lo; kh < th.hi; ++kh) {
        const int64_t ih = oh * d.sh - d.ph + kh * d.dh;
        for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
          const int64_t iw = ow * d.sw - d.pw + kw * d.dw;
          const T* __restrict xp = x + ((n * d.H + ih) * d.W + iw) * C;
          for (int64_t c = 0; c < C; ++c) yp[c] = std::max(yp[c], xp[c]);
        }
      }
    }
  }
}

template <class T>
void qavgpool_nhwc(const PoolGeom& g, const QAvgPoolOut& o, const T* x, int32_t x_zp, T* y, int threads) {
  const Geom2d d = geom2d(g);
  const QPoolTaps tr = qpool_taps(g);
  const int64_t rows = g.batch * d.OH;
#pragma omp parallel num_threads(threads) if (threads > 1 && rows > 1 && rows * d.OW * d.C > 65536)
  {
    std::vector<int32_t> acc_buf(static_cast<size_t>(d.C));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = r / d.OH, oh = r % d.OH, C = d.C;
      const int32_t zp = o.zero_point, qmin = o.qmin, qmax = o.qmax;
      const QPoolTap th = tr.axis[1][oh];
      int32_t* __restrict acc = acc_buf.data();
      for (int64_t ow = 0; ow < d.OW; ++ow) {
        const QPoolTap tw = tr.axis[2][ow];
        for (int64_t c = 0; c < C; ++c) acc[c] = 0;
        for (int64_t kh = th.lo; kh < th.hi; ++kh) {
          const int64_t ih = oh * d.sh - d.ph + kh * d.dh;
          for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
            const int64_t iw = ow * d.sw - d.pw + kw * d.dw;
            const T* __restrict xp = x + ((n * d.H + ih) * d.W + iw) * C;
            for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<int32_t>(xp[c]);
          }
        }
        // Σ (x − x_zp) over the valid taps, as the NCHW op sums it (exact in int32 either way).
        const int64_t valid = (th.hi - th.lo) * (tw.hi - tw.lo);
        const int64_t divisor = o.include_pad ? th.padded * tw.padded : valid;
        const float scale = o.scale_of[divisor];
        const int32_t sub = static_cast<int32_t>(valid) * x_zp;
        T* __restrict yp = y + (r * d.OW + ow) * C;
        for (int64_t c = 0; c < C; ++c) yp[c] = static_cast<T>(quant::requantize_f32(acc[c] - sub, scale, zp, qmin, qmax));
      }
    }
  }
}

template <class T>
void qavgpool_global_nhwc(int64_t batch, int64_t plane, int64_t channels, const QAvgPoolOut& o, const T* x,
                          int32_t x_zp, T* y, int threads) {
#pragma omp parallel num_threads(threads) if (threads > 1 && batch > 1 && batch * plane * channels > 65536)
  {
    std::vector<int32_t> acc_buf(static_cast<size_t>(channels));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t C = channels, P = plane;
      const int32_t zp = o.zero_point, qmin = o.qmin, qmax = o.qmax;
      const float scale = o.scale_of[0];
      int32_t* __restrict acc = acc_buf.data();
      for (int64_t c = 0; c < C; ++c) acc[c] = 0;
      for (int64_t p = 0; p < P; ++p) {
        const T* __restrict xp = x + (n * P + p) * C;
        for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<int32_t>(xp[c]);
      }
      const int32_t sub = static_cast<int32_t>(P) * x_zp;
      T* __restrict yp = y + n * C;
      for (int64_t c = 0; c < C; ++c) yp[c] = static_cast<T>(quant::requantize_f32(acc[c] - sub, scale, zp, qmin, qmax));
    }
  }
}

template void qmaxpool_nhwc<uint8_t>(const PoolGeom&, const uint8_t*, uint8_t*, int);
template void qmaxpool_nhwc<int8_t>(const PoolGeom&, const int8_t*, int8_t*, int);
template void qavgpool_nhwc<uint8_t>(const PoolGeom&, const QAvgPoolOut&, const uint8_t*, int32_t, uint8_t*, int);
template void qavgpool_nhwc<int8_t>(const PoolGeom&, const QAvgPoolOut&, const int8_t*, int32_t, int8_t*, int);
template void qavgpool_global_nhwc<uint8_t>(int64_t, int64_t, int64_t, const QAvgPoolOut&, const uint8_t*, int32_t,
                                            uint8_t*, int);
template void qavgpool_global_nhwc<int8_t>(int64_t, int64_t, int64_t, const QAvgPoolOut&, const int8_t*, int32_t,
                                           int8_t*, int);

}  // namespace qforge::runtime
