// percentile: ONNX Runtime's HistogramCollector.compute_percentile (onnxruntime/quantization/calibrate.py).
//   asymmetric: cut = (100 - p) / 200; idx_left = first bin whose cumulative fraction >= cut,
//               idx_right = first bin whose cumulative fraction >= 1 - cut; range (edge[idx_left],
//               edge[idx_right]) — both LOWER edges, as ORT indexes hist_edges.
//   symmetric:  over the histogram of |x|: idx = first bin with cumulative fraction >= p / 100;
//               range (-edge[idx], edge[idx]).
// Then each end is clamped to the observed [min, max].
#include <algorithm>

#include "quant/histogram.h"

namespace qforge::quant {
namespace {

// np.searchsorted(cumsum(hist / total), target): the first index whose cumulative fraction >= target.
int64_t search_cdf(const std::vector<int64_t>& counts, int64_t total, double target) {
  int64_t acc = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    acc += counts[i];
    if (static_cast<double>(acc) / static_cast<double>(total) >= target) return static_cast<int64_t>(i);
  }
  return static_cast<int64_t>(counts.size());
}

class PercentileObserver final : public HistogramObserver {
 public:
  PercentileObserver(const std::string& tensor, const ObserverOptions& o)
      : HistogramObserver(tensor, o.scheme.symmetric ? 2 * o.bins : o.bins),
        percentile_(o.percentile),
        symmetric_(o.scheme.symmetric) {}

  Range compute() const override {
    fail_if_empty();
    double lo, hi;
    if (symmetric_) {
      const int64_t idx = search_cdf(hist_.folded_counts(), hist_.total(), percentile_ / 100.0);
      hi = idx * hist_.width();
      lo = -hi;
    } else {
      const double cut = (100.0 - percentile_) / 200.0;
      lo = hist_.edge(search_cdf(hist_.counts(), hist_.total(), cut));
      hi = hist_.edge(search_cdf(hist_.counts(), hist_.total(), 1.0 - cut));
    }
    Range r{static_cast<float>(lo), static_cast<float>(hi)};
    if (r.min < hist_.min()) r.min = hist_.min();
    if (r.max > hist_.max()) r.max = hist_.max();
    return r;
  }

 private:
  double percentile_;
  bool symmetric_;
};

}  // namespace

std::unique_ptr<Observer> make_percentile_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<PercentileObserver>(tensor, opts);
}

}  // namespace qforge::quant
