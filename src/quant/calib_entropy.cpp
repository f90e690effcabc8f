// entropy: ONNX Runtime's HistogramCollector.get_entropy_threshold (onnxruntime/quantization/
// calibrate.py, after TensorRT's "8-bit inference with TensorRT", GTC 2017), step for step:
//   N bins, zero bin z = N/2, h = quantized_bins / 2. For i = h .. z:
//     window [z - i, min(z + i + 1, N)); p = the window's counts with everything left of it added to p[0]
//     and everything right of it to p[-1]; the window's own counts (without outliers) are merged into
//     quantized_bins groups of m = size / quantized_bins bins (the remainder joins the last group);
//     q spreads each group's count evenly, truncated to an integer as ORT's int64 array does, over the m
//     bins of the group (whether or not p is zero there; the remainder bins keep q = 0);
//     p and q are smoothed (zeros become eps = 1e-4, the non-zeros lose eps * zeros / nonzeros) and
//     normalised; KL(p || q) = sum p log(p / q).
//   The window with the smallest divergence (the first on ties) gives (edge[start], edge[end]), clamped
//   to the observed [min, max].
// Computed in double where ORT uses float32, so near-ties may pick a neighbouring window.
#include <algorithm>
#include <cmath>
#include <limits>

#include "quant/histogram.h"

namespace qforge::quant {
namespace {

// ORT's smooth_distribution; false when every entry is zero (ORT returns None → divergence inf).
bool smooth(std::vector<double>& d) {
  int64_t zeros = 0;
  for (double v : d) zeros += v == 0;
  const int64_t nonzeros = static_cast<int64_t>(d.size()) - zeros;
  if (nonzeros == 0) return false;
  const double eps = 1e-4, eps1 = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (double& v : d) v = v == 0 ? eps : v - eps1;
  return true;
}

double kl_divergence(std::vector<double>& p, std::vector<double>& q) {
  if (!smooth(p) || !smooth(q)) return std::numeric_limits<double>::infinity();
  double sp = 0, sq = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    sp += p[k];
    sq += q[k];
  }
  double s = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    const double pk = p[k] / sp, qk = q[k] / sq;
    if (pk > 0) s += pk * std::log(pk / qk);
  }
  return s;
}

class EntropyObserver final : public HistogramObserver {
 public:
  EntropyObserver(const std::string& tensor, const ObserverOptions& o)
      : HistogramObserver(tensor, o.bins), quantized_bins_(o.quantized_bins) {}

  Range compute() const override {
    fail_if_empty();
    const std::vector<int64_t>& hist = hist_.counts();
    const int64_t n = hist_.bins(), zero_bin = n / 2, half_q = quantized_bins_ / 2, nq = quantized_bins_;
    std::vector<int64_t> prefix(static_cast<size_t>(n + 1), 0);
    for (int64_t j = 0; j < n; ++j) prefix[j + 1] = prefix[j] + hist[j];

    double best = std::numeric_limits<double>::infinity();
    int64_t best_start = 0, best_end = n;
    bool found = false;
    std::vector<double> p, q;
    std::vector<int64_t> quantized(static_cast<size_t>(nq));
    for (int64_t i = half_q; i <= zero_bin; ++i) {
      const int64_t start = zero_bin - i, end = std::min(zero_bin + i + 1, n), size = end - start;
      p.assign(hist.begin() + start, hist.begin() + end);
      p.front() += static_cast<double>(prefix[start]);
      p.back() += static_cast<double>(prefix[n] - prefix[end]);

      const int64_t merged = size / nq;
      for (int64_t g = 0; g < nq; ++g) quantized[g] = prefix[start + (g + 1) * merged] - prefix[start + g * merged];
      quantized[nq - 1] += prefix[end] - prefix[start + nq * merged];

      q.assign(static_cast<size_t>(size), 0.0);
      for (int64_t g = 0; g < nq; ++g) {
        const int64_t b = g * merged, e = b + merged;
        int64_t norm = 0;
        for (int64_t k = b; k < e; ++k) norm += p[k] != 0;
        if (norm == 0) continue;
        const auto level = static_cast<double>(quantized[g] / norm);  // ORT: int64 array, truncated
        for (int64_t k = b; k < e; ++k) q[k] = level;
      }
      const double div = kl_divergence(p, q);
      if (!found || div < best) {
        best = div;
        best_start = start;
        best_end = end;
        found = true;
      }
    }
    Range r{static_cast<float>(hist_.edge(best_start)), static_cast<float>(hist_.edge(best_end))};
    if (r.min < hist_.min()) r.min = hist_.min();
    if (r.max > hist_.max()) r.max = hist_.max();
    return r;
  }

 private:
  int64_t quantized_bins_;
};

}  // namespace

std::unique_ptr<Observer> make_entropy_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<EntropyObserver>(tensor, opts);
}

}  // namespace qforge::quant
