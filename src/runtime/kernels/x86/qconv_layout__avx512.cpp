// AVX-512-level byte transpose: the AVX2 code (x86/qconv_layout_block.h) with the 32 xmm registers of
// AVX-512VL, so the 16 rows and their 16 unpacked successors stay in registers.
#include "runtime/kernels/qconv_layout.h"
#include "runtime/kernels/x86/qconv_layout_block.h"

namespace qforge::runtime {

void transpose_u8__avx512(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                        size_t cols) {
  if (rows < 16 || cols < 16) {
    transpose_u8__ref(src, src_stride, dst, dst_stride, rows, cols);
    return;
  }
  x86::transpose_u8_blocks(src, src_stride, dst, dst_stride, rows, cols);
}

}  // namespace qforge::runtime
