#include "eval/metrics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace qforge::eval {

namespace {
// NaN ranks below every number, -inf included.
bool ranks_above(float a, int ia, float b, int ib) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na != nb) return nb;
  if (na || a == b) return ia < ib;
  return a > b;
}
}  // namespace

int argmax_score(std::span<const float> row) {
  QF_CHECK(!row.empty());
  int best = 0;
  for (int c = 1; c < static_cast<int>(row.size()); ++c)
    if (ranks_above(row[c], c, row[best], best)) best = c;
  return best;
}

int rank_of_class(std::span<const float> row, int c) {
  QF_CHECK(c >= 0 && c < static_cast<int>(row.size()));
  int rank = 0;
  for (int j = 0; j < static_cast<int>(row.size()); ++j)
    if (j != c && ranks_above(row[j], j, row[c], c)) ++rank;
  return rank;
}

ClassificationMetrics::ClassificationMetrics(int num_classes, int k)
    : num_classes_(num_classes), k_(k), per_class_(num_classes),
      confusion_(num_classes, std::vector<int64_t>(num_classes, 0)) {
  QF_CHECK(num_classes > 0 && k > 0);
}

void ClassificationMetrics::update(std::span<const float> scores, std::span<const int32_t> labels) {
  const size_t nc = static_cast<size_t>(num_classes_);
  QF_CHECK(scores.size() == labels.size() * nc, "scores must be [n, num_classes]");
  for (size_t i = 0; i < labels.size(); ++i) {
    int32_t label = labels[i];
    if (label < 0 || label >= num_classes_)
      fail_input("label {} of sample {} is outside the model's {} classes", label, samples_, num_classes_);
    std::span<const float> row = scores.subspan(i * nc, nc);
    int pred = argmax_score(row);
    ++samples_;
    ++per_class_[label].count;
    ++confusion_[label][pred];
    if (pred == label) {
      ++top1_;
      ++per_class_[label].correct;
    }
    if (rank_of_class(row, label) < k_) ++topk_;
  }
}

double ClassificationMetrics::top1() const {
  return samples_ ? static_cast<double>(top1_) / static_cast<double>(samples_) : 0.0;
}

double ClassificationMetrics::topk() const {
  return samples_ ? static_cast<double>(topk_) / static_cast<double>(samples_) : 0.0;
}

}  // namespace qforge::eval
