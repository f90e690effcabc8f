// mse: the clipping range that minimises the expected squared fake-quantization error of the observed
// distribution under the target scheme (options.scheme).
//
// Error of a candidate range [lo, hi]: its scale and zero point come from choose_scale_zero_point (the
// one policy, quant/qparams.h); every histogram bin, narrowed to the observed [min, max], is taken as
// uniform between its ends, and its error is count / width * integral of (x - fq(x))^2 over the bin,
// where fq = dequantize(quantize(x)) is constant between the midpoints of consecutive code values (the
// round-to-nearest boundaries) and clamps outside [qmin, qmax]. A bin of zero width is a point mass.
// Search:
//   symmetric schemes: ±t for t = every bin edge in (0, max|x|) and max|x| itself; the smallest error wins
//     (the widest on ties).
//   asymmetric: start at [min, max]; coordinate descent over bin edges: the best high end for the
//     current low end, then the best low end for that high end, until neither moves (at most 4 rounds).
//     (A greedy one-bin-at-a-time shrink, as torch's HistogramObserver does, stalls when one tail is
//     thin and the other holds a far outlier: it eats the thin tail instead of dropping the outlier.)
#include <algorithm>
#include <cmath>

#include "quant/histogram.h"
#include "quant/quantize.h"

namespace qforge::quant {
namespace {

double segment_error(double a, double b, double v) {
  return ((b - v) * (b - v) * (b - v) - (a - v) * (a - v) * (a - v)) / 3.0;
}

class MseObserver final : public HistogramObserver {
 public:
  MseObserver(const std::string& tensor, const ObserverOptions& o)
      : HistogramObserver(tensor, o.bins), scheme_(o.scheme) {}

  Range compute() const override {
    fail_if_empty();
    const double mn = hist_.min(), mx = hist_.max();
    if (mn == mx) return {hist_.min(), hist_.max()};
    double best_lo = mn, best_hi = mx, best = error(mn, mx);
    const double w = hist_.width();
    if (scheme_.symmetric) {
      const double amax = std::max(std::fabs(mn), std::fabs(mx));
      for (int64_t j = static_cast<int64_t>(std::ceil(amax / w)) - 1; j >= 1; --j) {
        const double c = j * w;
        if (c >= amax) continue;
        const double e = error(-c, c);
        if (e < best) {
          best = e;
          best_lo = -c;
          best_hi = c;
        }
      }
      const Range r{static_cast<float>(best_lo), static_cast<float>(best_hi)};
      // Only the half the data occupies matters for the table: clamp to the observed extremes.
      return {std::max(r.min, hist_.min()), std::min(r.max, hist_.max())};
    }
    // Coordinate descent: the best high end for the current low end over every candidate, then the best
    // low end for that high end, and so on until neither moves (at most kRounds rounds).
    const int64_t n = hist_.bins();
    constexpr int kRounds = 4;
    for (int round = 0; round < kRounds; ++round) {
      bool moved = false;
      for (int64_t j = n - 1; j >= 1; --j) {  // high ends: edges in (lo, mx), widest first
        const double c = hist_.edge(j);
        if (c >= mx || c <= best_lo) continue;
        const double e = error(best_lo, c);
        if (e < best) {
          best = e;
          best_hi = c;
          moved = true;
        }
      }
      for (int64_t j = 1; j < n; ++j) {  // low ends: edges in (mn, hi), widest first
        const double c = hist_.edge(j);
        if (c <= mn || c >= best_hi) continue;
        const double e = error(c, best_hi);
        if (e < best) {
          best = e;
          best_lo = c;
          moved = true;
        }
      }
      if (!moved) break;
    }
    return {static_cast<float>(best_lo), static_cast<float>(best_hi)};
  }

 private:
  // Expected squared error (times the sample count) of fake-quantizing the histogram with [lo, hi].
  double error(double lo, double hi) const {
    const ScaleZeroPoint sz = choose_scale_zero_point(lo, hi, scheme_, tensor_);
    const QRange qr = qrange(scheme_.format, scheme_.symmetric, scheme_.reduced_range);
    const auto quant = [&](double x) {
      return quantize_value(static_cast<float>(x), sz.scale, sz.zero_point, qr.qmin, qr.qmax);
    };
    const auto deq = [&](int64_t q) { return static_cast<double>(dequantize_value(q, sz.scale, sz.zero_point)); };
    const std::vector<int64_t>& counts = hist_.counts();
    const double mn = hist_.min(), mx = hist_.max();
    double total = 0;
    for (int64_t b = 0; b < hist_.bins(); ++b) {
      if (counts[b] == 0) continue;
      const double a = std::max(hist_.edge(b), mn), e = std::min(hist_.edge(b + 1), mx);
      const auto c = static_cast<double>(counts[b]);
      if (!(e > a)) {
        const double d = a - deq(quant(a));
        total += c * d * d;
        continue;
      }
      const int32_t qa = quant(a), qb = quant(e);
      double sum = 0;
      for (int32_t qc = qa; qc <= qb; ++qc) {
        const double v = deq(qc);
        const double s0 = qc == qa ? a : 0.5 * (deq(qc - 1) + v);
        const double s1 = qc == qb ? e : 0.5 * (v + deq(qc + 1));
        if (s1 > s0) sum += segment_error(s0, s1, v);
      }
      total += c / (e - a) * sum;
    }
    return total;
  }

  QScheme scheme_;
};

}  // namespace

std::unique_ptr<Observer> make_mse_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<MseObserver>(tensor, opts);
}

}  // namespace qforge::quant
