// A streaming histogram for calibration: a FIXED number of equal bins over a symmetric range [-T, T],
// so memory is bounded by the bin count, never by the number of samples.
//
// Range rule. The first non-empty batch sets T = max|x| (ORT's collect_value). A later batch with
// max|x| > T widens the range to T' = T * 2^k, the smallest power-of-two multiple of T that covers it;
// each new bin then covers exactly 2^k old bins, so the old counts merge without interpolation (old bin j
// goes to new bin (j + N/2 * (2^k - 1)) / 2^k). Resolution is at worst halved compared with knowing the
// final range up front; ORT instead appends bins (unbounded memory), torch interpolates counts.
// While every value seen is 0 (T == 0) the counts sit in the bin of 0, N/2, which stays the bin of 0 when
// the range first becomes non-zero.
// Bin of x: floor((x + T) * N / 2T) clamped to [0, N - 1] (x == T goes to the last bin, like numpy).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "quant/observer.h"

namespace qforge::quant {

class Histogram {
 public:
  explicit Histogram(int64_t bins);  // bins: even, >= 2

  // Adds finite values whose min and max are vmin and vmax (precondition; the caller measured them).
  void add(std::span<const float> values, float vmin, float vmax);

  int64_t bins() const { return static_cast<int64_t>(counts_.size()); }
  const std::vector<int64_t>& counts() const { return counts_; }
  double threshold() const { return threshold_; }       // T
  double width() const { return 2 * threshold_ / bins(); }
  double edge(int64_t i) const { return -threshold_ + i * width(); }  // i in [0, bins]
  int64_t total() const { return total_; }
  // Observed extremes (exact, not bin edges); meaningful when total() > 0.
  float min() const { return min_; }
  float max() const { return max_; }
  // Counts of |x| over [0, T]: bins() / 2 bins of width(), bin j = bins N/2 + j and N/2 - 1 - j.
  std::vector<int64_t> folded_counts() const;

 private:
  void widen(double amax);
  std::vector<int64_t> counts_;
  double threshold_ = 0;
  int64_t total_ = 0;
  float min_ = 0, max_ = 0;
};

// Base of the histogram methods (percentile, entropy, mse): update() streams the batch into a Histogram.
class HistogramObserver : public Observer {
 public:
  void update(const Tensor& v) override;
  const Histogram& histogram() const { return hist_; }

 protected:
  HistogramObserver(const std::string& tensor, int64_t bins) : Observer(tensor), hist_(bins) {}
  Histogram hist_;
};

}  // namespace qforge::quant
