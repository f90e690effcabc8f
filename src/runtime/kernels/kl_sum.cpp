#include "runtime/kernels/kl_sum.h"

namespace qforge::runtime {

namespace {
constexpr KlSumKernel kKlSumKernels[] = {
    {"kl_sum_f64__ref", kl_sum_f64__ref, Isa::ref},
    {"kl_sum_f64__avx2", kl_sum_f64__avx2, Isa::avx2},
    {"kl_sum_f64__avx512", kl_sum_f64__avx512, Isa::avx512},
};
}  // namespace

std::span<const KlSumKernel> kl_sum_kernels() { return kKlSumKernels; }

double kl_sum_f64(const double* p, const double* q, int64_t n, double e1p, double e1q) { return kernel_for_isa(kKlSumKernels, active_isa()).fn(p, q, n, e1p, e1q); }

}  // namespace qforge::runtime
