#include "runtime/kernels/qconv_layout.h"

namespace qforge::runtime {

void transpose_u8__ref(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                       size_t cols) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) dst[j * dst_stride + i] = src[i * src_stride + j];
}

TransposeU8Fn transpose_u8_kernel(Isa isa) {
  return isa >= Isa::avx512 ? transpose_u8__avx512 : isa >= Isa::avx2 ? transpose_u8__avx2 : transpose_u8__ref;
}

}  // namespace qforge::runtime
