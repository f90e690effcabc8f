// AVX2 channels-last depthwise INT8 convolution (spec: qconv_dw_nhwc_u8s8__ref): the plan of
// qconv_dw_nhwc_u8s8__avx512 with 2 taps per step, exact in 16 bits: u8 x and s8 w widened to int16,
// VPMADDWD sums x0·w0 + x1·w1 into int32 (|each| <= 255·128: no saturation, unlike VPMADDUBSW).
//
// Per output row (n, oh) and block of 32 channels:
//  1. Column buffer: for every padded input column col (iw = col − pl) and group gr of 2 kernel rows,
//       cb[gr][col][c][i] = x[n][oh*sh − pt + (2gr + i)*dh][iw][c]  as int16   (32 channels = 128 bytes)
//     (x_zp outside x, 0 past kH): VPUNPCK{L,H}BW of the two rows' 16 bytes, VPMOVZXBW.
//  2. acc[c] = seed[c] + Σ_{gr, kw} madd(cb[gr][ow*sw + kw*dw][c], w[gr][kw][c]), 4 ymm of 8 channels;
//     seed = bias − x_zp · Σ_taps w (see the AVX-512 kernel for why this equals the reference mod 2^32).
//  3. requantize_f32 op for op (cvtdq2ps, mul, max, min, ± 1.5·2^23, cvttps2dq); VPACKSSDW, + zp as
//     int16, VPACK{US,SS}WB (exact: values within the type) and one VPERMD back to channel order.
// Weights: [ceil(kH/2)][kW][ceil(C/8)][8][2] s16 (pack_qconv_dw_nhwc).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/qconv_dw_nhwc.h"

namespace qforge::runtime {

namespace {

constexpr int64_t kUnit = 32;           // bytes: 8 channels × 2 taps × int16
constexpr int64_t kBlock = 4 * kUnit;   // bytes: 32 channels

struct Dims {
  int64_t C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
  int64_t groups, cols, units;  // ceil(kH/2), padded columns reached by a tap, ceil(C/8)
};

Dims dims_of(const ConvGeom& g) {
  Dims d{};
  d.C = g.in_channels, d.H = g.in[1], d.W = g.in[2], d.KH = g.kernel[1], d.KW = g.kernel[2];
  d.OH = g.out[1], d.OW = g.out[2], d.sh = g.stride[1], d.sw = g.stride[2];
  d.dh = g.dilation[1], d.dw = g.dilation[2], d.pt = g.pad_begin[1], d.pl = g.pad_begin[2];
  d.groups = (d.KH + 1) / 2, d.cols = (d.OW - 1) * d.sw + (d.KW - 1) * d.dw + 1, d.units = (d.C + 7) / 8;
  return d;
}

// 16 channels of two row slots → 2 units of int16 pairs at dst.
inline void interleave16(__m128i a, __m128i b, int64_t units, uint8_t* dst) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b)));
  if (units > 1)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + kUnit), _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b)));
}

// Step 1 for the real columns of one block (channels c0 + [0, cv), nu units stored). src[i]: slot i's
// bytes at column 0, step[i] its bytes per column (C; 0 for a constant 32-byte x_zp / zero vector).
void fill_block(const Dims& d, const uint8_t* const src[2], const int64_t step[2], int64_t cv, int64_t nu,
                uint8_t* cb_gr) {
  const int64_t iw0 = std::max<int64_t>(0, -d.pl), iw1 = std::min(d.W, d.cols - d.pl);
  alignas(32) uint8_t tmp[2][32] = {};
  for (int64_t iw = iw0; iw < iw1; ++iw) {
    const uint8_t* p[2] = {src[0] + iw * step[0], src[1] + iw * step[1]};
    if (cv < 32) {  // channel tail: the bytes past C read as 0 (their weights are 0)
      for (int i = 0; i < 2; ++i) std::memcpy(tmp[i], p[i], static_cast<size_t>(cv)), p[i] = tmp[i];
    }
    uint8_t* dst = cb_gr + (iw + d.pl) * kBlock;
    for (int64_t h = 0; h < 2 && 2 * h < nu; ++h) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[0] + 16 * h));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[1] + 16 * h));
      interleave16(a, b, nu - 2 * h, dst + 2 * h * kUnit);
    }
  }
}

struct Stage {
  __m256 lo, hi;
  __m256i zp16;
};

// Step 3: 4 accumulators (channel order; NU live) → 32 bytes at dst (`n` of them stored).
template <int NU, bool kU8>
inline void requantize_store(const __m256i (&acc)[4], const __m256 (&scale)[4], const Stage& s, int64_t n,
                             uint8_t* dst) {
  const __m256 kRound = _mm256_set1_ps(12582912.0f);
  __m256i q[4];
  for (int u = 0; u < 4; ++u) {
    if (u >= NU) {
      q[u] = _mm256_setzero_si256();
      continue;
    }
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[u]), scale[u]);
    v = _mm256_min_ps(_mm256_max_ps(v, s.lo), s.hi);
    v = _mm256_sub_ps(_mm256_add_ps(v, kRound), kRound);
    q[u] = _mm256_cvttps_epi32(v);
  }
  const __m256i p01 = _mm256_add_epi16(_mm256_packs_epi32(q[0], q[1]), s.zp16);
  const __m256i p23 = _mm256_add_epi16(_mm256_packs_epi32(q[2], q[3]), s.zp16);
  const __m256i b = kU8 ? _mm256_packus_epi16(p01, p23) : _mm256_packs_epi16(p01, p23);
  // dword 4L + k holds channels 8k + 4L .. + 3
  const __m256i r = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (n == 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), r);
  } else {
    alignas(32) uint8_t tmp[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), r);
    std::memcpy(dst, tmp, static_cast<size_t>(n));
  }
}

// Steps 2 + 3 for one block over the whole output row. wp: the block's first unit of [groups][kW][units][8][2].
template <int NU, bool kU8>
void compute_block(const Dims& d, const uint8_t* cb, const int16_t* wp, const int32_t* seed, const float* scale,
                   const Stage& s, int64_t cv, uint8_t* y) {
  const int64_t OW = d.OW, C = d.C, sw = d.sw, dwb = d.dw * kBlock, KW = d.KW, groups = d.groups;
  const int64_t wstride = d.units * 16, gstride = d.cols * kBlock;  // int16 elements, bytes
  __m256i vseed[4];
  __m256 vscale[4];
  for (int u = 0; u < NU; ++u) {
    vseed[u] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(seed + 8 * u));
    vscale[u] = _mm256_loadu_ps(scale + 8 * u);
  }
  for (int64_t ow = 0; ow < OW; ++ow) {
    __m256i acc[4];
    for (int u = 0; u < NU; ++u) acc[u] = vseed[u];
    const uint8_t* col = cb + ow * sw * kBlock;
    for (int64_t gr = 0; gr < groups; ++gr)
      for (int64_t kw = 0; kw < KW; ++kw) {
        const uint8_t* xc = col + gr * gstride + kw * dwb;
        const int16_t* wc = wp + (gr * KW + kw) * wstride;
        for (int u = 0; u < NU; ++u)
          acc[u] = _mm256_add_epi32(
              acc[u], _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xc + u * kUnit)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wc + u * 16))));
      }
    requantize_store<NU, kU8>(acc, vscale, s, cv, y + ow * C);
  }
}

using BlockFn = void (*)(const Dims&, const uint8_t*, const int16_t*, const int32_t*, const float*, const Stage&,
                         int64_t, uint8_t*);

template <bool kU8>
BlockFn block_fn(int64_t nu) {
  switch (nu) {
    case 1: return compute_block<1, kU8>;
    case 2: return compute_block<2, kU8>;
    case 3: return compute_block<3, kU8>;
    default: return compute_block<4, kU8>;
  }
}

}  // namespace

void qconv_dw_nhwc_u8s8__avx2(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1) {
  static thread_local std::vector<uint8_t> buf;
  const Dims d = dims_of(*a.g);
  const QgemmOutputStage& out = *a.out;
  const uint8_t x_zp = a.x_zp;
  const size_t gstride = static_cast<size_t>(d.cols * kBlock);
  if (buf.size() < static_cast<size_t>(d.groups) * gstride) buf.resize(static_cast<size_t>(d.groups) * gstride);
  uint8_t* cb = buf.data();
  // Padding columns: x_zp (as int16) in every slot, for the whole call.
  for (int64_t gr = 0; gr < d.groups; ++gr)
    for (int64_t col = 0; col < d.cols; ++col)
      if (col < d.pl || col >= d.pl + d.W) {
        auto* p = reinterpret_cast<int16_t*>(cb + gr * gstride + col * kBlock);
        std::fill(p, p + kBlock / 2, static_cast<int16_t>(x_zp));
      }
  alignas(32) uint8_t zp_vec[32], zero_vec[32];
  std::memset(zp_vec, x_zp, sizeof zp_vec);
  std::memset(zero_vec, 0, sizeof zero_vec);
  Stage s;
  s.lo = _mm256_set1_ps(static_cast<float>(out.qmin - out.zero_point));
  s.hi = _mm256_set1_ps(static_cast<float>(out.qmax - out.zero_point));
  s.zp16 = _mm256_set1_epi16(static_cast<int16_t>(out.zero_point));
  const bool u8 = out.type == QgemmOut::u8;
  const int64_t blocks = (d.units + 3) / 4, tail_nu = d.units - (blocks - 1) * 4;
  const BlockFn full_fn = u8 ? block_fn<true>(4) : block_fn<false>(4);
  const BlockFn tail_fn = u8 ? block_fn<true>(tail_nu) : block_fn<false>(tail_nu);
  const int16_t* w = a.w->data16.data();
  auto* y = static_cast<uint8_t*>(a.y);
  for (int64_t r = row0; r < row1; ++r) {
    const int64_t n = r / d.OH, oh = r % d.OH;
    const uint8_t* xn = a.x + n * d.H * d.W * d.C;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * 32, cv = std::min<int64_t>(32, d.C - c0), nu = b + 1 < blocks ? 4 : tail_nu;
      for (int64_t gr = 0; gr < d.groups; ++gr) {
        const uint8_t* src[2];
        int64_t step[2];
        for (int i = 0; i < 2; ++i) {
          const int64_t kh = gr * 2 + i, ih = oh * d.sh - d.pt + kh * d.dh;
          const bool live = kh < d.KH && ih >= 0 && ih < d.H;
          src[i] = live ? xn + ih * d.W * d.C + c0 : kh < d.KH ? zp_vec : zero_vec;
          step[i] = live ? d.C : 0;
        }
        fill_block(d, src, step, cv, nu, cb + gr * gstride);
      }
      (nu == 4 ? full_fn : tail_fn)(d, cb, w + c0 * 2, a.seed + c0, a.scale + c0, s, cv, y + r * d.OW * d.C + c0);
    }
  }
}

}  // namespace qforge::runtime
