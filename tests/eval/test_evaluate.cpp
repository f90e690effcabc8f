// evaluate() on an in-memory dataset and a Flatten "classifier" whose scores are the pixels, so the
// expected metrics follow by hand from the pixel values.
#include <algorithm>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/evaluate.h"
#include "tiny_model.h"

namespace qforge::eval {
namespace {

using testing_models::flatten_classifier;

// 7 samples of [1,2,2]; the pixels are the scores of 4 classes.
//  s0 [0.1 0.9 0 0] l1 ok | s1 [2 1 3 0.5] l0 ->2 | s2 [0 0 0 0] l2 ->0 | s3 [-1 -2 -3 5] l3 ok
//  s4 [1 5 2 3] l0 ->1    | s5 [NaN 1 0 0] l0 ->1 | s6 [0 0 1 0] l2 ok
class MemoryDataset : public data::Dataset {
 public:
  std::vector<float> pixels = {0.1f, 0.9f, 0, 0,  2, 1, 3, 0.5f,  0, 0, 0, 0,  -1, -2, -3, 5,
                               1, 5, 2, 3,  std::numeric_limits<float>::quiet_NaN(), 1, 0, 0,  0, 0, 1, 0};
  std::vector<int32_t> labels = {1, 0, 2, 3, 0, 0, 2};
  bool labelled = true;
  int classes = 4;
  std::vector<std::pair<int64_t, int64_t>> reads;

  int64_t size() const override { return static_cast<int64_t>(labels.size()); }
  Shape sample_shape() const override { return {1, 2, 2}; }
  bool has_labels() const override { return labelled; }
  int num_classes() const override { return labelled ? classes : 0; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c", "d"}; }
  data::Batch read(int64_t begin, int64_t n) override {
    n = std::min(n, size() - begin);
    reads.emplace_back(begin, n);
    data::Batch b;
    b.x = Tensor(DType::f32, {n, 1, 2, 2});
    std::copy_n(pixels.begin() + begin * 4, n * 4, b.x.data<float>());
    if (labelled) b.labels.assign(labels.begin() + begin, labels.begin() + begin + n);
    return b;
  }
  std::string describe() const override { return "memory"; }
};

TEST(Evaluate, MetricsOfPixelScoresByHand) {
  MemoryDataset ds;
  EvalOptions opts;
  opts.batch = 4;
  std::vector<std::pair<int64_t, int64_t>> progress;
  opts.progress = [&](int64_t done, int64_t total) { progress.emplace_back(done, total); };
  EvalResult r = evaluate(flatten_classifier(), ds, opts);

  EXPECT_EQ(r.dataset, "memory");
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(r.batch, 4);
  EXPECT_EQ(r.metrics.samples(), 7);
  EXPECT_EQ(r.metrics.top1_correct(), 3);  // s0, s3, s6
  EXPECT_DOUBLE_EQ(r.metrics.top1(), 3.0 / 7.0);
  EXPECT_DOUBLE_EQ(r.metrics.topk(), 1.0);  // top-5 of 4 classes
  EXPECT_EQ(r.metrics.per_class()[2].count, 2);
  EXPECT_EQ(r.metrics.per_class()[2].correct, 1);
  EXPECT_EQ(r.metrics.confusion()[0], (std::vector<int64_t>{0, 2, 1, 0}));
  EXPECT_EQ(r.metrics.confusion()[2], (std::vector<int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(ds.reads, (std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 3}}));
  EXPECT_EQ(progress, (std::vector<std::pair<int64_t, int64_t>>{{4, 7}, {7, 7}}));
  EXPECT_GE(r.seconds, 0.0);
}

TEST(Evaluate, FixedBatchModelRunsAtItsBatchAndPadsTheLastOne) {
  MemoryDataset ds;
  EvalOptions opts;
  opts.batch = 64;  // overridden by the model's fixed batch of 3
  EvalResult r = evaluate(flatten_classifier(3), ds, opts);
  EXPECT_EQ(r.batch, 3);
  EXPECT_EQ(ds.reads, (std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 3}, {6, 1}}));
  EXPECT_EQ(r.metrics.samples(), 7);  // padding rows are not counted
  EXPECT_EQ(r.metrics.top1_correct(), 3);
}

TEST(Evaluate, InputShapeThatDoesNotFitNamesBothShapes) {
  MemoryDataset ds;
  ir::Model m = flatten_classifier();
  m.graph.inputs[0].dims = {ir::Dim::symbol("N"), ir::Dim::known(4)};
  try {
    evaluate(m, ds);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("[N,4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[N,1,2,2]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  }
}

TEST(Evaluate, DatasetWithoutLabelsIsInputError) {
  MemoryDataset ds;
  ds.labelled = false;
  EXPECT_THROW(evaluate(flatten_classifier(), ds), InputError);
}

TEST(Evaluate, MoreDatasetClassesThanModelOutputsIsInputError) {
  MemoryDataset ds;
  ds.classes = 5;
  EXPECT_THROW(evaluate(flatten_classifier(), ds), InputError);
}

TEST(Evaluate, OutputThatIsNotBatchByClassesIsInputError) {
  MemoryDataset ds;
  ir::Model m = flatten_classifier();
  m.graph.nodes[0].op_type = "Identity";
  m.graph.nodes[0].attrs.clear();
  m.graph.outputs[0].dims = {ir::Dim::symbol("N"), ir::Dim::known(1), ir::Dim::known(2), ir::Dim::known(2)};
  try {
    evaluate(m, ds);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'scores'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qforge::eval
