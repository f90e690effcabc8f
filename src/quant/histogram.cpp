#include "quant/histogram.h"

#include <algorithm>
#include <cmath>

#include "core/cpu.h"
#include "core/error.h"

namespace qforge::quant {

Histogram::Histogram(int64_t bins) {
  QF_CHECK(bins >= 2 && bins % 2 == 0, "histogram bins must be even and >= 2");
  counts_.assign(static_cast<size_t>(bins), 0);
}

void Histogram::widen(double amax) {
  const int64_t n = bins(), half = n / 2;
  if (threshold_ == 0) {  // every count so far is a zero, in bin N/2, which stays the bin of 0
    threshold_ = amax;
    return;
  }
  int k = 0;
  double t = threshold_;
  while (t < amax) {
    t *= 2;
    ++k;
  }
  std::vector<int64_t> merged(counts_.size(), 0);
  for (int64_t j = 0; j < n; ++j) {
    if (counts_[j] == 0) continue;
    int64_t to;
    if (k >= 62 || (int64_t{1} << k) >= n) {
      to = j < half ? half - 1 : half;  // the whole old range falls in the two middle bins
    } else {
      const int64_t f = int64_t{1} << k;
      to = (j + half * (f - 1)) / f;
    }
    merged[to] += counts_[j];
  }
  counts_ = std::move(merged);
  threshold_ = t;
}

void Histogram::add(std::span<const float> values, float vmin, float vmax) {
  if (values.empty()) return;
  if (total_ == 0) {
    min_ = vmin;
    max_ = vmax;
  } else {
    min_ = std::min(min_, vmin);
    max_ = std::max(max_, vmax);
  }
  const double amax = std::max(std::fabs(static_cast<double>(vmin)), std::fabs(static_cast<double>(vmax)));
  if (amax > threshold_) widen(amax);
  const int64_t n = bins();
  total_ += static_cast<int64_t>(values.size());
  if (threshold_ == 0) {
    counts_[n / 2] += static_cast<int64_t>(values.size());
    return;
  }
  // v >= -T, so (v + T) * scale > -1 and truncation equals floor after the clamp to [0, N - 1].
  const double t = threshold_, scale = n / (2 * threshold_);
  const auto bin = [&](std::span<const float> vs, int64_t* counts) {
    for (float v : vs) {
      auto idx = static_cast<int64_t>((v + t) * scale);
      idx = std::clamp<int64_t>(idx, 0, n - 1);
      ++counts[idx];
    }
  };
  // Large batches are binned by all threads into partial histograms, then summed: integer counts,
  // so the result does not depend on the split.
  const int threads = values.size() >= (size_t{1} << 16) ? default_threads() : 1;
  if (threads <= 1) {
    bin(values, counts_.data());
    return;
  }
  std::vector<std::vector<int64_t>> part(static_cast<size_t>(threads), std::vector<int64_t>(static_cast<size_t>(n), 0));
  const size_t step = (values.size() + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int p = 0; p < threads; ++p) {
    const size_t b = std::min(values.size(), static_cast<size_t>(p) * step);
    bin(values.subspan(b, std::min(step, values.size() - b)), part[static_cast<size_t>(p)].data());
  }
  for (const auto& c : part)
    for (int64_t j = 0; j < n; ++j) counts_[j] += c[j];
}

std::vector<int64_t> Histogram::folded_counts() const {
  const int64_t half = bins() / 2;
  std::vector<int64_t> out(static_cast<size_t>(half));
  for (int64_t j = 0; j < half; ++j) out[j] = counts_[half + j] + counts_[half - 1 - j];
  return out;
}

void HistogramObserver::update(const Tensor& v) {
  if (v.numel() == 0) return;
  const Range r = batch_min_max(v, tensor_);
  hist_.add(v.span<float>(), r.min, r.max);
  count_ += v.numel();
}

}  // namespace qforge::quant
