#include "dataset_options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace qforge::cli {

namespace {

std::vector<float> parse_floats(const std::string& text, const char* option) {
  std::vector<float> out;
  if (text.empty()) return out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    float v = std::strtof(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(v))
      fail_input("{}: '{}' is not a number (expected one value or a comma-separated list)", option, item);
    out.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

void add_dataset_options(CLI::App& app, DatasetOptions& o, const std::string& data_flag) {
  app.add_option(data_flag, o.spec,
                 "dataset: fashion-mnist:train|test, idx:IMAGES[,LABELS], npy:FILE[,LABELS.npy], "
                 "images:DIR; a trailing :N keeps the first N samples")
      ->required();
  const char* group = "Preprocessing";
  app.add_option("--mean", o.mean, "subtracted from each pixel: one value or one per channel (comma-separated)")
      ->group(group);
  app.add_option("--std", o.std, "divides each pixel after --mean: one value or one per channel")->group(group);
  app.add_option("--resize", o.resize, "resize the shorter side to this size (bilinear); 0 = keep")
      ->check(CLI::Range(0, 16384))
      ->group(group);
  app.add_option("--center-crop", o.center_crop, "square center crop of this size; 0 = none")
      ->check(CLI::Range(0, 16384))
      ->group(group);
  app.add_option("--layout", o.layout, "tensor layout of a batch")
      ->check(CLI::IsMember({"nchw", "nhwc"}))
      ->capture_default_str()
      ->group(group);
  CLI::Option* bgr =
      app.add_flag("--bgr", o.bgr, "give colour images in BGR channel order (default RGB)")->group(group);
  app.add_flag("--grayscale", o.grayscale, "convert colour images to one channel")->group(group)->excludes(bgr);
}

data::Preprocess to_preprocess(const DatasetOptions& o) {
  data::Preprocess pp;
  pp.mean = parse_floats(o.mean, "--mean");
  pp.std = parse_floats(o.std, "--std");
  for (float s : pp.std)
    if (s == 0.0f) fail_input("--std: values must be non-zero (got '{}')", o.std);
  pp.resize = o.resize;
  pp.center_crop = o.center_crop;
  pp.layout = o.layout == "nhwc" ? data::Layout::nhwc : data::Layout::nchw;
  pp.bgr = o.bgr;
  pp.grayscale = o.grayscale;
  return pp;
}

std::unique_ptr<data::Dataset> open_dataset(const DatasetOptions& o) {
  return data::open_dataset(o.spec, to_preprocess(o));
}

quant::BatchSourceFactory calib_batches(data::Dataset& ds, int64_t n, int64_t batch) {
  n = std::min(n, ds.size());
  return [&ds, n, batch]() -> quant::BatchSource {
    auto pos = std::make_shared<int64_t>(0);
    return [&ds, n, batch, pos]() -> std::vector<Tensor> {
      if (*pos >= n) return {};
      data::Batch b = ds.read(*pos, std::min(batch, n - *pos));
      *pos += batch;
      return {b.x};
    };
  };
}

}  // namespace qforge::cli
