// The training loop (trainer.h). The whole training set is read once into memory (Fashion-MNIST:
// 188 MB as float32); each batch gathers its shuffled samples, is augmented, and goes through
// forward_backward and one optimizer step.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/cpu.h"
#include "core/error.h"
#include "eval/evaluate.h"
#include "ir/shape_inference.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "train/train_graph.h"

namespace qforge::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string dims_str(const std::vector<ir::Dim>& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += "x";
    s += d[i].is_known() ? std::to_string(d[i].value) : (d[i].param.empty() ? "?" : d[i].param);
  }
  return s;
}

// Classes of the logits output: its last dim after shape inference, or -1 when unknown.
int64_t logits_classes(const ir::Model& model) {
  ir::Model m = model;
  ir::infer_shapes(m);
  const ir::ValueInfo& out = m.graph.outputs.at(0);
  if (!out.has_shape || out.dims.size() != 2)
    fail_input("model output '{}' must be logits [N, classes], got shape {}", out.name,
               out.has_shape ? dims_str(out.dims) : "unknown");
  return out.dims[1].is_known() ? out.dims[1].value : -1;
}

struct LearningRate {
  const TrainConfig& cfg;
  int64_t total_steps;
  double at(int64_t step) const {
    if (cfg.schedule == "constant") return cfg.lr;
    if (cfg.schedule == "cosine") return CosineSchedule{cfg.lr, 0, total_steps, 0}.lr_at(step);
    OneCycleSchedule s;
    s.max_lr = cfg.lr, s.total_steps = total_steps;
    return s.lr_at(step);
  }
};

// One optimizer behind a single step() call.
class Optimizer {
 public:
  explicit Optimizer(const TrainConfig& c)
      : adamw_(c.optimizer == "adamw"), sgd_({.momentum = c.momentum, .weight_decay = c.weight_decay}),
        adam_({.weight_decay = c.weight_decay}) {}
  void step(std::vector<Parameter>& p, double lr) { adamw_ ? adam_.step(p, lr) : sgd_.step(p, lr); }

 private:
  bool adamw_;
  Sgd sgd_;
  AdamW adam_;
};

// No weight decay on BatchNormalization scale/shift and on biases (1-D parameters), as the common
// PyTorch recipes do.
void exclude_1d_from_decay(std::vector<Parameter>& params) {
  for (Parameter& p : params)
    if (p.value.shape().size() <= 1) p.decay = false;
}

}  // namespace

void check_trainable(const ir::Model& model, const data::Dataset& train, const TrainConfig& cfg) {
  if (cfg.epochs <= 0) fail_input("--epochs must be positive, got {}", cfg.epochs);
  if (cfg.batch <= 0) fail_input("--batch must be positive, got {}", cfg.batch);
  if (!(cfg.lr > 0) || !std::isfinite(cfg.lr)) fail_input("--lr must be a positive number, got {}", cfg.lr);
  if (!(cfg.weight_decay >= 0) || !std::isfinite(cfg.weight_decay))
    fail_input("--weight-decay must be a non-negative number, got {}", cfg.weight_decay);
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) fail_input("--momentum must be in [0, 1), got {}", cfg.momentum);
  if (cfg.optimizer != "adamw" && cfg.optimizer != "sgd")
    fail_input("--optimizer must be adamw or sgd, got '{}'", cfg.optimizer);
  if (cfg.schedule != "onecycle" && cfg.schedule != "cosine" && cfg.schedule != "constant")
    fail_input("--schedule must be onecycle, cosine or constant, got '{}'", cfg.schedule);
  if (cfg.augment.crop_pad < 0 || cfg.augment.crop_pad > 64)
    fail_input("--crop-pad must be in [0, 64], got {}", cfg.augment.crop_pad);

  if (!train.has_labels()) fail_input("{}: training needs labels", train.describe());
  if (train.size() == 0) fail_input("{}: the training set is empty", train.describe());
  if (model.graph.inputs.size() != 1 || model.graph.outputs.empty())
    fail_input("training needs a model with one input and a logits output, this one has {} inputs",
               model.graph.inputs.size());
  const ir::ValueInfo& in = model.graph.inputs[0];
  if (in.dtype != DType::f32) fail_input("model input '{}' must be float32, got {}", in.name, dtype_name(in.dtype));
  const Shape sample = train.sample_shape();
  if (in.has_shape) {
    bool fits = in.dims.size() == sample.size() + 1;
    for (size_t i = 0; fits && i < sample.size(); ++i)
      fits = !in.dims[i + 1].is_known() || in.dims[i + 1].value == sample[i];
    if (!fits)
      fail_input("{}: samples of shape {} do not fit the model input '{}' of shape {}", train.describe(),
                 shape_str(sample), in.name, dims_str(in.dims));
  }
  const int64_t classes = logits_classes(model);
  if (classes >= 0 && train.num_classes() > classes)
    fail_input("{}: labels go up to {} but the model has {} classes", train.describe(), train.num_classes() - 1,
               classes);
  if (cfg.augment.hflip || cfg.augment.crop_pad > 0)
    if (sample.size() != 3) fail_input("--crop-pad/--hflip need image samples [C, H, W], got {}", shape_str(sample));
  TrainGraph check(model, {.threads = 1});  // names the first op on a gradient path without a backward rule
}

double evaluate_top1(const ir::Model& model, data::Dataset& ds, int threads) {
  eval::EvalOptions eo;
  eo.batch = 256;
  eo.threads = threads;
  return eval::evaluate(model, ds, eo).metrics.top1();
}

TrainResult train_model(const ir::Model& model, data::Dataset& train, data::Dataset* val, const TrainConfig& cfg,
                        const std::function<void(const Progress&)>& on_progress) {
  check_trainable(model, train, cfg);
  const Clock::time_point run_start = Clock::now();
  const int threads = cfg.threads > 0 ? cfg.threads : default_threads();

  data::Batch all = train.read(0, train.size());
  const int64_t n = train.size();
  for (int32_t l : all.labels)
    if (l < 0) fail_input("{}: negative label {}", train.describe(), l);
  const Shape sample = train.sample_shape();

  TrainGraph tg(model, {.threads = threads});
  exclude_1d_from_decay(tg.parameters());
  Optimizer opt(cfg);
  const int64_t steps_per_epoch = (n + cfg.batch - 1) / cfg.batch;
  const LearningRate lr{cfg, steps_per_epoch * cfg.epochs};
  std::mt19937_64 aug_rng(cfg.seed ^ 0x9e3779b97f4a7c15ULL);

  TrainResult result;
  result.model = tg.model();  // the last good weights: the start
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < cfg.epochs && !result.stopped; ++epoch) {
    const std::vector<int64_t> order = shuffled_indices(n, cfg.seed, epoch);
    EpochMeter meter(epoch, cfg.epochs, n);
    tg.set_training(true);
    for (int64_t b = 0; b < n; b += cfg.batch) {
      const int64_t bn = std::min(cfg.batch, n - b);
      auto [x, labels] = gather_batch(all, sample, order, b, bn);
      if (cfg.augment.crop_pad > 0 || cfg.augment.hflip) augment_batch(x, cfg.augment, aug_rng);
      const StepResult r = tg.forward_backward(x, labels);
      if (!std::isfinite(r.loss)) {
        result.stopped = true;
        result.stop_reason = fmt::format(
            "the loss became {} at epoch {}, step {} (learning rate {:.3g}); kept the weights of the last "
            "completed epoch — try a smaller --lr",
            std::isnan(r.loss) ? "NaN" : "infinite", epoch + 1, step + 1, lr.at(step));
        break;
      }
      opt.step(tg.parameters(), lr.at(step));
      ++step;
      meter.add(r.loss, r.accuracy, bn);
      if (on_progress) on_progress(meter.progress());
    }
    if (result.stopped) break;
    EpochStats st = meter.stats();
    result.model = tg.model();
    if (val) st.val_top1 = evaluate_top1(result.model, *val, threads);
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


MiniBatch gather_batch(const data::Batch& all, const Shape& sample, const std::vector<int64_t>& order, int64_t b,
                       int64_t n) {
  const int64_t sample_numel = shape_numel(sample);
  Shape bs = sample;
  bs.insert(bs.begin(), n);
  MiniBatch m{Tensor(DType::f32, bs), std::vector<int64_t>(static_cast<size_t>(n))};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = order[static_cast<size_t>(b + i)];
    std::memcpy(m.x.data<float>() + i * sample_numel, all.x.data<float>() + src * sample_numel,
                static_cast<size_t>(sample_numel) * sizeof(float));
    m.labels[static_cast<size_t>(i)] = all.labels[static_cast<size_t>(src)];
  }
  return m;
}

EpochMeter::EpochMeter(int64_t epoch, int64_t epochs, int64_t total) : epoch_(epoch), epochs_(epochs), total_(total) {}

void EpochMeter::add(double loss, double accuracy, int64_t images) {
  loss_sum_ += loss * static_cast<double>(images);
  correct_ += accuracy * static_cast<double>(images);
  seen_ += images;
}

Progress EpochMeter::progress() const {
  Progress p;
  p.epoch = epoch_ + 1, p.epochs = epochs_, p.done = seen_, p.total = total_;
  p.loss = loss_sum_ / static_cast<double>(seen_), p.accuracy = correct_ / static_cast<double>(seen_);
  p.images_per_s = static_cast<double>(seen_) / std::max(1e-9, seconds_since(t0_));
  return p;
}

EpochStats EpochMeter::stats() const {
  EpochStats st;
  st.epoch = epoch_ + 1;
  st.seconds = seconds_since(t0_);
  st.loss = loss_sum_ / static_cast<double>(seen_);
  st.accuracy = correct_ / static_cast<double>(seen_);
  st.images_per_s = static_cast<double>(seen_) / std::max(1e-9, st.seconds);
  return st;
}

}  // namespace qforge::train
