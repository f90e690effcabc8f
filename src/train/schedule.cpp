#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace qforge::train {

namespace {
double cos_anneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (1 + std::cos(std::numbers::pi * pct));
}
}  // namespace

double CosineSchedule::lr_at(int64_t t) const {
  if (t < warmup) return base_lr * static_cast<double>(t + 1) / static_cast<double>(warmup);
  const double span = static_cast<double>(std::max<int64_t>(total_steps - warmup, 1));
  const double pct = std::min(1.0, static_cast<double>(t - warmup) / span);
  return cos_anneal(base_lr, min_lr, pct);
}

double OneCycleSchedule::lr_at(int64_t t) const {
  const double initial = max_lr / div_factor, final_lr = initial / final_div_factor;
  const double end1 = pct_start * static_cast<double>(total_steps) - 1;
  const double end2 = static_cast<double>(total_steps) - 1;
  const double s = static_cast<double>(t);
  if (s <= end1) return cos_anneal(initial, max_lr, end1 > 0 ? s / end1 : 1.0);
  const double len = end2 - end1;
  return cos_anneal(max_lr, final_lr, len > 0 ? std::min(1.0, (s - end1) / len) : 1.0);
}

}  // namespace qforge::train
