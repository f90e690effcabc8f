// AVX-512 version of the INT8 im2col output row (qconv.cpp: im2col_output_row, same layout and
// contract): runs are moved 64 bytes at a time. A run of at most 64 bytes (or the tail of a longer
// one) is one 64-byte move that spills into the bytes written next while at least 64 bytes of this
// call's rows remain; closer to the end the move is masked. The source buffer has 64 spare bytes
// at its end.
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/qconv.h"

namespace qforge::runtime {

namespace {

inline void move64(uint8_t* d, const uint8_t* s) { _mm512_storeu_si512(d, _mm512_loadu_si512(s)); }

inline void move_masked(uint8_t* d, const uint8_t* s, int64_t n) {  // n <= 64
  const __mmask64 m = n >= 64 ? ~__mmask64(0) : (__mmask64(1) << n) - 1;
  _mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, s));
}

}  // namespace

void qconv_im2col_row__avx512(const ConvGeom& g, const uint8_t* xt, int64_t grp, int64_t od, int64_t oh, int64_t Kg,
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
          const uint8_t* s = row + r * dwC;
          int64_t i = 0;
          for (; run - i > 64; i += 64) move64(d + i, s + i);
          if (end - (d + i) >= 64) move64(d + i, s + i);  // the last <= 64 bytes, spilling forward
          else move_masked(d + i, s + i, run - i);
        }
      }
  }
}

}  // namespace qforge::runtime
