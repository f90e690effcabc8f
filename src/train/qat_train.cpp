// The QAT fine-tuning loop (qat.h): the loop of trainer.cpp over a QAT graph, whose trained tensors
// are graph inputs (fed from QatGraph::params, gradients read back with TrainGraph::grad), plus the
// float parameters TrainGraph finds itself (nodes left in float). After each optimizer step the scales
// are kept positive. After each epoch the export is evaluated and the best checkpoint kept.
// BatchNormalization nodes (convs trained with BN, qat.h, and BNs the quantizer left in float) use batch
// statistics in the first g.freeze_bn_after epochs and their running statistics after.
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/cpu.h"
#include "core/error.h"
#include "train/optim.h"
#include "train/qat.h"
#include "runtime/session.h"
#include "train/schedule.h"

namespace qforge::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double lr_at(const TrainConfig& cfg, int64_t total, int64_t step) {
  if (cfg.schedule == "constant") return cfg.lr;
  if (cfg.schedule == "cosine") return CosineSchedule{cfg.lr, 0, total, 0}.lr_at(step);
  OneCycleSchedule s;
  s.max_lr = cfg.lr, s.total_steps = total;
  return s.lr_at(step);
}

// The first parameter holding a NaN or an infinity, or "".
std::string first_non_finite(const std::vector<Parameter>& a, const std::vector<Parameter>& b) {
  for (const auto* ps : {&a, &b})
    for (const Parameter& p : *ps)
      for (float v : p.value.span<float>())
        if (!std::isfinite(v)) return p.name;
  return {};
}

Tensor first_batch(const Tensor& all, const Shape& sample, int64_t n) {
  Shape s = sample;
  s.insert(s.begin(), n);
  Tensor x(DType::f32, s);
  std::memcpy(x.data<float>(), all.data<float>(), x.nbytes());
  return x;
}

// Runs the export once on `x` (the integer runtime refuses models whose accumulators could overflow).
void check_runs(const ir::Model& m, const Tensor& x, int threads) {
  runtime::SessionOptions so;
  so.threads = threads;
  runtime::Session s(m, so);
  const std::vector<Tensor> out = s.run({x});  // kept alive: a range-for over s.run(...)[0] would dangle
  for (float v : out[0].span<float>())
    if (!std::isfinite(v)) fail_input("its logits are not finite");
}

}  // namespace

QatResult qat_train(QatGraph& g, data::Dataset& train, data::Dataset* val, const TrainConfig& cfg, double start_top1,
                    const std::function<void(const Progress&)>& on_progress) {
  const Clock::time_point run_start = Clock::now();
  const int threads = cfg.threads > 0 ? cfg.threads : default_threads();
  data::Batch all = train.read(0, train.size());
  const int64_t n = train.size();
  for (int32_t l : all.labels)
    if (l < 0) fail_input("{}: negative label {}", train.describe(), l);
  const Shape sample = train.sample_shape();

  TrainGraph tg(g.train, qat_train_options(threads));
  for (Parameter& p : tg.parameters())
    if (p.value.shape().size() <= 1) p.decay = false;

  const bool adamw = cfg.optimizer == "adamw";
  Sgd sgd({.momentum = cfg.momentum, .weight_decay = cfg.weight_decay});
  AdamW adam({.weight_decay = cfg.weight_decay});
  const int64_t steps_per_epoch = (n + cfg.batch - 1) / cfg.batch;
  const int64_t total_steps = steps_per_epoch * cfg.epochs;
  std::mt19937_64 aug_rng(cfg.seed ^ 0x9e3779b97f4a7c15ULL);

  QatResult result;
  result.model = qat_export(g, tg.parameters());
  result.best_top1 = val ? start_top1 : -1;
  std::vector<Parameter> step_params;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < cfg.epochs && !result.stopped; ++epoch) {
    const std::vector<int64_t> order = shuffled_indices(n, cfg.seed, epoch);
    tg.set_training(epoch < g.freeze_bn_after);  // BatchNormalization: batch statistics, then frozen
    EpochMeter meter(epoch, cfg.epochs, n);
    for (int64_t b = 0; b < n; b += cfg.batch) {
      const int64_t bn = std::min(cfg.batch, n - b);
      auto [x, labels] = gather_batch(all, sample, order, b, bn);
      if (cfg.augment.crop_pad > 0 || cfg.augment.hflip) augment_batch(x, cfg.augment, aug_rng);
      const std::vector<Tensor> outs = tg.forward(qat_inputs(g, x));
      Tensor dlogits;
      const StepResult r = softmax_cross_entropy(outs[0], labels, &dlogits);
      if (!std::isfinite(r.loss)) {
        result.stopped = true;
        result.stop_reason = fmt::format(
            "the loss became {} at epoch {}, step {} (learning rate {:.3g}); kept the best checkpoint (epoch {}) "
            "— try a smaller --lr",
            std::isnan(r.loss) ? "NaN" : "infinite", epoch + 1, step + 1, lr_at(cfg, total_steps, step),
            result.best_epoch);
        break;
      }
      std::vector<Tensor> og(outs.size());
      og[0] = dlogits;
      tg.backward(og);
      step_params.clear();
      for (const Parameter& p : g.params) {
        Tensor grad = tg.grad(p.name);
        step_params.push_back({p.name, p.value, grad.empty() ? Tensor(DType::f32, p.value.shape()) : grad, p.decay});
      }
      for (const Parameter& p : tg.parameters()) step_params.push_back(p);
      const double lr = lr_at(cfg, total_steps, step);
      adamw ? adam.step(step_params, lr) : sgd.step(step_params, lr);
      qat_clamp_scales(g);
      if (const std::string bad = first_non_finite(g.params, tg.parameters()); !bad.empty()) {
        result.stopped = true;
        result.stop_reason = fmt::format(
            "parameter '{}' became NaN or infinite at epoch {}, step {} (learning rate {:.3g}); kept the best "
            "checkpoint (epoch {}) — try a smaller --lr",
            bad, epoch + 1, step + 1, lr, result.best_epoch);
        break;
      }
      ++step;
      meter.add(r.loss, r.accuracy, bn);
      if (on_progress) on_progress(meter.progress());
    }
    if (result.stopped) break;
    EpochStats st = meter.stats();
    ir::Model exported = qat_export(g, tg.parameters());
    try {
      if (val) st.val_top1 = evaluate_top1(exported, *val, threads);
      else check_runs(exported, first_batch(all.x, sample, std::min<int64_t>(n, cfg.batch)), threads);
    } catch (const InputError& e) {  // diverged weights: e.g. int32 accumulators that could overflow
      result.stopped = true;
      result.stop_reason = fmt::format(
          "the model exported after epoch {} does not run ({}) — training diverged (learning rate {:.3g}); kept "
          "the best checkpoint (epoch {}) — try a smaller --lr",
          epoch + 1, e.what(), lr_at(cfg, total_steps, step - 1), result.best_epoch);
      break;
    }
    if (!val || st.val_top1 > result.best_top1) {
      result.model = std::move(exported);
      result.best_epoch = st.epoch;
      if (val) result.best_top1 = st.val_top1;
    }
    result.epochs.push_back(st);
    if (on_progress) {
      Progress p;
      p.epoch = st.epoch, p.epochs = cfg.epochs, p.done = p.total = n;
      p.loss = st.loss, p.accuracy = st.accuracy, p.images_per_s = st.images_per_s;
      p.epoch_end = true, p.stats = st;
      on_progress(p);
    }
  }
  result.seconds = seconds_since(run_start);
  return result;
}

}  // namespace qforge::train
