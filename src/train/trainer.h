// The training loop behind `qforge train` (and later `qforge qat`): epochs of shuffled, augmented
// mini-batches through a TrainGraph, an optimizer and a learning-rate schedule, optional validation
// after each epoch, and a stop on a non-finite loss that keeps the last good weights.
//
// Deterministic: the data order comes from shuffled_indices(seed, epoch) and the augmentation from
// one mt19937_64 seeded with `seed`, so the same seed and thread count give the same model bytes.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "ir/graph.h"
#include "train/augment.h"

namespace qforge::train {

struct TrainConfig {
  int64_t epochs = 10;
  int64_t batch = 128;
  std::string optimizer = "sgd";     // sgd | adamw
  double lr = 0.1;                   // peak learning rate
  double weight_decay = 0.0005;
  double momentum = 0.9;             // sgd only
  std::string schedule = "onecycle"; // onecycle | cosine | constant
  uint64_t seed = 0;
  int threads = 0;                   // 0: default_threads()
  AugmentOptions augment;
};

struct EpochStats {
  int64_t epoch = 0;         // 1-based
  double loss = 0;           // mean training loss over the epoch
  double accuracy = 0;       // training accuracy (on augmented batches)
  double seconds = 0;        // training time of the epoch (validation excluded)
  double images_per_s = 0;
  double val_top1 = -1;      // -1: no validation set
};

struct Progress {
  int64_t epoch = 0, epochs = 0;  // epoch is 1-based
  int64_t done = 0, total = 0;    // images of this epoch
  double loss = 0, accuracy = 0;  // running means over this epoch
  double images_per_s = 0;
  bool epoch_end = false;         // the epoch's final report (stats complete, val_top1 set)
  EpochStats stats;               // valid when epoch_end
};

// Samples order[b], ..., order[b + n - 1] of `all` (each of shape `sample`) as one batch.
struct MiniBatch {
  Tensor x;
  std::vector<int64_t> labels;
};
MiniBatch gather_batch(const data::Batch& all, const Shape& sample, const std::vector<int64_t>& order, int64_t b,
                       int64_t n);

// The running means and the clock of one epoch (train_model and qat_train report the same way).
class EpochMeter {
 public:
  EpochMeter(int64_t epoch, int64_t epochs, int64_t total);  // epoch 0-based; total: images per epoch
  void add(double loss, double accuracy, int64_t images);    // one batch's mean loss and accuracy
  Progress progress() const;                                 // the running figures so far
  EpochStats stats() const;                                  // the epoch's figures (val_top1 = -1)

 private:
  int64_t epoch_, epochs_, total_, seen_ = 0;
  double loss_sum_ = 0, correct_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

struct TrainResult {
  ir::Model model;                // the trained model (the last good weights when stopped)
  std::vector<EpochStats> epochs;
  bool stopped = false;           // a non-finite loss stopped training
  std::string stop_reason;
  double seconds = 0;             // wall time of the whole run
};

// Checks that `model` can be trained on `train` (one float input whose known dims match the sample
// shape, logits [N, K] with K ≥ the dataset's class count, labels present) and that the config is
// valid; InputError naming the option or the mismatch otherwise.
void check_trainable(const ir::Model& model, const data::Dataset& train, const TrainConfig& cfg);

// Trains a copy of `model`. `val` may be null. `on_progress` (may be empty) is called during each
// epoch and once at its end.
TrainResult train_model(const ir::Model& model, data::Dataset& train, data::Dataset* val, const TrainConfig& cfg,
                        const std::function<void(const Progress&)>& on_progress = {});

// Top-1 accuracy of a TrainGraph-trainable model on a labelled dataset (inference mode).
double evaluate_top1(const ir::Model& model, data::Dataset& ds, int threads);

}  // namespace qforge::train
