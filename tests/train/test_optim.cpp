// Optimizers and schedules against values worked by hand from the PyTorch formulas (optim.h,
// schedule.h), and the BatchNormalization running-statistics update (ONNX training-mode formula).
#include <gtest/gtest.h>

#include <cmath>

#include "train/optim.h"
#include "train/schedule.h"
#include "train_test_util.h"

namespace qforge {
namespace {

std::vector<train::Parameter> scalar_param(float w, float g) {
  return {{"w", Tensor::from_vector<float>(DType::f32, {1}, {w}), Tensor::from_vector<float>(DType::f32, {1}, {g}), true}};
}

TEST(TrainOptim, SgdMomentumWeightDecayTwoSteps) {
  auto p = scalar_param(1.f, 0.5f);
  train::Sgd opt({.momentum = 0.9, .weight_decay = 0.1});
  // Step 1: g = 0.5 + 0.1·1 = 0.6, buf = 0.6, w = 1 - 0.1·0.6 = 0.94.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 0.94f, 1e-6);
  // Step 2: g = 0.5 + 0.1·0.94 = 0.594, buf = 0.9·0.6 + 0.594 = 1.134, w = 0.94 - 0.1134 = 0.8266.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 0.8266f, 1e-6);
}

TEST(TrainOptim, SgdNesterovAndNoDecayFlag) {
  auto p = scalar_param(2.f, 1.f);
  p[0].decay = false;
  train::Sgd opt({.momentum = 0.5, .weight_decay = 0.3, .nesterov = true});
  // g = 1, buf = 1, nesterov g = 1 + 0.5·1 = 1.5, w = 2 - 0.1·1.5 = 1.85.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 1.85f, 1e-6);
  // g = 1, buf = 0.5 + 1 = 1.5, g = 1 + 0.75 = 1.75, w = 1.85 - 0.175 = 1.675.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 1.675f, 1e-6);
}

TEST(TrainOptim, AdamWTwoSteps) {
  auto p = scalar_param(1.f, 0.5f);
  train::AdamW opt;  // β 0.9 / 0.999, ε 1e-8, weight decay 0.01
  // Step 1: w = 1·(1 - 0.1·0.01) = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
  // w -= 0.1·0.5/(0.5 + 1e-8) → 0.899.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 0.899f, 1e-6);
  // Step 2: w = 0.899·0.999 = 0.898101; m = 0.095, m̂ = 0.095/0.19 = 0.5;
  // v = 0.00049975, v̂ = 0.00049975/0.001999 = 0.25 → w = 0.798101.
  opt.step(p, 0.1);
  EXPECT_NEAR(p[0].value.data<float>()[0], 0.798101f, 1e-6);
}

TEST(TrainSchedule, CosineWithWarmup) {
  train::CosineSchedule s{.base_lr = 0.1, .min_lr = 0, .total_steps = 10, .warmup = 0};
  EXPECT_NEAR(s.lr_at(0), 0.1, 1e-12);
  EXPECT_NEAR(s.lr_at(5), 0.05, 1e-12);
  EXPECT_NEAR(s.lr_at(10), 0.0, 1e-12);
  train::CosineSchedule w{.base_lr = 0.1, .min_lr = 0.01, .total_steps = 12, .warmup = 2};
  EXPECT_NEAR(w.lr_at(0), 0.05, 1e-12);
  EXPECT_NEAR(w.lr_at(1), 0.1, 1e-12);
  EXPECT_NEAR(w.lr_at(2), 0.1, 1e-12);
  EXPECT_NEAR(w.lr_at(7), 0.055, 1e-12);  // half way: (0.1 + 0.01) / 2
}

TEST(TrainSchedule, OneCycle) {
  train::OneCycleSchedule s{.max_lr = 1.0, .total_steps = 100};  // pct 0.3, div 25, final div 1e4
  EXPECT_NEAR(s.lr_at(0), 0.04, 1e-12);
  EXPECT_NEAR(s.lr_at(29), 1.0, 1e-12);                          // end of phase 1: 0.3·100 - 1
  EXPECT_NEAR(s.lr_at(64), (1.0 + 4e-6) / 2, 1e-12);            // half of phase 2 (29 → 99)
  EXPECT_NEAR(s.lr_at(99), 4e-6, 1e-12);
  // A quarter into phase 1 (t = 7.25 is not a step): t = 10, pct = 10/29.
  EXPECT_NEAR(s.lr_at(10), 1.0 + (0.04 - 1.0) / 2 * (1 + std::cos(M_PI * 10 / 29)), 1e-12);
}

TEST(TrainBatchNorm, RunningStatisticsUpdate) {
  using namespace train_test;
  // One channel, x = (1, 2, 3, 6): mean 3, biased var (4 + 1 + 0 + 9)/4 = 3.5.
  ir::Model m = one_node_model("BatchNormalization", {"x", "s", "b", "m", "v"}, {"x"},
                               {{"s", Tensor::from_vector<float>(DType::f32, {1}, {2.f})},
                                {"b", Tensor::from_vector<float>(DType::f32, {1}, {0.5f})},
                                {"m", Tensor::from_vector<float>(DType::f32, {1}, {1.f})},
                                {"v", Tensor::from_vector<float>(DType::f32, {1}, {2.f})}},
                               {attr_f("momentum", 0.8f), attr_f("epsilon", 0.5f)});
  train::TrainGraph tg(m);
  Tensor y = tg.forward({Tensor::from_vector<float>(DType::f32, {2, 1, 2, 1}, {1, 2, 3, 6})})[0];
  // y = 2·(x - 3)/√(3.5 + 0.5) + 0.5 = (x - 3) + 0.5
  EXPECT_NEAR(y.data<float>()[0], -1.5f, 1e-6);
  EXPECT_NEAR(y.data<float>()[3], 3.5f, 1e-6);
  const ir::Model out = tg.model();
  EXPECT_NEAR(out.graph.initializer("m")->data<float>()[0], 1 * 0.8 + 3 * 0.2, 1e-6);
  EXPECT_NEAR(out.graph.initializer("v")->data<float>()[0], 2 * 0.8 + 3.5 * 0.2, 1e-6);
  EXPECT_NEAR(m.graph.initializer("m")->data<float>()[0], 1.f, 0);  // the caller's model is untouched
}

}  // namespace
}  // namespace qforge
