// Accuracy of a classifier on a labelled dataset: streams the dataset through a runtime::Session in
// batches and accumulates ClassificationMetrics. The model must take one f32 input whose shape is
// [batch, sample...] for the dataset's sample shape, and give [batch, classes] scores as its first
// output (logits or probabilities; both rank the same).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "ir/graph.h"

namespace qforge::eval {

struct EvalOptions {
  int batch = 64;   // samples per run; a model with a fixed batch dim runs at that size instead
  int threads = 0;  // 0: default_threads()
  int top_k = 5;
  // Called after every batch with (samples done, samples total).
  std::function<void(int64_t, int64_t)> progress;
};

struct EvalResult {
  std::string dataset;                   // the dataset's describe()
  std::vector<std::string> class_names;  // from the dataset, empty when it has none
  ClassificationMetrics metrics;
  int64_t batch = 0;   // samples per run actually used
  int threads = 0;     // threads the session ran with
  double seconds = 0;  // wall time of the whole evaluation (reading, preprocessing, running)
  double samples_per_second() const {
    return seconds > 0 ? static_cast<double>(metrics.samples()) / seconds : 0.0;
  }
};

// InputError when the dataset has no labels, when the model's input does not fit the dataset's
// samples (naming both shapes), or when its output is not [batch, classes].
EvalResult evaluate(const ir::Model& model, data::Dataset& dataset, const EvalOptions& opts = {});

}  // namespace qforge::eval
