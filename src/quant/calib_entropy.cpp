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
#include "runtime/kernels/kl_sum.h"

namespace qforge::quant {
namespace {

// What the smoothing of p and q needs to know: their zero counts and q's smallest non-zero value.
struct ZeroStats {
  int64_t zp = 0, zq = 0;
  double qmin = std::numeric_limits<double>::infinity();
};

ZeroStats count_zeros(const std::vector<double>& p, const std::vector<double>& q) {
  ZeroStats z;
  for (size_t k = 0; k < p.size(); ++k) {
    z.zp += p[k] == 0;
    z.zq += q[k] == 0;
    if (q[k] != 0 && q[k] < z.qmin) z.qmin = q[k];
  }
  return z;
}

// KL(p || q) of two distributions given as counts, after ORT's smooth_distribution (zeros become
// kKlEps, the non-zeros lose kKlEps · zeros / non-zeros, which keeps the totals sp and sq):
//   sum_k p~_k/sp · log((p~_k/sp) / (q~_k/sq)) = kl_sum / sp + log(sq / sp)
// inf where ORT gives none: p or q all zeros (smooth_distribution returns None), or a q value that
// smoothing would make <= 0 (ORT asserts).
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q, const ZeroStats& z, double sp,
                     double sq) {
  const auto n = static_cast<int64_t>(p.size());
  if (z.zp == n || z.zq == n) return std::numeric_limits<double>::infinity();
  const double e1p = runtime::kKlEps * static_cast<double>(z.zp) / static_cast<double>(n - z.zp);
  const double e1q = runtime::kKlEps * static_cast<double>(z.zq) / static_cast<double>(n - z.zq);
  if (!(z.qmin - e1q > 1e-300)) return std::numeric_limits<double>::infinity();
  const double sum = runtime::kl_sum_f64(p.data(), q.data(), n, e1p, e1q);
  return sum / sp + runtime::kl_log_f64(sq / sp);
}

class EntropyObserver final : public HistogramObserver {
 public:
  EntropyObserver(const std::string& tensor, const ObserverOptions& o)
      : HistogramObserver(tensor, o.bins), quantized_bins_(o.quantized_bins), scheme_(o.scheme) {}

  Range compute() const override {
    fail_if_empty();
    const int64_t n = hist_.bins(), zero_bin = n / 2;
    const bool one_sided = quantized_bins_ == 0 && hist_.min() >= 0;
    Hist h;
    h.counts = hist_.counts();
    if (one_sided && zero_bin + 1 < n) h.counts[zero_bin] = h.counts[zero_bin + 1];
    const int64_t levels = int64_t{1} << dtype_bits(scheme_.format);
    const int64_t nq = quantized_bins_ > 0 ? quantized_bins_ : std::min(levels, n / 2);
    h.prefix.assign(static_cast<size_t>(n + 1), 0);
    h.nonzero.assign(static_cast<size_t>(n + 1), 0);
    for (int64_t j = 0; j < n; ++j) {
      h.prefix[j + 1] = h.prefix[j] + h.counts[j];
      h.nonzero[j + 1] = h.nonzero[j] + (h.counts[j] != 0);
    }

    double best = std::numeric_limits<double>::infinity();
    int64_t best_start = 0, best_end = n;
    bool found = false;
    Scratch scratch;
    auto consider = [&](int64_t start, int64_t end) {
      const double div = quantized_bins_ == 0 ? divergence_fractional(h, start, end, nq, scratch)
                                              : divergence(h, start, end, nq, scratch);
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
    std::vector<int64_t> quantized, edges;  // edges: the first and last bin of every level
  };

  // The histogram as every window reads it: counts (the bin of 0 replaced for one-sided searches), and
  // prefix sums of the counts and of the non-empty bins.
  struct Hist {
    std::vector<int64_t> counts, prefix, nonzero;
    int64_t bins() const { return static_cast<int64_t>(counts.size()); }
  };

  // p: the window's counts with everything left of it added to its first bin and everything right of
  // it to its last.
  static void window_p(const Hist& h, int64_t start, int64_t end, std::vector<double>& p) {
    const int64_t n = h.bins();
    p.assign(h.counts.begin() + start, h.counts.begin() + end);
    p.front() += static_cast<double>(h.prefix[start]);
    p.back() += static_cast<double>(h.prefix[n] - h.prefix[end]);
  }

  // KL(p || q) of the window [start, end) (outside counts folded into its end bins) quantized to nq
  // levels of whole bins, ORT's algorithm as in the comment at the top.
  static double divergence(const Hist& h, int64_t start, int64_t end, int64_t nq, Scratch& s) {
    const int64_t size = end - start;
    window_p(h, start, end, s.p);
    const int64_t merged = size / nq;
    s.quantized.assign(static_cast<size_t>(nq), 0);
    for (int64_t g = 0; g < nq; ++g)
      s.quantized[g] = h.prefix[start + (g + 1) * merged] - h.prefix[start + g * merged];
    s.quantized[nq - 1] += h.prefix[end] - h.prefix[start + nq * merged];

    s.q.assign(static_cast<size_t>(size), 0.0);
    double sq = 0;
    for (int64_t g = 0; g < nq; ++g) {
      const int64_t b = g * merged, e = b + merged;
      int64_t norm = 0;
      for (int64_t k = b; k < e; ++k) norm += s.p[k] != 0;
      if (norm == 0) continue;
      const auto level = static_cast<double>(s.quantized[g] / norm);  // ORT: int64 array, truncated
      for (int64_t k = b; k < e; ++k) s.q[k] = level;
      sq += level * static_cast<double>(merged);
    }
    return kl_divergence(s.p, s.q, count_zeros(s.p, s.q), static_cast<double>(h.prefix[h.bins()]), sq);
  }

  // The same with levels of exactly w = size / nq bins (fractional merging): level g covers the bin
  // interval [g·w, (g + 1)·w), a bin straddling two levels gives each the share of its count that
  // falls inside (values uniform within a bin). q spreads each level's count over the non-empty bins
  // of p in proportion to their overlap with the level (TensorRT's q: zero where p is zero; mass kept).
  // A level's first and last bins may overlap it partly; the bins between lie inside it (overlap 1) and
  // are never the window's end bins, so their counts and non-empty bins come from the prefix sums.
  static double divergence_fractional(const Hist& h, int64_t start, int64_t end, int64_t nq, Scratch& s) {
    const int64_t size = end - start;
    window_p(h, start, end, s.p);
    s.q.assign(static_cast<size_t>(size), 0.0);
    s.edges.clear();
    const double* p = s.p.data();
    double* q = s.q.data();
    const int64_t* c = h.counts.data() + start;
    const int64_t* nz = h.nonzero.data() + start;
    const double w = static_cast<double>(size) / static_cast<double>(nq);
    double sq = 0;
    ZeroStats z;
    bool empty_level = false;  // a level with non-empty bins but no count: q may be 0 where p is not
    int64_t k0 = 0;            // first bin overlapping the current level
    for (int64_t g = 0; g < nq; ++g) {
      const double lo = g * w, hi = g == nq - 1 ? static_cast<double>(size) : (g + 1) * w;
      const auto hi_floor = static_cast<int64_t>(hi);  // hi >= 0: truncation is floor (no libm call)
      const int64_t k1 = std::min<int64_t>(size, hi_floor + (static_cast<double>(hi_floor) < hi));  // ceil(hi)
      const auto overlap = [&](int64_t k) { return std::min<double>(k + 1, hi) - std::max<double>(k, lo); };
      const int64_t last = k1 - 1;
      const double ov0 = overlap(k0), ov1 = last > k0 ? overlap(last) : 0;
      double count = ov0 * static_cast<double>(c[k0]) + ov1 * static_cast<double>(c[last]);
      double support = (p[k0] != 0 ? ov0 : 0) + (p[last] != 0 ? ov1 : 0);
      int64_t inner = 0;  // non-empty bins strictly inside
      if (last > k0 + 1) {  // interior bins k0 + 1 .. last - 1
        count += static_cast<double>(h.prefix[start + last] - h.prefix[start + k0 + 1]);
        inner = nz[last] - nz[k0 + 1];
        support += static_cast<double>(inner);
      }
      if (support > 0) {
        const double density = count / support;
        if (p[k0] != 0) q[k0] += density * ov0;
        for (int64_t k = k0 + 1; k < last; ++k) q[k] = p[k] != 0 ? density : 0.0;
        if (last > k0 && p[last] != 0) q[last] += density * ov1;
        sq += count;
        if (inner > 0 && density < z.qmin) z.qmin = density;
        empty_level |= count == 0;
      }
      s.edges.push_back(k0);
      s.edges.push_back(last);
      k0 = std::max<int64_t>(k0, hi_floor);
      if (k0 >= size) break;
    }
    if (empty_level) return kl_divergence(s.p, s.q, count_zeros(s.p, s.q), static_cast<double>(h.prefix[h.bins()]), sq);
    // Otherwise q is 0 exactly where p is: every non-empty bin got a positive share of a level.
    int64_t nonzero_p = (p[0] != 0) + (size > 1 && p[size - 1] != 0);
    if (size > 2) nonzero_p += nz[size - 1] - nz[1];
    z.zp = z.zq = size - nonzero_p;
    for (int64_t k : s.edges)
      if (q[k] != 0 && q[k] < z.qmin) z.qmin = q[k];
    return kl_divergence(s.p, s.q, z, static_cast<double>(h.prefix[h.bins()]), sq);
  }

  int64_t quantized_bins_;  // 0: the scheme's levels
  QScheme scheme_;
};

}  // namespace

std::unique_ptr<Observer> make_entropy_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<EntropyObserver>(tensor, opts);
}

}  // namespace qforge::quant
