// The inner sum of the entropy calibrator's KL divergence (src/quant/calib_entropy.cpp), one table of
// kernels (STYLE §3). With ORT's smoothing (smooth_distribution: zeros become kKlEps, the non-zeros
// lose e1 = kKlEps · zeros / non-zeros, so the total is kept):
//   p~_k = p_k != 0 ? p_k - e1p : kKlEps,   q~_k = q_k != 0 ? q_k - e1q : kKlEps
//   kl_sum = sum_k p~_k · log(p~_k / q~_k)
// Every kernel does the same operations in the same order, so the result is bit-identical on every
// ISA and a calibration table does not depend on the machine: eight lane accumulators (element k adds
// to lane k mod 8), summed lane 0 to 7 at the end; log by fdlibm's e_log.c algorithm (< 1 ulp),
// written without fused multiply-adds.
// Precondition: every p~_k and q~_k is positive and their ratio a normal double.
#pragma once
#include <bit>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::runtime {

inline constexpr double kKlEps = 1e-4;

// fdlibm's log constants: ln 2 split in two, and the minimax coefficients of (log(1+f) - 2s) / s in s².
namespace kl_log {
inline constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
inline constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01,
                        kLg3 = 2.857142874366239149e-01, kLg4 = 2.222219843214978396e-01,
                        kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                        kLg7 = 1.479819860511658591e-01;
inline constexpr double kSqrt2 = 1.41421356237309504880;
inline constexpr uint64_t kMantissa = 0x000fffffffffffffULL, kOneBits = 0x3ff0000000000000ULL;
// (bits >> 52) | kMagicBits read as a double is 2^52 + the biased exponent; minus kMagicBias: the exponent.
inline constexpr uint64_t kMagicBits = 0x4330000000000000ULL;
inline constexpr double kMagicBias = 4503599627370496.0 + 1023.0;
}  // namespace kl_log

// log(x) for a positive normal x: x = 2^e · m, m in (√2/2, √2], f = m - 1, s = f / (2 + f),
// log(1 + f) = f - (hfsq - s (hfsq + R(s²))), hfsq = f²/2 (fdlibm e_log.c). One operation per
// statement, so no compiler fuses a multiply and an add: the SIMD kernels repeat these steps exactly.
inline double kl_log_f64(double x) {
  using namespace kl_log;
  const uint64_t b = std::bit_cast<uint64_t>(x);
  double m = std::bit_cast<double>((b & kMantissa) | kOneBits);
  double e = std::bit_cast<double>((b >> 52) | kMagicBits);
  e = e - kMagicBias;
  const bool big = m > kSqrt2;
  m = big ? m * 0.5 : m;
  e = big ? e + 1.0 : e;
  const double f = m - 1.0;
  double d = 2.0 + f;
  const double s = f / d;
  const double z = s * s;
  const double w = z * z;
  double t1 = w * kLg6;
  t1 = kLg4 + t1;
  t1 = w * t1;
  t1 = kLg2 + t1;
  t1 = w * t1;
  double t2 = w * kLg7;
  t2 = kLg5 + t2;
  t2 = w * t2;
  t2 = kLg3 + t2;
  t2 = w * t2;
  t2 = kLg1 + t2;
  t2 = z * t2;
  const double r = t2 + t1;
  double hfsq = 0.5 * f;
  hfsq = hfsq * f;
  double u = hfsq + r;
  u = s * u;
  d = e * kLn2Lo;
  u = u + d;
  u = hfsq - u;
  u = u - f;
  d = e * kLn2Hi;
  return d - u;
}

using KlSumFn = double (*)(const double* p, const double* q, int64_t n, double e1p, double e1q);

struct KlSumKernel {
  std::string_view name;  // kl_sum_f64__<isa>
  KlSumFn fn;
  Isa isa;
};

double kl_sum_f64__ref(const double* p, const double* q, int64_t n, double e1p, double e1q);
double kl_sum_f64__avx2(const double* p, const double* q, int64_t n, double e1p, double e1q);
double kl_sum_f64__avx512(const double* p, const double* q, int64_t n, double e1p, double e1q);

std::span<const KlSumKernel> kl_sum_kernels();
// The kernel of the active ISA.
double kl_sum_f64(const double* p, const double* q, int64_t n, double e1p, double e1q);

}  // namespace qforge::runtime
