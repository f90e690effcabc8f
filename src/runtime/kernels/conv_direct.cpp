#include "runtime/kernels/conv_direct.h"

namespace qforge::runtime {

bool conv_direct_applies(Isa isa, const ConvGeom& g) {
  if (isa != Isa::avx512 || g.group != 1 || g.in[0] != 1 || g.kernel[0] != 1 || g.out[0] != 1) return false;
  if (g.stride[1] != 1 || g.stride[2] != 1) return false;
  const int64_t wp = g.out[2] + (g.kernel[2] - 1) * g.dilation[2];
  // Dropped columns: at most 1/8 of the computed ones.
  return 8 * (wp - g.out[2]) <= wp && g.kernel_size() <= 64;
}

}  // namespace qforge::runtime
