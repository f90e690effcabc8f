// AVX-512 channels-last depthwise INT8 convolution (spec: qconv_dw_nhwc_u8s8__ref), vectorized across
// channels with VPDPBUSD on 4 taps at a time.
//
// Per output row (n, oh) and block of 64 channels:
//  1. Column buffer: for every padded input column col (iw = col − pl) and group gr of 4 kernel rows
//     (kh = 4gr .. 4gr + 3), the 4 input rows' bytes interleaved per channel:
//       cb[gr][col][c][i] = x[n][oh*sh − pt + (4gr + i)*dh][iw][c]   (u8; 64 channels = 256 bytes)
//     Rows and columns outside x hold x_zp; slots past kH hold 0 (their weight is 0). Built from 3–4
//     64-byte row loads with one VPERMD (a 4×4 dword transpose, so the unpacks below come out in
//     channel order) and 8 VPUNPCK{L,H}{BW,WD}; the x_zp columns are written once per call.
//  2. Each output (ow) of the row: acc[c] = seed[c] + Σ_{gr, kw} dpbusd(cb[gr][ow*sw + kw*dw][c], w[gr][kw][c])
//     — 4 zmm accumulators of 16 channels each, kH/4 · kW VPDPBUSD per accumulator (3 for 3×3).
//     The seed folds the input zero point and bias: seed = bias − x_zp · Σ_taps w, the same value mod
//     2^32 as the reference's Σ (x − x_zp)·w + bias (x_zp padding taps add x_zp·w, cancelled by the seed;
//     every add wraps the same way and |Σ x·w| stays far below 2^31 for kernel sizes <= kQgemmMaxK).
//  3. Requantization op for op as requantize_f32: cvtdq2ps, mul by scale[c], max/min with
//     [qmin − zp, qmax − zp]; then round half to even with VCVTPS2DQ {rn-sae} (equal to the reference's
//     (v + 1.5·2^23) − 1.5·2^23 and truncation, as |v| <= 510 after the clamp); VPACKSSDW, + zp as int16,
//     VPACK{US,SS}WB (exact: every value is within the type) and the inverse dword transpose put the 64
//     bytes back in channel order for one (masked at the channel tail) store.
// Weights: [ceil(kH/4)][kW][ceil(C/16)][16][4] s8 (pack_qconv_dw_nhwc).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/qconv_dw_nhwc.h"

namespace qforge::runtime {

namespace {

constexpr int64_t kUnit = 64;            // bytes: 16 channels × 4 taps
constexpr int64_t kBlock = 4 * kUnit;    // bytes: 64 channels × 4 taps

struct Dims {
  int64_t C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
  int64_t groups, cols, units;  // ceil(kH/4), padded columns reached by a tap, ceil(C/16)
};

Dims dims_of(const ConvGeom& g) {
  Dims d{};
  d.C = g.in_channels, d.H = g.in[1], d.W = g.in[2], d.KH = g.kernel[1], d.KW = g.kernel[2];
  d.OH = g.out[1], d.OW = g.out[2], d.sh = g.stride[1], d.sw = g.stride[2];
  d.dh = g.dilation[1], d.dw = g.dilation[2], d.pt = g.pad_begin[1], d.pl = g.pad_begin[2];
  d.groups = (d.KH + 3) / 4, d.cols = (d.OW - 1) * d.sw + (d.KW - 1) * d.dw + 1, d.units = (d.C + 15) / 16;
  return d;
}

// Dword p = 4a + b of the result takes dword 4b + a (its own inverse).
inline __m512i transpose_idx() { return _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0); }

// Step 1 for the real columns of one 64-channel block (channels c0 + [0, 64), nu units stored).
// src[i]: row slot i's bytes at column 0 and step[i] its bytes per column (C; 0 for a constant
// 64-byte x_zp / zero vector).
void fill_block(const Dims& d, const uint8_t* const src[4], const int64_t step[4], __mmask64 m, int64_t nu,
                uint8_t* cb_gr) {
  const __m512i T = transpose_idx();
  const int64_t iw0 = std::max<int64_t>(0, -d.pl), iw1 = std::min(d.W, d.cols - d.pl);
  for (int64_t iw = iw0; iw < iw1; ++iw) {
    const __m512i a = _mm512_permutexvar_epi32(T, _mm512_maskz_loadu_epi8(m, src[0] + iw * step[0]));
    const __m512i b = _mm512_permutexvar_epi32(T, _mm512_maskz_loadu_epi8(m, src[1] + iw * step[1]));
    const __m512i c = _mm512_permutexvar_epi32(T, _mm512_maskz_loadu_epi8(m, src[2] + iw * step[2]));
    const __m512i e = _mm512_permutexvar_epi32(T, _mm512_maskz_loadu_epi8(m, src[3] + iw * step[3]));
    const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
    const __m512i ce_lo = _mm512_unpacklo_epi8(c, e), ce_hi = _mm512_unpackhi_epi8(c, e);
    uint8_t* dst = cb_gr + (iw + d.pl) * kBlock;
    _mm512_storeu_si512(dst, _mm512_unpacklo_epi16(ab_lo, ce_lo));
    if (nu > 1) _mm512_storeu_si512(dst + kUnit, _mm512_unpackhi_epi16(ab_lo, ce_lo));
    if (nu > 2) _mm512_storeu_si512(dst + 2 * kUnit, _mm512_unpacklo_epi16(ab_hi, ce_hi));
    if (nu > 3) _mm512_storeu_si512(dst + 3 * kUnit, _mm512_unpackhi_epi16(ab_hi, ce_hi));
  }
}

struct Stage {
  __m512 lo, hi;
  __m512i zp16;
};

// Step 3: 4 accumulators (natural channel order; NU of them live) → 64 bytes at dst (m: live bytes).
template <int NU, bool kU8>
inline void requantize_store(const __m512i (&acc)[4], const __m512 (&scale)[4], const Stage& s, __mmask64 m,
                             bool full, uint8_t* dst) {
  __m512i q[4];
  for (int u = 0; u < 4; ++u) {
    if (u >= NU) {
      q[u] = _mm512_setzero_si512();
      continue;
    }
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[u]), scale[u]);
    v = _mm512_min_ps(_mm512_max_ps(v, s.lo), s.hi);
    q[u] = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  const __m512i p01 = _mm512_add_epi16(_mm512_packs_epi32(q[0], q[1]), s.zp16);
  const __m512i p23 = _mm512_add_epi16(_mm512_packs_epi32(q[2], q[3]), s.zp16);
  const __m512i b = kU8 ? _mm512_packus_epi16(p01, p23) : _mm512_packs_epi16(p01, p23);
  const __m512i r = _mm512_permutexvar_epi32(transpose_idx(), b);
  if (full) _mm512_storeu_si512(dst, r);
  else _mm512_mask_storeu_epi8(dst, m, r);
}

// Step 2 + 3 for one block over the whole output row. wp: the block's first unit of
// [groups][kW][units][64]; KW3 = true: kW == 3 and one row group, weights held in registers.
template <int NU, bool kU8, bool KW3>
void compute_block(const Dims& d, const uint8_t* cb, const int8_t* wp, const int32_t* seed, const float* scale,
                   const Stage& s, __mmask64 m, uint8_t* y) {
  const int64_t OW = d.OW, C = d.C, sw = d.sw, dwb = d.dw * kBlock, KW = d.KW, groups = d.groups;
  const int64_t wstride = d.units * kUnit, gstride = d.cols * kBlock;
  const bool full = NU == 4 && m == ~__mmask64{0};
  __m512i vseed[4];
  __m512 vscale[4];
  for (int u = 0; u < NU; ++u) {
    vseed[u] = _mm512_loadu_si512(seed + 16 * u);
    vscale[u] = _mm512_loadu_ps(scale + 16 * u);
  }
  __m512i w3[KW3 ? 3 : 1][NU];
  if constexpr (KW3)
    for (int kw = 0; kw < 3; ++kw)
      for (int u = 0; u < NU; ++u) w3[kw][u] = _mm512_loadu_si512(wp + kw * wstride + u * kUnit);
  for (int64_t ow = 0; ow < OW; ++ow) {
    __m512i acc[4];
    for (int u = 0; u < NU; ++u) acc[u] = vseed[u];
    const uint8_t* col = cb + ow * sw * kBlock;
    if constexpr (KW3) {
      for (int kw = 0; kw < 3; ++kw)
        for (int u = 0; u < NU; ++u)
          acc[u] = _mm512_dpbusd_epi32(acc[u], _mm512_loadu_si512(col + kw * dwb + u * kUnit), w3[kw][u]);
    } else {
      for (int64_t gr = 0; gr < groups; ++gr)
        for (int64_t kw = 0; kw < KW; ++kw) {
          const uint8_t* xc = col + gr * gstride + kw * dwb;
          const int8_t* wc = wp + (gr * KW + kw) * wstride;
          for (int u = 0; u < NU; ++u)
            acc[u] = _mm512_dpbusd_epi32(acc[u], _mm512_loadu_si512(xc + u * kUnit),
                                         _mm512_loadu_si512(wc + u * kUnit));
        }
    }
    requantize_store<NU, kU8>(acc, vscale, s, m, full, y + ow * C);
  }
}

using BlockFn = void (*)(const Dims&, const uint8_t*, const int8_t*, const int32_t*, const float*, const Stage&,
                         __mmask64, uint8_t*);

template <bool kU8, bool KW3>
BlockFn block_fn(int64_t nu) {
  switch (nu) {
    case 1: return compute_block<1, kU8, KW3>;
    case 2: return compute_block<2, kU8, KW3>;
    case 3: return compute_block<3, kU8, KW3>;
    default: return compute_block<4, kU8, KW3>;
  }
}

BlockFn pick(bool u8, bool kw3, int64_t nu) {
  if (u8) return kw3 ? block_fn<true, true>(nu) : block_fn<true, false>(nu);
  return kw3 ? block_fn<false, true>(nu) : block_fn<false, false>(nu);
}

}  // namespace

void qconv_dw_nhwc_u8s8__avx512(const QconvDwNhwcArgs& a, int64_t row0, int64_t row1) {
  static thread_local std::vector<uint8_t> buf;
  const Dims d = dims_of(*a.g);
  const QgemmOutputStage& out = *a.out;
  const uint8_t x_zp = a.x_zp;
  const size_t gstride = static_cast<size_t>(d.cols * kBlock);
  if (buf.size() < static_cast<size_t>(d.groups) * gstride) buf.resize(static_cast<size_t>(d.groups) * gstride);
  uint8_t* cb = buf.data();
  // Padding columns: x_zp in every slot, for the whole call.
  for (int64_t gr = 0; gr < d.groups; ++gr)
    for (int64_t col = 0; col < d.cols; ++col)
      if (col < d.pl || col >= d.pl + d.W) std::memset(cb + gr * gstride + col * kBlock, x_zp, kBlock);
  alignas(64) uint8_t zp_vec[64], zero_vec[64];
  std::memset(zp_vec, x_zp, sizeof zp_vec);
  std::memset(zero_vec, 0, sizeof zero_vec);
  Stage s;
  s.lo = _mm512_set1_ps(static_cast<float>(out.qmin - out.zero_point));
  s.hi = _mm512_set1_ps(static_cast<float>(out.qmax - out.zero_point));
  s.zp16 = _mm512_set1_epi16(static_cast<int16_t>(out.zero_point));
  const bool u8 = out.type == QgemmOut::u8, kw3 = d.KW == 3 && d.groups == 1;
  const int64_t blocks = (d.units + 3) / 4, tail_nu = d.units - (blocks - 1) * 4;
  const BlockFn full_fn = pick(u8, kw3, 4), tail_fn = pick(u8, kw3, tail_nu);
  const int8_t* w = a.w->data.data();
  auto* y = static_cast<uint8_t*>(a.y);
  for (int64_t r = row0; r < row1; ++r) {
    const int64_t n = r / d.OH, oh = r % d.OH;
    const uint8_t* xn = a.x + n * d.H * d.W * d.C;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * 64, cv = std::min<int64_t>(64, d.C - c0), nu = b + 1 < blocks ? 4 : tail_nu;
      const __mmask64 m = cv == 64 ? ~__mmask64{0} : (__mmask64{1} << cv) - 1;
      for (int64_t gr = 0; gr < d.groups; ++gr) {
        const uint8_t* src[4];
        int64_t step[4];
        for (int i = 0; i < 4; ++i) {
          const int64_t kh = gr * 4 + i, ih = oh * d.sh - d.pt + kh * d.dh;
          const bool live = kh < d.KH && ih >= 0 && ih < d.H;
          src[i] = live ? xn + ih * d.W * d.C + c0 : kh < d.KH ? zp_vec : zero_vec;
          step[i] = live ? d.C : 0;
        }
        fill_block(d, src, step, m, nu, cb + gr * gstride);
      }
      (nu == 4 ? full_fn : tail_fn)(d, cb, w + c0 * 4, a.seed + c0, a.scale + c0, s, m,
                                    y + r * d.OW * d.C + c0);
    }
  }
}

}  // namespace qforge::runtime
