// A tiny Conv → Relu → GlobalAveragePool → Flatten → Gemm classifier on a fixed synthetic 2-class
// batch (vertical vs horizontal stripes with random phase and noise): 20 SGD steps must at least
// halve the loss.
#include <gtest/gtest.h>

#include <random>

#include "train/optim.h"
#include "train_test_util.h"

namespace qforge {
namespace {

using namespace train_test;

ir::Model tiny_cnn() {
  ir::Model m;
  auto node = [&](const std::string& name, const std::string& op, std::vector<std::string> in, std::string out,
                  std::vector<ir::Attribute> attrs = {}) {
    ir::Node n;
    n.name = name, n.op_type = op, n.inputs = std::move(in), n.outputs = {std::move(out)}, n.attrs = std::move(attrs);
    m.graph.nodes.push_back(n);
  };
  node("conv", "Conv", {"x", "w", "b"}, "c", {attr_ints("pads", {1, 1, 1, 1})});
  node("relu", "Relu", {"c"}, "r");
  node("gap", "GlobalAveragePool", {"r"}, "g");
  node("flat", "Flatten", {"g"}, "f");
  node("fc", "Gemm", {"f", "fw", "fb"}, "logits", {attr_i("transB", 1)});
  m.graph.inputs.push_back({"x", DType::f32, false, {}, {}});
  m.graph.outputs.push_back({"logits", DType::f32, false, {}, {}});
  m.graph.add_initializer("w", rand_tensor({4, 1, 3, 3}, 100, -0.5f, 0.5f));
  m.graph.add_initializer("b", Tensor(DType::f32, {4}));
  m.graph.add_initializer("fw", rand_tensor({2, 4}, 101, -0.5f, 0.5f));
  m.graph.add_initializer("fb", Tensor(DType::f32, {2}));
  return m;
}

TEST(TrainEndToEnd, SgdHalvesLossOnStripes) {
  const int64_t N = 16, S = 6;
  Tensor x(DType::f32, {N, 1, S, S});
  std::vector<int64_t> labels(N);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.f, 0.1f);
  for (int64_t n = 0; n < N; ++n) {
    labels[n] = n % 2;
    const int64_t phase = static_cast<int64_t>(rng() % 2);
    for (int64_t h = 0; h < S; ++h)
      for (int64_t w = 0; w < S; ++w) {
        const int64_t along = labels[n] ? h : w;  // class 1: horizontal stripes
        x.data<float>()[(n * S + h) * S + w] = ((along + phase) % 2 ? 1.f : 0.f) + noise(rng);
      }
  }
  train::TrainGraph tg(tiny_cnn(), {.threads = 1});
  train::Sgd opt({.momentum = 0.9});
  const double initial = tg.forward_backward(x, labels).loss;
  double last = initial;
  for (int step = 0; step < 20; ++step) {
    opt.step(tg.parameters(), 0.5);
    last = tg.forward_backward(x, labels).loss;
  }
  RecordProperty("initial_loss", std::to_string(initial));
  RecordProperty("final_loss", std::to_string(last));
  EXPECT_LT(last, 0.5 * initial) << "initial " << initial << ", final " << last;
}

}  // namespace
}  // namespace qforge
