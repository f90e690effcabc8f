// Fixed-point multipliers (formulas and rounding in requantize.h).
#include "quant/requantize.h"

#include <cmath>

#include "core/error.h"

namespace qforge::quant {

QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  QF_CHECK(std::isfinite(real_multiplier) && real_multiplier >= 0, "quantize_multiplier: bad multiplier");
  if (real_multiplier == 0) return {};
  int exp = 0;
  const double frac = std::frexp(real_multiplier, &exp);  // real = frac * 2^exp, frac in [0.5, 1)
  int64_t m = std::llround(frac * 2147483648.0);          // frac * 2^31, exact before rounding
  if (m == (int64_t{1} << 31)) {                          // frac rounded up to 1.0
    m >>= 1;
    ++exp;
  }
  if (exp < -31) return {};                               // real < 2^-32
  if (exp > 30) return {INT32_MAX, 30};
  return {static_cast<int32_t>(m), exp};
}

double multiplier_value(QuantizedMultiplier m) { return std::ldexp(static_cast<double>(m.multiplier), m.shift - 31); }

}  // namespace qforge::quant
