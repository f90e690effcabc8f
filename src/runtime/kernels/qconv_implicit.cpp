#include "runtime/kernels/qconv_implicit.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {

bool qconv_implicit_kernel(const QgemmKernel& k, const ConvGeom& g) {
  return k.seg_fn && g.group == 1 && g.kernel[0] == 1 && g.stride[1] == 1 && g.stride[2] == 1 && g.dilation[1] == 1 &&
         g.dilation[2] == 1 && g.kernel[1] * g.kernel[2] > 1 &&
         static_cast<size_t>(g.kernel[1] * qconv_implicit_run(g)) <= kQgemmMaxK;
}

bool qconv_implicit_applies(const QgemmKernel& k, const ConvGeom& g) {
  return qconv_implicit_kernel(k, g) && g.in[0] == 1 && g.out[0] == 1;
}

int64_t qconv_implicit_run(const ConvGeom& g) { return (g.kernel[2] * g.in_channels + 3) / 4 * 4; }

QgemmPackedB pack_qconv_implicit_weights(const QgemmKernel& k, const ConvGeom& g, const int8_t* w) {
  const int64_t C = g.in_channels, M = g.out_channels, KH = g.kernel[1], KW = g.kernel[2], run = qconv_implicit_run(g);
  const int64_t K = KH * run;
  std::vector<int8_t> wr(static_cast<size_t>(M * K), 0);  // [M][K]
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) wr[m * K + kh * run + kw * C + c] = w[((m * C + c) * KH + kh) * KW + kw];
  return pack_weights_s8(k, static_cast<size_t>(K), static_cast<size_t>(M), wr.data(), 1, static_cast<size_t>(K));
}

void qconv_implicit_gemm(const QgemmKernel& k, const ConvGeom& g, const uint8_t* xt, int64_t nb, uint8_t x_zp,
                         const QgemmPackedB& w, const QgemmOutputStage& out, uint8_t* ct, size_t esz, int threads) {
  const int64_t C = g.in_channels, M = g.out_channels, OH = g.out[1], OW = g.out[2];
  const int64_t Hp = g.in[1] + g.pad_begin[1] + g.pad_end[1], Wp = g.in[2] + g.pad_begin[2] + g.pad_end[2];
  const int64_t plane = Hp * Wp * C;
  const int64_t V = (OH - 1) * Wp + OW;  // virtual rows up to the last real output
  const size_t segs = static_cast<size_t>(g.kernel[1]), seg_len = w.K / segs;
  const size_t seg_stride = static_cast<size_t>(Wp * C), MR = k.mr, NR = k.nr;
  const size_t panels = (static_cast<size_t>(M) + NR - 1) / NR;
  const int64_t rb = static_cast<int64_t>(MR) * 8;  // rows per task
  const int64_t blocks = (V + rb - 1) / rb, tasks = nb * blocks;
  parallel_tasks(tasks, threads, [&](int64_t t) {
    const int64_t n = t / blocks, r0 = (t % blocks) * rb, r1 = std::min(V, r0 + rb);
    const uint8_t* xn = xt + n * plane;
    uint8_t* cn = ct + static_cast<size_t>(n * OH * OW * M) * esz;
    alignas(64) uint8_t tile_buf[12 * 64 * 4];  // MR × NR elements of up to 4 bytes
    for (size_t p = 0; p < panels; ++p) {
      const size_t n0 = p * NR, nr = std::min(NR, static_cast<size_t>(M) - n0);
      const int8_t* bp = w.data + p * w.panel_bytes();
      const int32_t* cs = w.col_sums + n0;
      for (int64_t m0 = r0; m0 < r1; m0 += static_cast<int64_t>(MR)) {
        const size_t mr = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(MR), r1 - m0));
        const int64_t oh = m0 / Wp, ow = m0 % Wp;
        const uint8_t* a = xn + m0 * C;
        if (Wp == OW || ow + static_cast<int64_t>(mr) <= OW) {  // real outputs, consecutive rows of ct
          k.seg_fn(mr, nr, seg_len, segs, a, static_cast<size_t>(C), seg_stride, x_zp, bp, cs, out,
                   cn + (static_cast<size_t>((oh * OW + ow) * M) + n0) * esz, static_cast<size_t>(M), n0);
          continue;
        }
        k.seg_fn(mr, nr, seg_len, segs, a, static_cast<size_t>(C), seg_stride, x_zp, bp, cs, out, tile_buf, NR, n0);
        for (size_t r = 0; r < mr; ++r) {
          const int64_t m = m0 + static_cast<int64_t>(r), ohr = m / Wp, owr = m % Wp;
          if (owr >= OW) continue;
          std::memcpy(cn + (static_cast<size_t>((ohr * OW + owr) * M) + n0) * esz, tile_buf + r * NR * esz, nr * esz);
        }
      }
    }
  });
}

}  // namespace qforge::runtime
