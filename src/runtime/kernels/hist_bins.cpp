#include "runtime/kernels/hist_bins.h"

namespace qforge::runtime {

namespace {
constexpr HistBinsKernel kHistBinsKernels[] = {
    {"hist_bins_f32__ref", hist_bins_f32__ref, Isa::ref},
    {"hist_bins_f32__avx2", hist_bins_f32__avx2, Isa::avx2},
    {"hist_bins_f32__avx512", hist_bins_f32__avx512, Isa::avx512},
};
}  // namespace

std::span<const HistBinsKernel> hist_bins_kernels() { return kHistBinsKernels; }

const HistBinsKernel& hist_bins_kernel() { return kernel_for_isa(kHistBinsKernels, active_isa()); }

}  // namespace qforge::runtime
