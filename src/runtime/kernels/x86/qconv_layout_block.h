// One 16×16 byte transpose through registers, shared by qconv_layout__avx2.cpp and
// qconv_layout__avx512.cpp (each compiles it with its own flags: with AVX-512VL the 32 xmm registers
// hold both r and t, with AVX2 some of them spill). Four rounds of
// "row i ← unpack(lo|hi)_epi8(row i/2, row i/2 + 8)"; each round rotates the 8-bit address
// (row: 4 bits, column: 4 bits) of every byte left by one, so four rounds swap rows and columns.
// N.B. static: each ISA file gets its own copy (an inline function with external linkage compiled
// with two flag sets would be merged by the linker, and the AVX-512 copy could run on an AVX2 CPU).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace qforge::runtime::x86 {

static inline void transpose_u8_block16(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  // N.B. fully unrolled so that r and t live in registers (objdump: 64 punpck per block; no stack
  // traffic with AVX-512VL's 32 xmm, about 20 spills with AVX2's 16).
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

// dst[j][i] = src[i][j] for rows, cols >= 16, in 16×16 blocks; the last block of a row or column
// overlaps the previous one instead of falling back to single bytes.
static inline void transpose_u8_blocks(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                                size_t cols) {
  for (size_t i0 = 0; i0 < rows; i0 += 16) {
    const size_t i = i0 + 16 <= rows ? i0 : rows - 16;
    for (size_t j0 = 0; j0 < cols; j0 += 16) {
      const size_t j = j0 + 16 <= cols ? j0 : cols - 16;
      transpose_u8_block16(src + i * src_stride + j, src_stride, dst + j * dst_stride + i, dst_stride);
    }
  }
}

}  // namespace qforge::runtime::x86
