#include "quant/histogram.h"

#include <algorithm>
#include <cmath>

#include "core/cpu.h"
#include "core/error.h"
#include "runtime/kernels/hist_bins.h"
#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::quant {

namespace {

// counts[bin of v] += 1 for every v, bin = trunc((v + t) · scale) clamped to [0, N - 1] (v finite and
// >= -t). The bins are computed a block at a time (runtime/kernels/hist_bins.h); a large input is
// then counted into four interleaved 32-bit tables, because a run of values in one bin (a ReLU's
// zeros) would otherwise wait on its own increments (store-to-load forwarding, ~5 cycles each).
void bin_values(std::span<const float> vs, double t, double scale, std::vector<int64_t>& counts) {
  const auto n = static_cast<int32_t>(counts.size());
  constexpr size_t kBlock = 256, kFlush = size_t{1} << 30;  // kFlush: no 32-bit count can overflow
  const bool four = vs.size() >= 8 * counts.size() && counts.size() <= 16384;
  std::vector<uint32_t> tables(four ? 4 * counts.size() : 0);
  int32_t bins[kBlock];
  const runtime::HistBinsFn bin_of = runtime::hist_bins_kernel().fn;
  size_t since_flush = 0;
  const auto flush = [&] {
    for (size_t j = 0; j < counts.size(); ++j)
      counts[j] += int64_t{tables[j]} + tables[counts.size() + j] + tables[2 * counts.size() + j] +
                   tables[3 * counts.size() + j];
    std::fill(tables.begin(), tables.end(), 0u);
    since_flush = 0;
  };
  for (size_t b = 0; b < vs.size(); b += kBlock) {
    const size_t m = std::min(kBlock, vs.size() - b);
    const float* v = vs.data() + b;
    bin_of(v, m, t, scale, n, bins);
    if (!four) {
      for (size_t j = 0; j < m; ++j) ++counts[static_cast<size_t>(bins[j])];
      continue;
    }
    uint32_t* c0 = tables.data();
    uint32_t *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      ++c0[bins[j]];
      ++c1[bins[j + 1]];
      ++c2[bins[j + 2]];
      ++c3[bins[j + 3]];
    }
    for (; j < m; ++j) ++c0[bins[j]];
    since_flush += m;
    if (since_flush >= kFlush) flush();
  }
  if (four) flush();
}

}  // namespace

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
  // Large batches are binned by all threads into partial histograms, then summed: integer counts,
  // so the result does not depend on the split.
  const int threads = values.size() >= (size_t{1} << 16) ? default_threads() : 1;
  if (threads <= 1) {
    bin_values(values, t, scale, counts_);
    return;
  }
  std::vector<std::vector<int64_t>> part(static_cast<size_t>(threads), std::vector<int64_t>(static_cast<size_t>(n), 0));
  const size_t step = (values.size() + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  runtime::parallel_tasks(threads, threads, [&](int64_t p) {
    const size_t b = std::min(values.size(), static_cast<size_t>(p) * step);
    bin_values(values.subspan(b, std::min(step, values.size() - b)), t, scale, part[static_cast<size_t>(p)]);
  });
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
