// AVX-512 direct stride-1 convolution on the padded-width layout (see conv_direct.h): 12 x 32 tiles,
// 24 zmm accumulators; per k step one broadcast of W per row and two unaligned loads of 16
// positions from the padded image at off[k] + q0. Output: lanes whose column is a dropped one
// (ow >= OW) are squeezed out with vcompressps in registers, and the rest stored contiguously
// (the kept lanes of a 16-lane half are consecutive positions of y).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/kernels/conv_direct.h"
#include "runtime/kernels/sgemm.h"

namespace qforge::runtime {

namespace {

constexpr int kMR = 12;

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

// Where the two 16-lane halves of one 32-position block go: kept lanes, their count, and the
// index in y of the first kept lane.
struct BlockOut {
  __mmask16 keep[2];
  int count[2];
  int64_t dst[2];
  __mmask16 load;  // lanes inside the computed range (only for reads that may end at the buffer)
  __mmask16 load1;
};

template <int MR, bool kMasked>
void tile(size_t K, const float* a, const int64_t* off, const float* xq, const BlockOut& bo,
          const float* bias, const FusedActivation& act, float* y, int64_t P) {
  __m512 acc0[MR], acc1[MR];
#pragma unroll
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (size_t k = 0; k < K; ++k) {
    const float* src = xq + off[k];
    __m512 b0, b1;
    if constexpr (kMasked) {
      b0 = _mm512_maskz_loadu_ps(bo.load, src);
      b1 = _mm512_maskz_loadu_ps(bo.load1, src + 16);
    } else {
      b0 = _mm512_loadu_ps(src);
      b1 = _mm512_loadu_ps(src + 16);
    }
#pragma unroll
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * K + k]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
  }
  const bool full0 = bo.count[0] == 16, full1 = bo.count[1] == 16;
  const __mmask16 st0 = static_cast<__mmask16>((1u << bo.count[0]) - 1);
  const __mmask16 st1 = static_cast<__mmask16>((1u << bo.count[1]) - 1);
#pragma unroll
  for (int r = 0; r < MR; ++r) {
    const __m512 bv = _mm512_set1_ps(bias ? bias[r] : 0.f);
    const __m512 v0 = apply_act(_mm512_add_ps(acc0[r], bv), act);
    const __m512 v1 = apply_act(_mm512_add_ps(acc1[r], bv), act);
    float* yr = y + r * P;
    // N.B. plain stores where the half is all kept: masked stores to lines not in cache are slow on AMD.
    if (full0) _mm512_storeu_ps(yr + bo.dst[0], v0);
    else if (bo.count[0]) _mm512_mask_storeu_ps(yr + bo.dst[0], st0, _mm512_maskz_compress_ps(bo.keep[0], v0));
    if (full1) _mm512_storeu_ps(yr + bo.dst[1], v1);
    else if (bo.count[1]) _mm512_mask_storeu_ps(yr + bo.dst[1], st1, _mm512_maskz_compress_ps(bo.keep[1], v1));
  }
}

// Row tiles [t0, t1) (kMR output channels each) of one 32-position block.
template <bool kMasked>
void row_tiles(size_t M, size_t K, const float* w, const int64_t* off, const float* xq, const BlockOut& bo,
               const float* b, const FusedActivation& act, float* y, int64_t P, size_t t0, size_t t1) {
  for (size_t m0 = t0 * kMR; m0 < std::min(M, t1 * kMR); m0 += kMR) {
    const size_t mr = std::min<size_t>(kMR, M - m0);
    const float* a = w + m0 * K;
    const float* bias = b ? b + m0 : nullptr;
    float* ym = y + static_cast<int64_t>(m0) * P;
    switch (mr) {
#define QF_TILE(R) \
  case R: tile<R, kMasked>(K, a, off, xq, bo, bias, act, ym, P); break;
      QF_TILE(1) QF_TILE(2) QF_TILE(3) QF_TILE(4) QF_TILE(5) QF_TILE(6)
      QF_TILE(7) QF_TILE(8) QF_TILE(9) QF_TILE(10) QF_TILE(11) QF_TILE(12)
#undef QF_TILE
    }
  }
}

struct Plan {
  int64_t C, H, W, M, OH, OW, Hp, Wp, pt, pl, Q, P;
  bool copy;  // false: x is read in place (pointwise, no padding)
  size_t K, blocks, padded_floats;
  std::vector<int64_t> off;
};

Plan make_plan(const ConvGeom& g) {
  Plan p;
  p.C = g.in_channels, p.H = g.in[1], p.W = g.in[2], p.M = g.out_channels;
  p.OH = g.out[1], p.OW = g.out[2];
  const int64_t KH = g.kernel[1], KW = g.kernel[2], dh = g.dilation[1], dw = g.dilation[2];
  p.pt = g.pad_begin[1], p.pl = g.pad_begin[2];
  p.Wp = p.OW + (KW - 1) * dw;
  p.Hp = p.OH + (KH - 1) * dh;
  p.Q = p.OH * p.Wp;
  p.P = p.OH * p.OW;
  // In place only when no read can pass the end of x: a kernel wider than 1 reads the last row's
  // discarded columns up to (KW-1)·dW floats further (an AddressSanitizer finding), so it copies.
  p.copy = !(KW == 1 && p.Wp == p.W && p.Hp == p.H && p.pt == 0 && p.pl == 0);
  p.K = static_cast<size_t>(p.C * KH * KW);
  p.blocks = static_cast<size_t>((p.Q + 31) / 32);
  // Reads of the last block run up to 31 + (KW-1)·dW floats past the last plane's computed rows.
  p.padded_floats = static_cast<size_t>(p.C * p.Hp * p.Wp + 64 + (KW - 1) * dw);
  p.off.resize(p.K);
  const int64_t plane = p.copy ? p.Hp * p.Wp : p.H * p.W;
  size_t k = 0;
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t kh = 0; kh < KH; ++kh)
      for (int64_t kw = 0; kw < KW; ++kw) p.off[k++] = c * plane + kh * dh * p.Wp + kw * dw;
  return p;
}

// xp[c][r][col] = x[c][r - pt][col - pl], 0 outside; rows / columns beyond the input stay 0.
__attribute__((no_builtin("memcpy", "memset"))) void pad_image(const Plan& p, const float* x, float* xp) {
  std::memset(xp, 0, p.padded_floats * sizeof(float));
  const int64_t rows = std::min(p.H, p.Hp - p.pt), cols = std::min(p.W, p.Wp - p.pl);
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      const float* s = x + (c * p.H + r) * p.W;
      float* d = xp + (c * p.Hp + r + p.pt) * p.Wp + p.pl;
      for (int64_t i = 0; i < cols; ++i) d[i] = s[i];
    }
}

BlockOut block_out(const Plan& p, size_t blk) {
  BlockOut bo{};
  const int64_t q0 = static_cast<int64_t>(blk) * 32;
  for (int h = 0; h < 2; ++h) {
    __mmask16 keep = 0;
    int count = 0;
    int64_t dst = -1;
    for (int l = 0; l < 16; ++l) {
      const int64_t q = q0 + 16 * h + l;
      if (q >= p.Q || q % p.Wp >= p.OW) continue;
      keep = static_cast<__mmask16>(keep | (1u << l));
      if (dst < 0) dst = (q / p.Wp) * p.OW + q % p.Wp;
      ++count;
    }
    bo.keep[h] = keep, bo.count[h] = count, bo.dst[h] = dst < 0 ? 0 : dst;
  }
  const int64_t left = p.Q - q0;
  bo.load = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << std::max<int64_t>(left, 0)) - 1);
  bo.load1 = static_cast<__mmask16>(left >= 32 ? 0xFFFF : left <= 16 ? 0 : (1u << (left - 16)) - 1);
  return bo;
}

// Work units [u0, u1) of one image, unit u = row tile u % tiles of block u / tiles (a thread's
// consecutive units share their block's B vectors in L1). xi is the padded image (or x itself).
void image_units(const Plan& p, const std::vector<BlockOut>& outs, const float* xi, const float* w, const float* b,
                 const FusedActivation& act, float* yi, size_t u0, size_t u1) {
  const size_t tiles = (static_cast<size_t>(p.M) + kMR - 1) / kMR;
  for (size_t u = u0; u < u1;) {
    const size_t blk = u / tiles, t0 = u % tiles, t1 = std::min(tiles, t0 + (u1 - u));
    const BlockOut& bo = outs[blk];
    const float* xq = xi + static_cast<int64_t>(blk) * 32;
    // In place, the last block may end at the buffer's end: masked loads there.
    if (!p.copy && static_cast<int64_t>(blk + 1) * 32 > p.Q)
      row_tiles<true>(static_cast<size_t>(p.M), p.K, w, p.off.data(), xq, bo, b, act, yi, p.P, t0, t1);
    else
      row_tiles<false>(static_cast<size_t>(p.M), p.K, w, p.off.data(), xq, bo, b, act, yi, p.P, t0, t1);
    u += t1 - t0;
  }
}

}  // namespace

void conv2d_f32__avx512_direct(const ConvGeom& g, const float* x, const float* w, const float* b,
                               const FusedActivation& act, float* y, int threads) {
  const Plan p = make_plan(g);
  std::vector<BlockOut> outs(p.blocks);
  for (size_t blk = 0; blk < p.blocks; ++blk) outs[blk] = block_out(p, blk);
  const int64_t in_img = p.C * p.H * p.W, out_img = p.M * p.P;
  const double work = static_cast<double>(p.M) * static_cast<double>(p.K) * static_cast<double>(p.Q);
  const int64_t N = g.batch;
  const size_t units = p.blocks * ((static_cast<size_t>(p.M) + kMR - 1) / kMR);
  if (threads > 1 && N >= threads) {
    // Whole images per thread: each pads its image into its own scratch.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      const float* xi = x + n * in_img;
      if (p.copy) {
        float* xp = sgemm_scratch(p.padded_floats, 1);
        pad_image(p, xi, xp);
        xi = xp;
      }
      image_units(p, outs, xi, w, b, act, y + n * out_img, 0, units);
    }
    return;
  }
  const int nt = static_cast<int>(std::min<int64_t>(threads, static_cast<int64_t>(units)));
  const bool parallel = nt > 1 && work >= 131072;
  for (int64_t n = 0; n < N; ++n) {
    const float* xi = x + n * in_img;
    if (p.copy) {
      float* xp = sgemm_scratch(p.padded_floats, 1);
      pad_image(p, xi, xp);
      xi = xp;
    }
    float* yi = y + n * out_img;
    if (!parallel) {
      image_units(p, outs, xi, w, b, act, yi, 0, units);
      continue;
    }
    // An equal share of the units per thread.
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; ++t) {
      const size_t T = static_cast<size_t>(nt), i = static_cast<size_t>(t);
      image_units(p, outs, xi, w, b, act, yi, units * i / T, units * (i + 1) / T);
    }
  }
}

}  // namespace qforge::runtime
