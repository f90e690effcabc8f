// The dataset and preprocessing options every command that takes a dataset shares (eval now;
// calibration and training later), so they are spelled and checked the same everywhere.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "data/dataset.h"
#include "quant/calibrate.h"

namespace qforge::cli {

struct DatasetOptions {
  std::string spec;  // fashion-mnist:test, idx:..., npy:..., images:DIR, with an optional ":N"
  std::string mean, std;  // "0.5" or "0.485,0.456,0.406"
  int resize = 0;
  int center_crop = 0;
  std::string layout = "nchw";
  bool bgr = false;
  bool grayscale = false;
};

// Adds --data (named `data_flag`) and the preprocessing options to `app`.
void add_dataset_options(CLI::App& app, DatasetOptions& o, const std::string& data_flag = "--data");

// The preprocessing the options describe; InputError naming the option on a bad value.
data::Preprocess to_preprocess(const DatasetOptions& o);

std::unique_ptr<data::Dataset> open_dataset(const DatasetOptions& o);

// Calibration batches (quant/calibrate.h) over the first n samples of `ds` (all when n exceeds its
// size), `batch` samples at a time; each call of the factory starts a fresh pass. `ds` must outlive it.
quant::BatchSourceFactory calib_batches(data::Dataset& ds, int64_t n, int64_t batch = 64);

}  // namespace qforge::cli
