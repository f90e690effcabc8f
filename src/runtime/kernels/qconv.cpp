#include "runtime/kernels/qconv.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "runtime/kernels/qconv_implicit.h"
#include "runtime/kernels/qconv_layout.h"
#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/kernels/reference/qconv_ref.h"

namespace qforge::runtime {

namespace {

constexpr QconvDwKernel kQconvDwKernels[] = {
    {"qconv_dw_u8s8__ref", qconv_dw_u8s8__ref, Isa::ref},
    {"qconv_dw_u8s8__avx2", qconv_dw_u8s8__avx2, Isa::avx2},
    {"qconv_dw_u8s8__avx512", qconv_dw_u8s8__avx512, Isa::avx512},
};

size_t out_bytes(QgemmOut t) { return t == QgemmOut::u8 || t == QgemmOut::s8 ? 1 : 4; }

// Scratch reused across calls on the same thread (no page faults on every run).
uint8_t* scratch(std::vector<uint8_t>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// n bytes as 16-byte moves (the last one overlapping the previous when n is not a multiple of 16);
// fixed-size memcpy compiles to one unaligned load and store, no libc call per run.
void copy_bytes(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n >= 16) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) std::memcpy(dst + i, src + i, 16);
    if (i < n) std::memcpy(dst + n - 16, src + n - 16, 16);
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// Padded channels-last copy of one image: dst[(d*Hp + h)*Wp + w][c], x_zp in the padding.
// Without padding the whole [C][plane] image is one transpose; with padding each input row is
// transposed [C][W] → [W][C] into place, or (rows narrower than a 16-byte block) the plane is
// transposed into `tmp` and its rows copied into place.
void to_padded_nhwc(const ConvGeom& g, TransposeU8Fn transpose, const uint8_t* x, uint8_t x_zp, uint8_t* dst,
                    std::vector<uint8_t>& tmp) {
  const int64_t C = g.in_channels, W = g.in[2], plane = g.in_plane();
  const int64_t Dp = g.in[0] + g.pad_begin[0] + g.pad_end[0], Hp = g.in[1] + g.pad_begin[1] + g.pad_end[1],
                Wp = W + g.pad_begin[2] + g.pad_end[2];
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  const bool padded = Dp != g.in[0] || Hp != g.in[1] || Wp != W;
  if (!padded) {
    transpose(x, sz(plane), dst, sz(C), sz(C), sz(plane));
    return;
  }
  std::memset(dst, x_zp, sz(Dp * Hp * Wp * C));
  const bool by_row = C == 1 || W >= 16;
  if (!by_row) {
    if (tmp.size() < sz(plane * C)) tmp.resize(sz(plane * C));
    transpose(x, sz(plane), tmp.data(), sz(C), sz(C), sz(plane));
  }
  for (int64_t d = 0; d < g.in[0]; ++d)
    for (int64_t h = 0; h < g.in[1]; ++h) {
      uint8_t* row = dst + (((d + g.pad_begin[0]) * Hp + h + g.pad_begin[1]) * Wp + g.pad_begin[2]) * C;
      const int64_t r = d * g.in[1] + h;
      if (C == 1) std::memcpy(row, x + r * W, sz(W));
      else if (by_row) transpose(x + r * W, sz(plane), row, sz(C), sz(C), sz(W));
      else std::memcpy(row, tmp.data() + r * W * C, sz(W * C));
    }
}

// Padded channels-last copy of one channels-last image: each input row (W·C bytes) copied into
// place, x_zp in the padding (one copy when there is none).
void nhwc_to_padded(const ConvGeom& g, const uint8_t* x, uint8_t x_zp, uint8_t* dst) {
  const int64_t C = g.in_channels, W = g.in[2];
  const int64_t Dp = g.in[0] + g.pad_begin[0] + g.pad_end[0], Hp = g.in[1] + g.pad_begin[1] + g.pad_end[1],
                Wp = W + g.pad_begin[2] + g.pad_end[2];
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  if (Dp == g.in[0] && Hp == g.in[1] && Wp == W) {
    std::memcpy(dst, x, sz(g.in_plane() * C));
    return;
  }
  std::memset(dst, x_zp, sz(Dp * Hp * Wp * C));
  for (int64_t d = 0; d < g.in[0]; ++d)
    for (int64_t h = 0; h < g.in[1]; ++h)
      std::memcpy(dst + (((d + g.pad_begin[0]) * Hp + h + g.pad_begin[1]) * Wp + g.pad_begin[2]) * C,
                  x + ((d * g.in[1] + h) * W) * C, sz(W * C));
}

// Rows p = (od, oh, 0..OW-1) of A for group grp: the patch of each output position,
// k = ((kd*kH + kh)*kW + kw)*Cg + c. With group 1 and dilation 1 along W, the kW taps of a kernel row
// are one run of kW·C bytes of the channels-last input. A run of at most 16 bytes is copied with one
// 16-byte move that spills into the bytes written next (the next runs or rows of this call) when at
// least 16 bytes of this call's rows remain; so no byte of another call's rows is touched (calls
// run in parallel). The source buffer has 16 spare bytes at its end.
// N.B. the geometry is read into locals first: the byte stores may alias anything, so fields read
// through g would be reloaded after every store.
void im2col_output_row(const ConvGeom& g, const uint8_t* xt, int64_t grp, int64_t od, int64_t oh, int64_t Kg,
                       uint8_t* dst) {
  const int64_t C = g.in_channels, Cg = C / g.group, OW = g.out[2];
  const int64_t Hp = g.in[1] + g.pad_begin[1] + g.pad_end[1], Wp = g.in[2] + g.pad_begin[2] + g.pad_end[2];
  const int64_t KD = g.kernel[0], KH = g.kernel[1], sd = g.stride[0], sh = g.stride[1], swC = g.stride[2] * C;
  const int64_t dd = g.dilation[0], dh = g.dilation[1], dwC = g.dilation[2] * C;
  const bool joined = g.group == 1 && g.dilation[2] == 1;
  const int64_t run = joined ? g.kernel[2] * C : Cg, runs = joined ? 1 : g.kernel[2];
  const uint8_t* base = xt + grp * Cg;
  const uint8_t* const end = dst + OW * Kg;
  for (int64_t ow = 0; ow < OW; ++ow) {
    uint8_t* d = dst + ow * Kg;
    for (int64_t kd = 0; kd < KD; ++kd)
      for (int64_t kh = 0; kh < KH; ++kh) {
        const uint8_t* row = base + ((od * sd + kd * dd) * Hp + oh * sh + kh * dh) * Wp * C + ow * swC;
        for (int64_t r = 0; r < runs; ++r, d += run) {
          if (run <= 16 && end - d >= 16) std::memcpy(d, row + r * dwC, 16);
          else copy_bytes(d, row + r * dwC, run);
        }
      }
  }
}

bool is_pointwise(const ConvGeom& g) {
  for (int i = 0; i < 3; ++i)
    if (g.kernel[i] != 1 || g.stride[i] != 1 || g.pad_begin[i] != 0 || g.pad_end[i] != 0) return false;
  return g.group == 1;
}

}  // namespace

QconvPackedW pack_qconv_weights(const QgemmKernel& k, const ConvGeom& g, const int8_t* w) {
  const int64_t Cg = g.in_channels / g.group, Mg = g.out_channels / g.group, KS = g.kernel_size();
  const int64_t Kg = Cg * KS;
  QF_CHECK(static_cast<size_t>(Kg) <= kQgemmMaxK);
  QconvPackedW p;
  if (qconv_implicit_kernel(k, g)) p.implicit = pack_qconv_implicit_weights(k, g, w);
  std::vector<int8_t> wr(static_cast<size_t>(Mg * Kg));
  for (int64_t grp = 0; grp < g.group; ++grp) {
    // wr[m][t*Cg + c] = w[grp*Mg + m][c][t]
    for (int64_t m = 0; m < Mg; ++m)
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t t = 0; t < KS; ++t) wr[m * Kg + t * Cg + c] = w[((grp * Mg + m) * Cg + c) * KS + t];
    p.groups.push_back(pack_weights_s8(k, static_cast<size_t>(Kg), static_cast<size_t>(Mg), wr.data(), 1,
                                       static_cast<size_t>(Kg)));
  }
  return p;
}

void qconv_u8s8__im2col(const QgemmKernel& k, const ConvGeom& g, const uint8_t* x, uint8_t x_zp,
                        const QconvPackedW& w, const QgemmOutputStage& out, void* y, int threads,
                        QconvLayout layout) {
  static thread_local std::vector<uint8_t> xt_buf, a_buf, c_buf;
  const TransposeU8Fn transpose = transpose_u8_kernel(k.isa);
  const int64_t C = g.in_channels, M = g.out_channels, G = g.group, Cg = C / G, Mg = M / G;
  const int64_t Kg = Cg * g.kernel_size(), P = g.out_plane();
  const int64_t padded_plane = (g.in[0] + g.pad_begin[0] + g.pad_end[0]) * (g.in[1] + g.pad_begin[1] + g.pad_end[1]) *
                               (g.in[2] + g.pad_begin[2] + g.pad_end[2]);
  const size_t esz = out_bytes(out.type);
  const bool pointwise = is_pointwise(g);
  const bool x_is_a = pointwise && layout.x_nhwc;  // A = x itself: [positions][C]
  const bool implicit = qconv_implicit_applies(k, g) && w.implicit.data;
  // Images per chunk: the padded input, A and the products of a chunk stay within ~768 KiB per thread
  // (the L2 of one core here is 1 MiB), so qgemm reads A from L2 right after im2col wrote it; at
  // least one image per thread.
  const int64_t per_image = (x_is_a ? 0 : padded_plane * C) + (pointwise || implicit ? 0 : P * Kg) +
                            (layout.y_nhwc ? 0 : P * M * static_cast<int64_t>(esz));
  const int64_t budget = (768 << 10) * std::max(threads, 1);
  const int64_t chunk = std::clamp<int64_t>(budget / std::max<int64_t>(per_image, 1),
                                            std::min<int64_t>(std::max(threads, 1), g.batch), g.batch);
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, g.batch - n0), rows = nb * P;
    auto* yb = static_cast<uint8_t*>(y) + static_cast<size_t>(n0 * M * P) * esz;
    const uint8_t* xt = x + n0 * g.in_plane() * C;  // x_is_a: x itself
    if (!x_is_a) {
      uint8_t* xw = scratch(xt_buf, static_cast<size_t>(nb * padded_plane * C) + 64);  // spare bytes: im2col moves
      parallel_tasks(nb, threads, [&](int64_t i) {
        static thread_local std::vector<uint8_t> tmp;
        const uint8_t* xi = x + (n0 + i) * C * g.in_plane();
        uint8_t* di = xw + i * padded_plane * C;
        if (layout.x_nhwc) nhwc_to_padded(g, xi, x_zp, di);
        else to_padded_nhwc(g, transpose, xi, x_zp, di, tmp);
      });
      xt = xw;
    }
    uint8_t* ct = layout.y_nhwc ? yb : scratch(c_buf, static_cast<size_t>(rows * M) * esz);
    if (implicit) {  // patches read in place from the padded input: no im2col matrix
      qconv_implicit_gemm(k, g, xt, nb, x_zp, w.implicit, out, ct, esz, threads);
    } else {
      for (int64_t grp = 0; grp < G; ++grp) {
        uint8_t* a_w = pointwise ? nullptr : scratch(a_buf, static_cast<size_t>(rows * Kg));
        const uint8_t* a = pointwise ? xt : a_w;
        if (!pointwise) {
          // One task per output row (image, od, oh); no divisions in the inner loop.
          const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
          parallel_tasks(nb * OD * OH, rows * Kg > 32768 ? threads : 1, [&](int64_t t) {
            const int64_t n = t / (OD * OH), od = (t / OH) % OD, oh = t % OH;
            const uint8_t* xn = xt + n * padded_plane * C;
            if (k.isa >= Isa::avx512) qconv_im2col_row__avx512(g, xn, grp, od, oh, Kg, a_w + (t * OW) * Kg);
            else im2col_output_row(g, xn, grp, od, oh, Kg, a_w + (t * OW) * Kg);
          });
        }
        QgemmOutputStage st = out;
        if (st.bias) st.bias += grp * Mg;
        if (st.scale) st.scale += grp * Mg;
        if (st.bias_f32) st.bias_f32 += grp * Mg;
        qgemm_u8s8(k, static_cast<size_t>(rows), a, static_cast<size_t>(pointwise ? C : Kg), x_zp, w.groups[grp], st,
                   ct + static_cast<size_t>(grp * Mg) * esz, static_cast<size_t>(M), threads);
      }
    }
    if (layout.y_nhwc) continue;  // the products are y's rows
    // ct [rows][M] → y [n][M][P]
    if (esz == 1) {
      parallel_tasks(nb, rows * M > 65536 ? threads : 1, [&](int64_t n) {
        transpose(ct + static_cast<size_t>(n * P * M), static_cast<size_t>(M), yb + static_cast<size_t>(n * M * P),
                  static_cast<size_t>(P), static_cast<size_t>(P), static_cast<size_t>(M));
      });
      continue;
    }
    parallel_tasks(nb * M, rows * M > 65536 ? threads : 1, [&](int64_t i) {
      const int64_t n = i / M, m = i % M;
      uint8_t* dst = yb + static_cast<size_t>((n * M + m) * P) * esz;
      const uint8_t* src = ct + static_cast<size_t>((n * P) * M + m) * esz;
      for (int64_t p = 0; p < P; ++p) std::memcpy(dst + p * 4, src + p * M * 4, 4);
    });
  }
}

std::span<const QconvDwKernel> qconv_dw_kernels() { return kQconvDwKernels; }

const QconvDwKernel& qconv_dw_kernel(Isa isa) { return kernel_for_isa(kQconvDwKernels, isa); }

bool qconv_is_depthwise(const ConvGeom& g) {
  return g.group > 1 && g.group == g.in_channels && g.group == g.out_channels;
}

bool qconv_dw_applies(const ConvGeom& g, const QgemmOutputStage& out) {
  return qconv_is_depthwise(g) && g.in[0] == 1 && g.kernel[0] == 1 && g.out[0] == 1 &&
         (out.type == QgemmOut::u8 || out.type == QgemmOut::s8);
}

void qconv_dw_u8s8(const QconvDwKernel& k, const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                   const QgemmOutputStage& out, void* y, int threads) {
  const int64_t C = g.in_channels, esz = static_cast<int64_t>(out_bytes(out.type));
  const int64_t cb = std::max<int64_t>(1, std::min<int64_t>(C, 16384 / std::max<int64_t>(g.out_plane(), 1)));
  const int64_t blocks = (C + cb - 1) / cb, tasks = g.batch * blocks;
  parallel_tasks(tasks, threads, [&](int64_t t) {
    const int64_t n = t / blocks, c0 = (t % blocks) * cb, c1 = std::min(C, c0 + cb);
    k.fn(g, x + n * C * g.in_plane(), x_zp, w, out, static_cast<uint8_t*>(y) + n * C * g.out_plane() * esz, c0, c1);
  });
}

void qconv_dw_u8s8_channels_last(Isa isa, const ConvGeom& g, const uint8_t* x, int32_t x_zp, const int8_t* w,
                                 const QgemmOutputStage& out, void* y, int threads) {
  QF_CHECK(out_bytes(out.type) == 1);
  static thread_local std::vector<uint8_t> xb, yb;
  const TransposeU8Fn transpose = transpose_u8_kernel(isa);
  const int64_t C = g.in_channels, IP = g.in_plane(), OP = g.out_plane();
  uint8_t* xc = scratch(xb, static_cast<size_t>(g.batch * C * IP));
  uint8_t* yc = scratch(yb, static_cast<size_t>(g.batch * C * OP));
  const auto z = [](int64_t v) { return static_cast<size_t>(v); };
  auto* yo = static_cast<uint8_t*>(y);
  parallel_tasks(g.batch, threads, [&](int64_t n) { transpose(x + n * IP * C, z(C), xc + n * C * IP, z(IP), z(IP), z(C)); });
  const QconvDwKernel& k = qconv_dw_applies(g, out) ? qconv_dw_kernel(isa) : kQconvDwKernels[0];
  qconv_dw_u8s8(k, g, xc, x_zp, w, out, yc, threads);
  parallel_tasks(g.batch, threads, [&](int64_t n) { transpose(yc + n * C * OP, z(OP), yo + n * OP * C, z(C), z(C), z(OP)); });
}

QconvDwPlane qconv_dw_plane_dims(const ConvGeom& g, int64_t slack) {
  QconvDwPlane p;
  p.rows = g.in[1] + g.pad_begin[1] + g.pad_end[1];
  p.row_len = g.out[2] + ((g.kernel[2] - 1) * g.dilation[2]) / g.stride[2] + slack;
  return p;
}

// The whole plane set to x_zp with one memset, then each input row's bytes copied into its phases.
// N.B. the geometry is read into locals (byte stores alias the ConvGeom fields).
void qconv_dw_fill_plane(const ConvGeom& g, const QconvDwPlane& p, const uint8_t* xc, uint8_t x_zp, uint8_t* dst) {
  const int64_t sw = g.stride[2], W = g.in[2], pl = g.pad_begin[2], H = g.in[1], pt = g.pad_begin[1];
  const int64_t rows = p.rows, row_len = p.row_len;
  std::memset(dst, x_zp, static_cast<size_t>(rows * sw * row_len));
  const int64_t r0 = std::max<int64_t>(pt, 0), r1 = std::min(rows, pt + H);
  for (int64_t f = 0; f < sw; ++f) {
    // Columns j with iw = j*sw + f - pl in [0, W): [lo, hi) (the same for every row).
    const int64_t lo = std::min(row_len, std::max<int64_t>(0, (pl - f + sw - 1) / sw));
    int64_t hi = std::min(row_len, std::max(lo, (W - 1 + pl - f) / sw + 1));
    if (W - 1 + pl - f < 0) hi = lo;
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t* d = dst + (r * sw + f) * row_len;
      const uint8_t* src = xc + (r - pt) * W + f - pl;
      if (sw == 1) std::memcpy(d + lo, src + lo, static_cast<size_t>(hi - lo));
      else if (sw == 2)
        for (int64_t j = lo; j < hi; ++j) d[j] = src[j * 2];  // a constant stride vectorises
      else
        for (int64_t j = lo; j < hi; ++j) d[j] = src[j * sw];
    }
  }
}

}  // namespace qforge::runtime
