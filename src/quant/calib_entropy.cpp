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
//
// Two departures from ORT's defaults, both because ORT's model of the quantizer does not match the
// quantizer that follows (measured in docs/quantization.md, "qforge vs ONNX Runtime"):
//   - quantized_bins = 0 (the default) means the levels the scheme really has, 2^bits (256 for u8),
//     instead of a fixed 128: with 128 the search models a 7-bit quantizer and clips too much.
//   - A tensor that never went negative (after ReLU, Clip(0, 6), Sigmoid) is quantized over [0, t]
//     with all its levels, so the windows are one-sided, [z, z + i) for i = quantized_bins .. N/2;
//     ORT's symmetric windows would spend half the levels on the empty negative side. The bin of 0
//     takes its neighbour's count first (as NVIDIA's pytorch-quantization does): a ReLU's many exact
//     zeros are quantized exactly by any [0, t], but as a spike in p they make every window whose
//     first group merges bins look bad, and the search would settle on the narrowest window.
//   - q also spreads the last group's count over the remainder bins (as TensorRT's and MXNet's
//     reference does); ORT leaves q = 0 there, which makes every window whose size is not a multiple
//     of quantized_bins look bad once the folded outliers sit in its last bin, so ORT's thresholds
//     snap to multiples of quantized_bins bins.
// With an explicit quantized_bins the search is exactly ORT's.
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
      : HistogramObserver(tensor, o.bins), quantized_bins_(o.quantized_bins), scheme_(o.scheme) {}

  Range compute() const override {
    fail_if_empty();
    const int64_t n = hist_.bins(), zero_bin = n / 2;
    const bool one_sided = quantized_bins_ == 0 && hist_.min() >= 0;
    std::vector<int64_t> hist = hist_.counts();
    if (one_sided && zero_bin + 1 < n) hist[zero_bin] = hist[zero_bin + 1];
    const int64_t levels = int64_t{1} << dtype_bits(scheme_.format);
    const int64_t nq = quantized_bins_ > 0 ? quantized_bins_ : std::min(levels, n / 2);
    std::vector<int64_t> prefix(static_cast<size_t>(n + 1), 0);
    for (int64_t j = 0; j < n; ++j) prefix[j + 1] = prefix[j] + hist[j];

    double best = std::numeric_limits<double>::infinity();
    int64_t best_start = 0, best_end = n;
    bool found = false;
    Scratch scratch;
    auto consider = [&](int64_t start, int64_t end) {
      const double div = quantized_bins_ == 0 ? divergence_fractional(hist, prefix, start, end, nq, scratch)
                                              : divergence(hist, prefix, start, end, nq, scratch);
      if (!found || div < best) {
        best = div;
        best_start = start;
        best_end = end;
        found = true;
      }
    };
    if (one_sided) {
      for (int64_t i = std::min(nq, n - zero_bin); i <= n - zero_bin; ++i) consider(zero_bin, zero_bin + i);
    } else {
      for (int64_t i = nq / 2; i <= zero_bin; ++i) consider(zero_bin - i, std::min(zero_bin + i + 1, n));
    }
    Range r{static_cast<float>(hist_.edge(best_start)), static_cast<float>(hist_.edge(best_end))};
    if (r.min < hist_.min()) r.min = hist_.min();
    if (r.max > hist_.max()) r.max = hist_.max();
    return r;
  }

 private:
  struct Scratch {
    std::vector<double> p, q;
    std::vector<int64_t> quantized;
  };

  // KL(p || q) of the window [start, end) (outside counts folded into its end bins) quantized to nq
  // levels of whole bins, ORT's algorithm as in the comment at the top.
  static double divergence(const std::vector<int64_t>& hist, const std::vector<int64_t>& prefix, int64_t start,
                           int64_t end, int64_t nq, Scratch& s) {
    const int64_t n = static_cast<int64_t>(hist.size()), size = end - start;
    s.p.assign(hist.begin() + start, hist.begin() + end);
    s.p.front() += static_cast<double>(prefix[start]);
    s.p.back() += static_cast<double>(prefix[n] - prefix[end]);

    const int64_t merged = size / nq;
    s.quantized.assign(static_cast<size_t>(nq), 0);
    for (int64_t g = 0; g < nq; ++g) s.quantized[g] = prefix[start + (g + 1) * merged] - prefix[start + g * merged];
    s.quantized[nq - 1] += prefix[end] - prefix[start + nq * merged];

    s.q.assign(static_cast<size_t>(size), 0.0);
    for (int64_t g = 0; g < nq; ++g) {
      const int64_t b = g * merged, e = b + merged;
      int64_t norm = 0;
      for (int64_t k = b; k < e; ++k) norm += s.p[k] != 0;
      if (norm == 0) continue;
      const auto level = static_cast<double>(s.quantized[g] / norm);  // ORT: int64 array, truncated
      for (int64_t k = b; k < e; ++k) s.q[k] = level;
    }
    return kl_divergence(s.p, s.q);
  }

  // The same with levels of exactly w = size / nq bins (fractional merging): level g covers the bin
  // interval [g·w, (g + 1)·w), a bin straddling two levels gives each the share of its count that
  // falls inside (values uniform within a bin). q spreads each level's count over the non-empty bins
  // of p in proportion to their overlap with the level (TensorRT's q: zero where p is zero; mass kept).
  static double divergence_fractional(const std::vector<int64_t>& hist, const std::vector<int64_t>& prefix,
                                      int64_t start, int64_t end, int64_t nq, Scratch& s) {
    const int64_t n = static_cast<int64_t>(hist.size()), size = end - start;
    s.p.assign(hist.begin() + start, hist.begin() + end);
    s.p.front() += static_cast<double>(prefix[start]);
    s.p.back() += static_cast<double>(prefix[n] - prefix[end]);
    s.q.assign(static_cast<size_t>(size), 0.0);
    const double w = static_cast<double>(size) / static_cast<double>(nq);
    int64_t k0 = 0;  // first bin overlapping the current level
    for (int64_t g = 0; g < nq; ++g) {
      const double lo = g * w, hi = g == nq - 1 ? static_cast<double>(size) : (g + 1) * w;
      const auto k1 = std::min<int64_t>(size, static_cast<int64_t>(std::ceil(hi)));  // one past the last
      double count = 0, support = 0;
      for (int64_t k = k0; k < k1; ++k) {
        const double ov = std::min<double>(k + 1, hi) - std::max<double>(k, lo);
        count += ov * static_cast<double>(hist[start + k]);  // the window's own counts, not the outliers
        if (s.p[k] != 0) support += ov;
      }
      if (support > 0) {
        const double density = count / support;
        for (int64_t k = k0; k < k1; ++k) {
          if (s.p[k] == 0) continue;
          s.q[k] += density * (std::min<double>(k + 1, hi) - std::max<double>(k, lo));
        }
      }
      k0 = std::max<int64_t>(k0, static_cast<int64_t>(std::floor(hi)));
      if (k0 >= size) break;
    }
    return kl_divergence(s.p, s.q);
  }

  int64_t quantized_bins_;  // 0: the scheme's levels
  QScheme scheme_;
};

}  // namespace

std::unique_ptr<Observer> make_entropy_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<EntropyObserver>(tensor, opts);
}

}  // namespace qforge::quant
