#include "data/array_dataset.h"

#include <algorithm>

#include "core/error.h"

namespace qforge::data {

std::vector<int32_t> checked_labels(const std::vector<int64_t>& labels, const std::string& what) {
  std::vector<int32_t> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] > kMaxLabel)
      fail_input("{}: label {} of sample {} is outside [0, {}]", what, labels[i], i, kMaxLabel);
    out[i] = static_cast<int32_t>(labels[i]);
  }
  return out;
}

ArrayDataset::ArrayDataset(std::string spec, Shape raw_sample, int64_t count,
                           std::optional<std::vector<int32_t>> labels, const Preprocess& pp,
                           std::vector<std::string> class_names)
    : spec_(std::move(spec)),
      raw_sample_(std::move(raw_sample)),
      count_(count),
      labels_(std::move(labels)),
      class_names_(std::move(class_names)) {
  if (labels_) {
    if (static_cast<int64_t>(labels_->size()) != count_)
      fail_input("{}: {} samples but {} labels", spec_, count_, labels_->size());
    int32_t max_label = -1;
    for (int32_t l : *labels_) max_label = std::max(max_label, l);
    num_classes_ = std::max<int>(max_label + 1, static_cast<int>(class_names_.size()));
  }
  sample_ = raw_sample_;
  if (preprocess_is_default(pp)) return;
  if (raw_sample_.size() != 3)
    fail_input("{}: preprocessing needs image samples [C, H, W], these are {}", spec_, shape_str(raw_sample_));
  for (int64_t d : raw_sample_)
    if (d <= 0 || d > (int64_t{1} << 20))
      fail_input("{}: cannot preprocess samples of shape {} as images [C, H, W]", spec_, shape_str(raw_sample_));
  Pipeline p(pp, static_cast<int>(raw_sample_[0]), spec_);
  sample_ = p.sample_shape(static_cast<int>(raw_sample_[1]), static_cast<int>(raw_sample_[2]), spec_);
  if (!p.is_identity()) pipeline_.emplace(std::move(p));
}

Batch ArrayDataset::read(int64_t begin, int64_t n) {
  QF_CHECK(begin >= 0 && n >= 0);
  begin = std::min(begin, count_);
  n = std::min(n, count_ - begin);
  Shape shape = sample_;
  shape.insert(shape.begin(), n);
  Batch b{Tensor(DType::f32, shape), {}};
  if (labels_) b.labels.assign(labels_->begin() + begin, labels_->begin() + begin + n);
  if (n == 0) return b;
  if (!pipeline_) {
    read_raw(begin, n, b.x.data<float>());
    return b;
  }
  int64_t raw_numel = shape_numel(raw_sample_), out_numel = shape_numel(sample_);
  std::vector<float> raw(static_cast<size_t>(raw_numel * n));
  read_raw(begin, n, raw.data());
  for (int64_t i = 0; i < n; ++i) {
    Image img(static_cast<int>(raw_sample_[0]), static_cast<int>(raw_sample_[1]), static_cast<int>(raw_sample_[2]));
    std::copy_n(raw.data() + i * raw_numel, raw_numel, img.px.data());
    pipeline_->run(std::move(img), sample_, b.x.data<float>() + i * out_numel, spec_);
  }
  return b;
}

}  // namespace qforge::data
