// Conv backward as matrix products on the runtime's SGEMM (conv_grad.h). Per image n and group g:
//   dWᵀ_g[K × Mg] += cols[K × P] · dY_gᵀ[P × Mg]      (cols is SGEMM's A, read in place)
//   dcols[K × P]   = W_gᵀ[K × Mg] · dY_g[Mg × P]       (Wᵀ is A read through strides)
//   dX_g           = col2im(dcols)
// cols is x_g itself for 1×1, stride-1, unpadded kernels. dX of a stride-1 Conv is itself a
// stride-1 Conv, run on the runtime's forward kernels (dx_by_conv below), so only strided Convs use
// the dcols product and col2im. Images are split into `threads` contiguous chunks; chunk t
// accumulates its dWᵀ in its own partial buffer, and the partials are summed in chunk order.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "runtime/kernels/conv_direct.h"
#include "runtime/kernels/conv_gemm.h"
#include "train/kernels/conv_grad.h"

namespace qforge::train {

namespace {

using runtime::ConvGeom;

// A per-thread buffer of at least `floats`, one per slot; contents are undefined.
float* grad_scratch(size_t floats, int slot) {
  struct Slot {
    std::shared_ptr<std::byte> buf;
    size_t cap = 0;
  };
  thread_local Slot slots[2];
  Slot& s = slots[slot];
  if (s.cap < floats) {
    s.cap = std::max(floats, s.cap + s.cap / 2);
    s.buf = alloc_aligned(s.cap * sizeof(float) + 64);
  }
  return reinterpret_cast<float*>(s.buf.get());
}

// Output columns [lo, hi) of one output row whose tap at kernel column kw lies inside x, and the
// input column offset: iw = ow·stride + off.
struct ColRange {
  int64_t lo, hi, off;
};
ColRange valid_cols(const ConvGeom& g, int64_t kw) {
  const int64_t W = g.in[2], sw = g.stride[2], off = kw * g.dilation[2] - g.pad_begin[2];
  const int64_t lo = std::min(g.out[2], off >= 0 ? 0 : (-off + sw - 1) / sw);
  const int64_t hi = std::clamp<int64_t>(W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1, lo, g.out[2]);
  return {lo, hi, off};
}

// Calls row(output row offset in cols, input row offset in x_g or -1, ColRange) for every
// (kernel row k of cols, output row (od, oh)).
template <class Fn>
void for_rows(const ConvGeom& g, int64_t cg, Fn&& row) {
  const int64_t OH = g.out[1], OW = g.out[2], P = g.out_plane();
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t k = ((c * g.kernel[0] + kd) * g.kernel[1] + kh) * g.kernel[2] + kw;
          const ColRange cr = valid_cols(g, kw);
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
              row(k * P + (od * OH + oh) * OW, inside ? ((c * g.in[0] + id) * g.in[1] + ih) * g.in[2] : -1, cr);
            }
          }
        }
}

// cols[k][p] = x_g tap (0 outside x).
void im2col(const ConvGeom& g, int64_t cg, const float* xg, float* cols) {
  const int64_t OW = g.out[2], sw = g.stride[2];
  for_rows(g, cg, [&](int64_t dst, int64_t src, const ColRange& cr) {
    float* d = cols + dst;
    if (src < 0) {
      std::fill(d, d + OW, 0.f);
      return;
    }
    const float* s = xg + src + cr.off;
    std::fill(d, d + cr.lo, 0.f);
    if (sw == 1) std::memcpy(d + cr.lo, s + cr.lo, static_cast<size_t>(cr.hi - cr.lo) * sizeof(float));
    else
      for (int64_t ow = cr.lo; ow < cr.hi; ++ow) d[ow] = s[ow * sw];
    std::fill(d + cr.hi, d + OW, 0.f);
  });
}

// dx_g[tap] += dcols[k][p] (dx_g zero-filled by the caller).
void col2im(const ConvGeom& g, int64_t cg, const float* dcols, float* dxg) {
  const int64_t sw = g.stride[2];
  for_rows(g, cg, [&](int64_t srcrow, int64_t dst, const ColRange& cr) {
    if (dst < 0) return;
    const float* s = dcols + srcrow;
    float* d = dxg + dst + cr.off;
    if (sw == 1) {
#pragma omp simd
      for (int64_t ow = cr.lo; ow < cr.hi; ++ow) d[ow] += s[ow];
    } else {
      for (int64_t ow = cr.lo; ow < cr.hi; ++ow) d[ow * sw] += s[ow];
    }
  });
}

bool is_pointwise(const ConvGeom& g) {
  for (int i = 0; i < 3; ++i)
    if (g.kernel[i] != 1 || g.stride[i] != 1 || g.pad_begin[i] != 0 || g.pad_end[i] != 0 || g.in[i] != g.out[i])
      return false;
  return true;
}

// dX of a stride-1 Conv is the Conv of dY with the transposed, flipped weights
//   W'[g·Cg + c][m][kh][kw] = W[g·Mg + m][c][kH-1-kh][kW-1-kw]    (per group g; kd likewise)
// stride 1, the same dilation, pads dil·(k-1) - pad on each side. Fills t with that geometry when
// it is one the runtime's 2-D kernels take (the pads are ≥ 0).
bool dx_as_conv(const ConvGeom& g, ConvGeom& t) {
  if (g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  t = g;
  t.in_channels = g.out_channels, t.out_channels = g.in_channels;
  for (int i = 0; i < 3; ++i) {
    const int64_t span = g.dilation[i] * (g.kernel[i] - 1);
    t.in[i] = g.out[i], t.out[i] = g.in[i];
    t.pad_begin[i] = span - g.pad_begin[i], t.pad_end[i] = span - g.pad_end[i];
    if (g.stride[i] != 1 || t.pad_begin[i] < 0 || t.pad_end[i] < 0 ||
        t.in[i] + t.pad_begin[i] + t.pad_end[i] - span != t.out[i])
      return false;
  }
  return true;
}

void dx_by_conv(const runtime::SgemmKernel& kern, const ConvGeom& t, const float* w, const float* dy, float* dx,
                int threads) {
  const int64_t G = t.group, Cg = t.out_channels / G, Mg = t.in_channels / G, ks = t.kernel_size();
  std::vector<float> wt(static_cast<size_t>(t.out_channels * Mg * ks));
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t m = 0; m < Mg; ++m)
      for (int64_t c = 0; c < Cg; ++c) {
        const float* src = w + ((gi * Mg + m) * Cg + c) * ks;
        float* dst = wt.data() + ((gi * Cg + c) * Mg + m) * ks;
        for (int64_t k = 0; k < ks; ++k) dst[k] = src[ks - 1 - k];
      }
  const runtime::FusedActivation none{};
  if (kern.isa == Isa::avx512 && runtime::conv_direct_applies(Isa::avx512, t))
    runtime::conv2d_f32__avx512_direct(t, dy, wt.data(), nullptr, none, dx, threads);
  else
    runtime::conv2d_f32__gemm(kern, t, dy, wt.data(), nullptr, none, dx, threads);
}

}  // namespace

void conv_grad_f32__gemm(const runtime::SgemmKernel& kern, const ConvGeom& g, const float* x, const float* w,
                         const float* dy, const ConvGradOut& out, int threads) {
  const int64_t G = g.group, Cg = g.in_channels / G, Mg = g.out_channels / G;
  const int64_t P = g.out_plane(), IP = g.in_plane(), K = Cg * g.kernel_size();
  const bool pointwise = is_pointwise(g);
  if (out.db) conv_grad_bias_f32(g, dy, out.db, threads);
  ConvGeom tg;
  float* const dx = out.dx && dx_as_conv(g, tg) ? nullptr : out.dx;  // null: dX is done by a Conv
  if (out.dx && !dx) dx_by_conv(kern, tg, w, dy, out.dx, threads);
  if (!dx && !out.dw) return;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, g.batch));
  const size_t part = static_cast<size_t>(G * K * Mg);
  std::vector<float> partials(out.dw ? part * static_cast<size_t>(chunks) : 0);
  const runtime::SgemmEpilogue ep{};
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
  for (int64_t t = 0; t < chunks; ++t) {
    float* cols = pointwise || !out.dw ? nullptr : grad_scratch(static_cast<size_t>(K * P), 0);
    float* dcols = dx ? grad_scratch(static_cast<size_t>(K * P), 1) : nullptr;
    float* dwt = out.dw ? partials.data() + part * static_cast<size_t>(t) : nullptr;
    for (int64_t n = g.batch * t / chunks; n < g.batch * (t + 1) / chunks; ++n) {
      if (dx) std::fill(dx + n * g.in_channels * IP, dx + (n + 1) * g.in_channels * IP, 0.f);
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* xg = x + (n * g.in_channels + gi * Cg) * IP;
        const float* dyg = dy + (n * g.out_channels + gi * Mg) * P;
        if (out.dw) {
          const float* a = xg;
          if (!pointwise) {
            im2col(g, Cg, xg, cols);
            a = cols;
          }
          runtime::sgemm(kern, static_cast<size_t>(K), static_cast<size_t>(Mg), static_cast<size_t>(P),
                         runtime::SgemmA{a, static_cast<size_t>(P), 1}, dyg, 1, static_cast<size_t>(P),
                         dwt + gi * K * Mg, static_cast<size_t>(Mg), true, ep, 1);
        }
        if (dx) {
          float* dxg = dx + (n * g.in_channels + gi * Cg) * IP;
          runtime::sgemm(kern, static_cast<size_t>(K), static_cast<size_t>(P), static_cast<size_t>(Mg),
                         runtime::SgemmA{w + gi * Mg * K, 1, static_cast<size_t>(K)}, dyg, static_cast<size_t>(P),
                         1, dcols, static_cast<size_t>(P), false, ep, 1);
          col2im(g, Cg, dcols, dxg);
        }
      }
    }
  }
  if (!out.dw) return;
  // dW[g·Mg + m][k] = Σ_t dWᵀ_t[g][k][m], chunks in order.
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t m = 0; m < Mg; ++m) {
      float* d = out.dw + (gi * Mg + m) * K;
      for (int64_t k = 0; k < K; ++k) {
        float s = 0.f;
        for (int64_t t = 0; t < chunks; ++t) s += partials[part * static_cast<size_t>(t) + (gi * K + k) * Mg + m];
        d[k] = s;
      }
    }
}

void conv_grad_bias_f32(const ConvGeom& g, const float* dy, float* db, int threads) {
  const int64_t M = g.out_channels, P = g.out_plane();
#pragma omp parallel for num_threads(threads) schedule(static) if (g.batch * M * P > 65536)
  for (int64_t m = 0; m < M; ++m) {
    double s = 0;
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* d = dy + (n * M + m) * P;
      float ps = 0.f;
#pragma omp simd reduction(+ : ps)
      for (int64_t p = 0; p < P; ++p) ps += d[p];
      s += ps;
    }
    db[m] = static_cast<float>(s);
  }
}

void conv_grad_f32(const ConvGeom& g, const float* x, const float* w, const float* dy, const ConvGradOut& out,
                   int threads) {
  if (conv_grad_dw_applies(g)) conv_grad_f32__dw(g, x, w, dy, out, threads);
  else conv_grad_f32__gemm(runtime::sgemm_kernel(), g, x, w, dy, out, threads);
}

}  // namespace qforge::train
