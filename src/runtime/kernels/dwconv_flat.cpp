#include "runtime/kernels/dwconv_flat.h"

#include "runtime/kernels/dwconv.h"

namespace qforge::runtime {

// Output rows up to this long. N.B. stride 2 is slower than the row kernel (1.1-1.5x on the
// mobilenet planes, Zen 5, with a scalar or a vpermt2ps phase copy alike), so it stays there.
constexpr int64_t kDwConvFlatMaxOw = 32;

bool dwconv_flat_applies(Isa isa, const ConvGeom& g) {
  if (isa != Isa::avx512 || !dwconv_applies(g)) return false;
  if (g.stride[1] != 1 || g.stride[2] != 1 || g.kernel_size() > 64) return false;
  return g.out[2] <= kDwConvFlatMaxOw;
}

}  // namespace qforge::runtime
