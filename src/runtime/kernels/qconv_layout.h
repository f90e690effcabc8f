// Byte transposes for the layout changes around the INT8 im2col convolution (NCHW activations in,
// channels-last patches, [positions][channels] products back to NCHW):
//   dst[j * dst_stride + i] = src[i * src_stride + j]    for i < rows, j < cols
// Pure byte movement, so every version equals the reference exactly. The AVX2 / AVX-512 versions
// move 16×16 blocks through registers (SSE unpacks); blocks at the right / bottom edge overlap the
// previous block instead of falling back to single bytes (needs rows, cols >= 16; smaller matrices
// go scalar).
// src and dst must not overlap.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/cpu.h"

namespace qforge::runtime {

using TransposeU8Fn = void (*)(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride,
                               size_t rows, size_t cols);

void transpose_u8__ref(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                       size_t cols);
void transpose_u8__avx2(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                        size_t cols);
void transpose_u8__avx512(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                          size_t cols);

// The fastest version at most `isa`.
TransposeU8Fn transpose_u8_kernel(Isa isa);

}  // namespace qforge::runtime
