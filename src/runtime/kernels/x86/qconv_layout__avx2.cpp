// AVX2-level byte transpose (SSE unpacks on 16-byte rows, x86/qconv_layout_block.h).
#include "runtime/kernels/qconv_layout.h"
#include "runtime/kernels/x86/qconv_layout_block.h"

namespace qforge::runtime {

void transpose_u8__avx2(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                        size_t cols) {
  if (rows < 16 || cols < 16) {
    transpose_u8__ref(src, src_stride, dst, dst_stride, rows, cols);
    return;
  }
  x86::transpose_u8_blocks(src, src_stride, dst, dst_stride, rows, cols);
}

}  // namespace qforge::runtime
