// QAT (train/qat.h) on the three bundled architectures at 8×8: the training graph's forward equals
// the QDQ model run with float QuantizeLinear / DequantizeLinear (the reference: Session without
// lowering); the export before training reproduces the PTQ model byte for byte; one step lowers the
// loss on a fixed batch; after training the export still equals the training graph's forward.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "quant/quantize_pipeline.h"
#include "runtime/session.h"
#include "train/arch.h"
#include "train/optim.h"
#include "train/qat.h"
#include "train_test_util.h"

namespace qforge {
namespace {

struct Ptq {
  ir::Model fp32, folded, qdq;
  quant::Recipe recipe;
};

Tensor images(int64_t n, uint32_t seed) { return train_test::rand_tensor({n, 1, 8, 8}, seed, 0.f, 1.f); }

Ptq make_ptq(const std::string& arch, const std::string& preset) {
  Ptq p;
  train::ArchOptions ao;
  ao.height = ao.width = 8;
  ao.seed = 3;
  p.fp32 = train::build_arch(arch, ao);
  p.recipe = quant::recipe_from_preset(preset);
  quant::BatchSourceFactory data = [] {
    auto k = std::make_shared<int>(0);
    return [k]() -> std::vector<Tensor> {
      if (*k == 4) return {};
      return {images(16, 100 + (*k)++)};
    };
  };
  p.qdq = quant::quantize_pipeline(p.fp32, p.recipe, &data, nullptr, 1).result.model;
  p.folded = quant::fold_batch_norms(p.fp32);
  return p;
}

Tensor reference(const ir::Model& qdq, const Tensor& x) {
  runtime::SessionOptions so;
  so.threads = 1;
  so.lower_qdq = false;
  runtime::Session s(qdq, so);
  return s.run({x})[0];
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double d = 0;
  for (int64_t k = 0; k < a.numel(); ++k)
    d = std::max(d, std::fabs(static_cast<double>(a.data<float>()[k]) - b.data<float>()[k]));
  return d;
}

std::vector<int64_t> labels_of(int64_t n) {
  std::vector<int64_t> l;
  for (int64_t k = 0; k < n; ++k) l.push_back((k * 7) % 10);
  return l;
}

double loss_of(train::TrainGraph& tg, const train::QatGraph& g, const Tensor& x, const std::vector<int64_t>& labels) {
  return train::softmax_cross_entropy(tg.forward(train::qat_inputs(g, x))[0], labels, nullptr).loss;
}

// One SGD step over the QAT parameters and TrainGraph's own float parameters.
void sgd_step(train::TrainGraph& tg, train::QatGraph& g, const Tensor& x, const std::vector<int64_t>& labels,
              train::Sgd& opt, double lr) {
  const auto outs = tg.forward(train::qat_inputs(g, x));
  Tensor d;
  train::softmax_cross_entropy(outs[0], labels, &d);
  tg.backward({d});
  std::vector<train::Parameter> ps;
  for (const auto& p : g.params) {
    Tensor grad = tg.grad(p.name);
    ps.push_back({p.name, p.value, grad.empty() ? Tensor(DType::f32, p.value.shape()) : grad, p.decay});
  }
  for (const auto& p : tg.parameters()) ps.push_back(p);
  opt.step(ps, lr);
  train::qat_clamp_scales(g);
}

TEST(Qat, TrainingGraphForwardEqualsTheQdqModel) {
  const Tensor x = images(8, 7);
  for (const char* arch : {"cnn", "mobilenet", "resnet"})
    for (const char* preset : {"int8", "w4a8"})
      for (bool lsq : {false, true}) {
        const Ptq p = make_ptq(arch, preset);
        const train::QatGraph g = train::qat_graph_from_qdq(p.qdq, &p.folded, p.recipe, {.lsq = lsq});
        EXPECT_GT(g.fake_quant_nodes, 5) << arch;
        EXPECT_FALSE(g.weights.empty());
        EXPECT_FALSE(g.biases.empty());
        for (const auto& n : g.train.graph.nodes)
          EXPECT_TRUE(n.op_type != "QuantizeLinear" && n.op_type != "BatchNormalization") << n.describe();
        train::TrainGraph tg(g.train, train::qat_train_options(1));
        const Tensor ref = reference(p.qdq, x);
        const Tensor got = tg.forward(train::qat_inputs(g, x))[0];
        EXPECT_LE(max_abs_diff(ref, got), 1e-4) << arch << " " << preset << " lsq " << lsq;
      }
}

TEST(Qat, ExportBeforeTrainingIsThePtqModel) {
  for (const char* arch : {"cnn", "resnet"})
    for (bool lsq : {false, true}) {
      const Ptq p = make_ptq(arch, "w4a8");
      const train::QatGraph g = train::qat_graph_from_qdq(p.qdq, &p.folded, p.recipe, {.lsq = lsq});
      const ir::Model e = train::qat_export(g);
      ASSERT_EQ(e.graph.nodes.size(), p.qdq.graph.nodes.size());
      for (size_t k = 0; k < e.graph.nodes.size(); ++k) EXPECT_EQ(e.graph.nodes[k].name, p.qdq.graph.nodes[k].name);
      ASSERT_EQ(e.graph.initializers.size(), p.qdq.graph.initializers.size());
      for (const auto& [name, t] : p.qdq.graph.initializers) {
        const Tensor* u = e.graph.initializer(name);
        ASSERT_NE(u, nullptr) << name;
        EXPECT_EQ(u->dtype(), t.dtype()) << name;
        EXPECT_EQ(u->shape(), t.shape()) << name;
        EXPECT_EQ(std::memcmp(u->raw(), t.raw(), t.nbytes()), 0) << arch << ": " << name << " changed";
      }
    }
}

TEST(Qat, CollapsedScalesAreAnInputErrorAtExport) {
  // LSQ scales clamped at FLT_MIN (qat_clamp_scales' floor): s_in * s_w underflows float32, so the
  // int32 bias has no usable scale — a clear InputError naming the bias, not an internal error.
  const Ptq p = make_ptq("cnn", "int8");
  train::QatGraph g = train::qat_graph_from_qdq(p.qdq, &p.folded, p.recipe, {.lsq = true});
  ASSERT_FALSE(g.biases.empty());
  std::set<std::string> scales;
  for (const auto& a : g.activations) scales.insert(a.scale);
  for (const auto& w : g.weights) scales.insert(w.scale);
  for (auto& prm : g.params)
    if (scales.count(prm.name))
      for (int64_t k = 0; k < prm.value.numel(); ++k) prm.value.data<float>()[k] = 1.17549435e-38f;
  try {
    train::qat_export(g);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a normal float32"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(g.biases[0].out_quantized), std::string::npos) << e.what();
  }
}

TEST(Qat, OneStepLowersTheLossOnAFixedBatch) {
  const Tensor x = images(32, 9);
  const std::vector<int64_t> labels = labels_of(32);
  for (const char* arch : {"cnn", "mobilenet", "resnet"})
    for (bool lsq : {false, true}) {
      const Ptq p = make_ptq(arch, "int8");
      train::QatGraph g = train::qat_graph_from_qdq(p.qdq, &p.folded, p.recipe, {.lsq = lsq});
      train::TrainGraph tg(g.train, train::qat_train_options(1));
      const double before = loss_of(tg, g, x, labels);
      train::Sgd opt;
      sgd_step(tg, g, x, labels, opt, 0.05);
      const double after = loss_of(tg, g, x, labels);
      EXPECT_LT(after, before) << arch << " lsq " << lsq;
    }
}

TEST(Qat, ExportAfterTrainingMatchesTheTrainingGraphAndRunsLowered) {
  const Tensor x = images(32, 11);
  const std::vector<int64_t> labels = labels_of(32);
  for (const char* arch : {"cnn", "mobilenet", "resnet"}) {
    const Ptq p = make_ptq(arch, "int8");
    train::QatGraph g = train::qat_graph_from_qdq(p.qdq, &p.folded, p.recipe, {.lsq = true});
    train::TrainGraph tg(g.train, train::qat_train_options(1));
    train::Sgd opt;
    for (int k = 0; k < 3; ++k) sgd_step(tg, g, x, labels, opt, 0.005);
    const ir::Model e = train::qat_export(g, tg.parameters());
    bool scale_changed = false;
    for (const auto& a : g.activations)
      scale_changed = scale_changed || e.graph.initializer(a.out_scale)->data<float>()[0] !=
                                           p.qdq.graph.initializer(a.out_scale)->data<float>()[0];
    EXPECT_TRUE(scale_changed) << arch << ": LSQ left every activation scale as it was";
    const Tensor train_out = tg.forward(train::qat_inputs(g, x))[0];
    const Tensor ref = reference(e, x);
    double peak = 0;
    for (float v : ref.span<float>()) peak = std::max(peak, std::fabs(static_cast<double>(v)));
    // The only difference: biases rounded to int32 at s_in · s_w.
    EXPECT_LE(max_abs_diff(ref, train_out), 0.05 * peak + 1e-3) << arch;
    runtime::SessionOptions so;
    so.threads = 1;
    runtime::Session lowered(e, so);
    EXPECT_GT(lowered.lowered_nodes(), 0) << arch;
    const Tensor y = lowered.run({x})[0];
    for (float v : y.span<float>()) ASSERT_TRUE(std::isfinite(v));
    EXPECT_LE(max_abs_diff(y, ref), 0.1 * peak + 1e-3) << arch;
  }
}

TEST(Qat, FloatNodesKeepTrainingTheirWeights) {
  Ptq p = make_ptq("cnn", "int8");
  quant::Recipe r = p.recipe;
  r.exclude_first_last = true;
  quant::BatchSourceFactory data = [] {
    auto k = std::make_shared<int>(0);
    return [k]() -> std::vector<Tensor> { return (*k)++ ? std::vector<Tensor>{} : std::vector<Tensor>{images(16, 5)}; };
  };
  const ir::Model qdq = quant::quantize_pipeline(p.fp32, r, &data, nullptr, 1).result.model;
  train::QatGraph g = train::qat_graph_from_qdq(qdq, &p.folded, r);
  train::TrainGraph tg(g.train, train::qat_train_options(1));
  ASSERT_FALSE(tg.parameters().empty());  // the float first and last layers
  const Tensor x = images(16, 6);
  train::Sgd opt;
  sgd_step(tg, g, x, labels_of(16), opt, 0.05);
  const ir::Model e = train::qat_export(g, tg.parameters());
  const std::string& name = tg.parameters()[0].name;
  EXPECT_NE(std::memcmp(e.graph.initializer(name)->raw(), qdq.graph.initializer(name)->raw(),
                        qdq.graph.initializer(name)->nbytes()),
            0);
}

TEST(Qat, ModelsWithoutOneInputAreInputErrors) {
  Ptq p = make_ptq("cnn", "int8");
  ir::Model two = p.qdq;
  two.graph.inputs.push_back(two.graph.inputs[0]);
  two.graph.inputs.back().name = "second";
  EXPECT_THROW(train::qat_graph_from_qdq(two, nullptr, p.recipe), InputError);
}

}  // namespace
}  // namespace qforge
