// ClassificationMetrics against a hand-made score matrix; every expected number is worked out by
// hand in the comments (ties go to the lower class index, NaN ranks lowest).
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/metrics.h"

namespace qforge::eval {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// 6 samples, 4 classes.
//  s0 [0.1 0.9 0.0 0.0] label 1: predicted 1 (correct), rank of label 0
//  s1 [2.0 1.0 3.0 0.5] label 0: predicted 2, rank of label 1 (only class 2 above)
//  s2 [0.0 0.0 0.0 0.0] label 2: all tied -> predicted 0, rank 2 (classes 0 and 1 rank above)
//  s3 [-1 -2 -3 5]      label 3: predicted 3 (correct), rank 0
//  s4 [1 5 2 3]         label 0: predicted 1, rank 3
//  s5 [NaN 1 0 0]       label 0: predicted 1 (NaN ranks lowest), rank 3
const std::vector<float> kScores = {0.1f, 0.9f, 0.0f, 0.0f,  2.0f, 1.0f, 3.0f, 0.5f,  0, 0, 0, 0,
                                    -1, -2, -3, 5,           1, 5, 2, 3,               kNaN, 1, 0, 0};
const std::vector<int32_t> kLabels = {1, 0, 2, 3, 0, 0};

TEST(ClassificationMetrics, TopOneTopKPerClassAndConfusionByHand) {
  ClassificationMetrics m(4, 2);
  m.update(kScores, kLabels);
  EXPECT_EQ(m.samples(), 6);
  EXPECT_EQ(m.top1_correct(), 2);  // s0, s3
  EXPECT_EQ(m.topk_correct(), 3);  // s0, s1, s3 have rank < 2
  EXPECT_DOUBLE_EQ(m.top1(), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.topk(), 3.0 / 6.0);

  const auto& pc = m.per_class();
  ASSERT_EQ(pc.size(), 4u);
  EXPECT_EQ(pc[0].count, 3);  // s1, s4, s5
  EXPECT_EQ(pc[0].correct, 0);
  EXPECT_EQ(pc[1].count, 1);
  EXPECT_EQ(pc[1].correct, 1);
  EXPECT_EQ(pc[2].count, 1);
  EXPECT_EQ(pc[2].correct, 0);
  EXPECT_EQ(pc[3].count, 1);
  EXPECT_EQ(pc[3].correct, 1);
  EXPECT_DOUBLE_EQ(pc[0].accuracy(), 0.0);
  EXPECT_DOUBLE_EQ(pc[1].accuracy(), 1.0);

  // rows: true class; columns: predicted class
  std::vector<std::vector<int64_t>> want = {{0, 2, 1, 0},   // s4->1, s5->1, s1->2
                                            {0, 1, 0, 0},   // s0
                                            {1, 0, 0, 0},   // s2->0
                                            {0, 0, 0, 1}};  // s3
  EXPECT_EQ(m.confusion(), want);
}

TEST(ClassificationMetrics, BatchesAccumulateLikeOneUpdate) {
  ClassificationMetrics whole(4, 2), split(4, 2);
  whole.update(kScores, kLabels);
  std::span<const float> s(kScores);
  std::span<const int32_t> l(kLabels);
  split.update(s.subspan(0, 8), l.subspan(0, 2));
  split.update(s.subspan(8, 4), l.subspan(2, 1));
  split.update(s.subspan(12), l.subspan(3));
  EXPECT_EQ(split.top1_correct(), whole.top1_correct());
  EXPECT_EQ(split.topk_correct(), whole.topk_correct());
  EXPECT_EQ(split.confusion(), whole.confusion());
}

TEST(ClassificationMetrics, TopFiveWithFewerClassesCountsEverySample) {
  ClassificationMetrics m(4);  // k = 5 > 4 classes: every label ranks < 5
  m.update(kScores, kLabels);
  EXPECT_EQ(m.k(), 5);
  EXPECT_DOUBLE_EQ(m.topk(), 1.0);
}

TEST(ClassificationMetrics, EmptyGivesZeroFractions) {
  ClassificationMetrics m(3);
  EXPECT_EQ(m.samples(), 0);
  EXPECT_DOUBLE_EQ(m.top1(), 0.0);
  EXPECT_DOUBLE_EQ(m.topk(), 0.0);
}

TEST(ClassificationMetrics, LabelOutsideClassesIsInputError) {
  ClassificationMetrics m(4);
  std::vector<int32_t> bad = {1, 0, 2, 3, 4, 0};
  EXPECT_THROW(m.update(kScores, bad), InputError);
  std::vector<int32_t> negative = {1, 0, -1, 3, 0, 0};
  ClassificationMetrics m2(4);
  EXPECT_THROW(m2.update(kScores, negative), InputError);
}

TEST(ClassificationMetrics, ArgmaxAndRankTieAndNaNRules) {
  std::vector<float> row = {1, 3, 3, kNaN};
  EXPECT_EQ(argmax_score(row), 1);      // tie between 1 and 2 -> lower index
  EXPECT_EQ(rank_of_class(row, 1), 0);
  EXPECT_EQ(rank_of_class(row, 2), 1);  // class 1 ties and has the lower index
  EXPECT_EQ(rank_of_class(row, 0), 2);
  EXPECT_EQ(rank_of_class(row, 3), 3);  // NaN ranks below everything
  std::vector<float> all_nan = {kNaN, kNaN};
  EXPECT_EQ(argmax_score(all_nan), 0);
  std::vector<float> neg_inf = {-std::numeric_limits<float>::infinity(), kNaN};
  EXPECT_EQ(argmax_score(neg_inf), 0);  // -inf still ranks above NaN
}

}  // namespace
}  // namespace qforge::eval
