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

double kl_sum_f64(const double* p, const double* q, int64_t n, double e1p, double e1q) {
  const Isa isa = active_isa();
  const KlSumKernel* best = &kKlSumKernels[0];
  for (const KlSumKernel& k : kKlSumKernels)
    if (k.isa <= isa) best = &k;
  return best->fn(p, q, n, e1p, e1q);
}

}  // namespace qforge::runtime
