// AVX-512 depthwise convolution on flattened phase planes (see dwconv_flat.h): per plane, the
// zero-padded phase copy, then blocks of up to 4 vectors of 16 flat positions, each tap one
// broadcast and one unaligned load per vector; dropped columns squeezed out with vcompressps.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/kernels/dwconv_flat.h"
#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {

inline __m512 apply_act(__m512 v, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::none: return v;
    // N.B. (bound, v) operand order lets NaN through.
    case FusedActivation::Kind::clamp:
      return _mm512_min_ps(_mm512_set1_ps(act.hi), _mm512_max_ps(_mm512_set1_ps(act.lo), v));
    case FusedActivation::Kind::leaky: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
  }
  return v;
}

struct VecOut {  // one 16-position vector of the flat grid: kept lanes, their count, first index in y
  __mmask16 keep;
  int count;
  int64_t dst;
};

struct Plan {
  int64_t H, W, OH, OW, s, Hh, Wh, pt, pl, Q, taps;
  size_t phase_floats, buf_floats, vecs;
  std::vector<int64_t> off;  // per tap
  std::vector<VecOut> outs;  // per vector
};

Plan make_plan(const ConvGeom& g) {
  Plan p;
  p.H = g.in[1], p.W = g.in[2], p.OH = g.out[1], p.OW = g.out[2], p.s = g.stride[1];
  const int64_t KH = g.kernel[1], KW = g.kernel[2], dh = g.dilation[1], dw = g.dilation[2];
  p.pt = g.pad_begin[1], p.pl = g.pad_begin[2];
  p.Hh = p.OH + (KH - 1) * dh / p.s;
  p.Wh = p.OW + (KW - 1) * dw / p.s;
  p.Q = p.OH * p.Wh;
  p.phase_floats = static_cast<size_t>(p.Hh * p.Wh);
  p.vecs = static_cast<size_t>((p.Q + 15) / 16);
  // Loads run up to 15 floats past the flat grid of the last phase.
  p.buf_floats = static_cast<size_t>(p.s * p.s) * p.phase_floats + 64;
  p.taps = KH * KW;
  for (int64_t kh = 0; kh < KH; ++kh)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int64_t r = kh * dh, c = kw * dw;
      const int64_t phase = (r % p.s) * p.s + c % p.s;
      p.off.push_back(phase * static_cast<int64_t>(p.phase_floats) + (r / p.s) * p.Wh + c / p.s);
    }
  for (size_t v = 0; v < p.vecs; ++v) {
    VecOut o{0, 0, -1};
    for (int l = 0; l < 16; ++l) {
      const int64_t q = static_cast<int64_t>(v) * 16 + l;
      if (q >= p.Q || q % p.Wh >= p.OW) continue;
      o.keep = static_cast<__mmask16>(o.keep | (1u << l));
      if (o.dst < 0) o.dst = (q / p.Wh) * p.OW + q % p.Wh;
      ++o.count;
    }
    if (o.dst < 0) o.dst = 0;
    p.outs.push_back(o);
  }
  return p;
}

// Stride 1: the input rows copied in place, only the padding around them zeroed.
void fill_plane(const Plan& p, const float* x, float* buf) {
  const __m512 zero = _mm512_setzero_ps();
  const int64_t rows = std::min(p.H, p.Hh - p.pt), cols = std::min(p.W, p.Wh - p.pl);
  auto zero_range = [&](float* d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(d + i, zero);
    if (i < n) _mm512_mask_storeu_ps(d + i, static_cast<__mmask16>((1u << (n - i)) - 1), zero);
  };
  zero_range(buf, p.pt * p.Wh);
  for (int64_t r = 0; r < rows; ++r) {
    float* d = buf + (p.pt + r) * p.Wh;
    const float* s = x + r * p.W;
    zero_range(d, p.pl);
    int64_t i = 0;
    for (; i + 16 <= cols; i += 16) _mm512_storeu_ps(d + p.pl + i, _mm512_loadu_ps(s + i));
    if (i < cols) {
      const __mmask16 m = static_cast<__mmask16>((1u << (cols - i)) - 1);
      _mm512_mask_storeu_ps(d + p.pl + i, m, _mm512_maskz_loadu_ps(m, s + i));
    }
    zero_range(d + p.pl + cols, p.Wh - p.pl - cols);
  }
  const int64_t done = (p.pt + rows) * p.Wh;
  zero_range(buf + done, static_cast<int64_t>(p.buf_floats) - done);
}

// buf: s·s phase planes; phase (pr, pc)[i][j] = x[i·s + pr - pt][j·s + pc - pl], 0 outside x.
__attribute__((no_builtin("memcpy", "memset"))) void fill_phases(const Plan& p, const float* x, float* buf) {
  if (p.s == 1) return fill_plane(p, x, buf);
  std::memset(buf, 0, p.s * p.s * p.phase_floats * sizeof(float));
  for (int64_t pr = 0; pr < p.s; ++pr)
    for (int64_t pc = 0; pc < p.s; ++pc) {
      float* ph = buf + (pr * p.s + pc) * static_cast<int64_t>(p.phase_floats);
      // Columns j with 0 <= j·s + pc - pl < W.
      const int64_t j0 = std::max<int64_t>(0, (p.pl - pc + p.s - 1) / p.s);
      const int64_t j1 = std::min<int64_t>(p.Wh, (p.W - 1 + p.pl - pc) / p.s + 1);
      for (int64_t i = 0; i < p.Hh; ++i) {
        const int64_t r = i * p.s + pr - p.pt;
        if (r < 0 || r >= p.H) continue;
        const float* xr = x + r * p.W + pc - p.pl;
        float* d = ph + i * p.Wh;
        if (p.s == 1) {
          for (int64_t j = j0; j < j1; ++j) d[j] = xr[j];
        } else {
          for (int64_t j = j0; j < j1; ++j) d[j] = xr[j * 2];
        }
      }
    }
}

template <int NV>
inline void vectors(const Plan& p, const float* buf, const float* w, float bias, const FusedActivation& act,
                    float* y, size_t v0) {
  __m512 acc[NV];
#pragma unroll
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_set1_ps(bias);
  const float* base = buf + v0 * 16;
  for (int64_t t = 0; t < p.taps; ++t) {
    const __m512 wv = _mm512_set1_ps(w[t]);
    const float* src = base + p.off[static_cast<size_t>(t)];
#pragma unroll
    for (int v = 0; v < NV; ++v) acc[v] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(src + 16 * v), acc[v]);
  }
#pragma unroll
  for (int v = 0; v < NV; ++v) {
    const VecOut& o = p.outs[v0 + v];
    const __m512 r = apply_act(acc[v], act);
    // N.B. plain stores where all lanes are kept: masked stores to lines not in cache are slow on AMD.
    if (o.count == 16) _mm512_storeu_ps(y + o.dst, r);
    else if (o.count)
      _mm512_mask_storeu_ps(y + o.dst, static_cast<__mmask16>((1u << o.count) - 1), _mm512_maskz_compress_ps(o.keep, r));
  }
}

void plane(const Plan& p, const float* x, const float* w, float bias, const FusedActivation& act, float* y,
           float* buf) {
  fill_phases(p, x, buf);
  size_t v = 0;
  for (; v + 4 <= p.vecs; v += 4) vectors<4>(p, buf, w, bias, act, y, v);
  switch (p.vecs - v) {
    case 3: vectors<3>(p, buf, w, bias, act, y, v); break;
    case 2: vectors<2>(p, buf, w, bias, act, y, v); break;
    case 1: vectors<1>(p, buf, w, bias, act, y, v); break;
    default: break;
  }
}

}  // namespace

void dwconv2d_f32__avx512_flat(const ConvGeom& g, const float* x, const float* w, const float* b,
                               const FusedActivation& act, float* y, int threads) {
  const Plan p = make_plan(g);
  const int64_t mult = g.out_channels / g.group;
  const int64_t planes = g.batch * g.out_channels;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), ksz = g.kernel_size();
  const int nt = static_cast<int>(std::min<int64_t>(threads, planes));
  const bool parallel = nt > 1 && planes * out_plane * ksz >= 65536;
#pragma omp parallel num_threads(nt) if (parallel)
  {
    float* buf = sgemm_scratch(p.buf_floats, 2);
#pragma omp for schedule(static)
    for (int64_t pm = 0; pm < planes; ++pm) {
      const int64_t n = pm / g.out_channels, m = pm % g.out_channels;
      plane(p, x + (n * g.in_channels + m / mult) * in_plane, w + m * ksz, b ? b[m] : 0.f, act,
            y + pm * out_plane, buf);
    }
  }
}

}  // namespace qforge::runtime
