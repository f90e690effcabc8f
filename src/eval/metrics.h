// Classification metrics over [N, classes] scores (logits or probabilities), accumulated batch by
// batch so a dataset never needs to be held whole.
//  - top-k: a sample counts when its label is among the k highest scores. Ties are broken by class
//    index (a lower index ranks first, like a stable sort), so the result never depends on
//    the order of evaluation. A NaN score ranks below every number.
//  - prediction (top-1): the highest score, the lowest class index on ties (numpy argmax).
//  - confusion[t][p]: samples whose true class is t and predicted class is p.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qforge::eval {

struct ClassStats {
  int64_t count = 0;    // samples whose label is this class
  int64_t correct = 0;  // of those, predicted as this class
  double accuracy() const { return count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0; }
};

class ClassificationMetrics {
 public:
  // num_classes: columns of the score matrix; k: the "top-k" reported next to top-1 (5 by default).
  explicit ClassificationMetrics(int num_classes, int k = 5);

  // scores: row-major [n, num_classes]; labels: n values in [0, num_classes).
  // InputError on a label outside the classes (naming the label and the sample).
  void update(std::span<const float> scores, std::span<const int32_t> labels);

  int num_classes() const { return num_classes_; }
  int k() const { return k_; }
  int64_t samples() const { return samples_; }
  int64_t top1_correct() const { return top1_; }
  int64_t topk_correct() const { return topk_; }
  double top1() const;  // fraction in [0, 1]; 0 with no samples
  double topk() const;
  const std::vector<ClassStats>& per_class() const { return per_class_; }
  // confusion()[true][predicted]
  const std::vector<std::vector<int64_t>>& confusion() const { return confusion_; }

 private:
  int num_classes_;
  int k_;
  int64_t samples_ = 0, top1_ = 0, topk_ = 0;
  std::vector<ClassStats> per_class_;
  std::vector<std::vector<int64_t>> confusion_;
};

// Index of the highest score (lowest index on ties; NaN ranks lowest).
int argmax_score(std::span<const float> row);
// Number of classes that rank above class `c` in `row` (0 = it is the top-1 prediction).
int rank_of_class(std::span<const float> row, int c);

}  // namespace qforge::eval
