#include "runtime/kernels/minmax.h"

namespace qforge::runtime {

namespace {
constexpr MinMaxKernel kMinMaxKernels[] = {
    {"minmax_f32__ref", minmax_f32__ref, Isa::ref},
    {"minmax_f32__avx2", minmax_f32__avx2, Isa::avx2},
    {"minmax_f32__avx512", minmax_f32__avx512, Isa::avx512},
};
}  // namespace

std::span<const MinMaxKernel> minmax_kernels() { return kMinMaxKernels; }

MinMaxF32 minmax_f32(const float* x, size_t n) { return kernel_for_isa(kMinMaxKernels, active_isa()).fn(x, n); }

}  // namespace qforge::runtime
