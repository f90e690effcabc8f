// AVX2-level byte transpose (SSE2 unpacks on 16-byte rows). One 16×16 block: four rounds of
// "row i ← unpack(lo|hi)_epi8(row i/2, row i/2 + 8)"; each round rotates the 8-bit address
// (row: 4 bits, column: 4 bits) of every byte left by one, so four rounds swap rows and columns.
#include <immintrin.h>

#include "runtime/kernels/qconv_layout.h"

namespace qforge::runtime {

namespace {

inline void block16(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  // N.B. fully unrolled so that r and t live in the 16 xmm registers (checked with objdump: 64 punpck,
  // no stack traffic).
  __m128i r[16], t[16];
  #pragma unroll
  for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * ss));
  #pragma unroll
  for (int round = 0; round < 4; ++round) {
    #pragma unroll
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
      t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
    }
    #pragma unroll
    for (int i = 0; i < 16; ++i) r[i] = t[i];
  }
  #pragma unroll
  for (int i = 0; i < 16; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i * ds), r[i]);
}

}  // namespace

void transpose_u8__avx2(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                        size_t cols) {
  if (rows < 16 || cols < 16) {
    transpose_u8__ref(src, src_stride, dst, dst_stride, rows, cols);
    return;
  }
  for (size_t i0 = 0; i0 < rows; i0 += 16) {
    const size_t i = i0 + 16 <= rows ? i0 : rows - 16;  // the last block overlaps the previous one
    for (size_t j0 = 0; j0 < cols; j0 += 16) {
      const size_t j = j0 + 16 <= cols ? j0 : cols - 16;
      block16(src + i * src_stride + j, src_stride, dst + j * dst_stride + i, dst_stride);
    }
  }
}

}  // namespace qforge::runtime
