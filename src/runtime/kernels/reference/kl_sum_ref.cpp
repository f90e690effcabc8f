// kl_sum_f64__ref: the spec of the kl_sum kernels (kl_sum.h), eight lane accumulators like theirs.
#include "runtime/kernels/kl_sum.h"

namespace qforge::runtime {

double kl_sum_f64__ref(const double* p, const double* q, int64_t n, double e1p, double e1q) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t k = 0; k < n; ++k) {
    const double ps = p[k] != 0 ? p[k] - e1p : kKlEps;
    const double qs = q[k] != 0 ? q[k] - e1q : kKlEps;
    const double term = ps * kl_log_f64(ps / qs);
    acc[k % 8] = acc[k % 8] + term;
  }
  double s = acc[0];
  for (int l = 1; l < 8; ++l) s = s + acc[l];
  return s;
}

}  // namespace qforge::runtime
