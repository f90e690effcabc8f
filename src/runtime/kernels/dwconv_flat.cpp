#include "runtime/kernels/dwconv_flat.h"

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

// Output rows up to this long. N.B. stride 2 is slower than the row kernel (the strided phase
// copy costs more than the masks it saves), measured on Zen 5 with mobilenet-like planes.
constexpr int64_t kDwConvFlatMaxOw = 32;

bool dwconv_flat_applies(Isa isa, const ConvGeom& g) {
  if (isa != Isa::avx512 || !dwconv_applies(g)) return false;
  if (g.stride[1] != 1 || g.stride[2] != 1 || g.kernel_size() > 64) return false;
  return g.out[2] <= kDwConvFlatMaxOw;
}

}  // namespace qforge::runtime
