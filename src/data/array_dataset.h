// Datasets whose samples all have one shape and come from an array on disk (IDX, .npy). The kind
// supplies raw float samples; this base adds labels, the sample-count check and preprocessing.
// With the default Preprocess samples pass through as stored. Other options need samples of rank 3,
// read as images [C, H, W] (an NHWC .npy must be transposed first).
#pragma once
#include <optional>

#include "data/dataset.h"
#include "data/preprocess.h"

namespace qforge::data {

// Labels must lie in [0, kMaxLabel].
constexpr int64_t kMaxLabel = (int64_t{1} << 20) - 1;

// InputError "<what>: ..." on a negative or too large label; returns them as int32.
std::vector<int32_t> checked_labels(const std::vector<int64_t>& labels, const std::string& what);

class ArrayDataset : public Dataset {
 public:
  // raw_sample: shape of one sample as stored; labels: one per sample, or none.
  ArrayDataset(std::string spec, Shape raw_sample, int64_t count, std::optional<std::vector<int32_t>> labels,
               const Preprocess& pp, std::vector<std::string> class_names = {});

  int64_t size() const override { return count_; }
  Shape sample_shape() const override { return sample_; }
  bool has_labels() const override { return labels_.has_value(); }
  int num_classes() const override { return num_classes_; }
  std::vector<std::string> class_names() const override { return class_names_; }
  Batch read(int64_t begin, int64_t n) override;
  std::string describe() const override { return spec_; }

 protected:
  // Writes samples [begin, begin + n) as float32 in their stored shape to dst.
  virtual void read_raw(int64_t begin, int64_t n, float* dst) = 0;

 private:
  std::string spec_;
  Shape raw_sample_, sample_;
  int64_t count_ = 0;
  std::optional<std::vector<int32_t>> labels_;
  int num_classes_ = 0;
  std::vector<std::string> class_names_;
  std::optional<Pipeline> pipeline_;  // set for image samples whose preprocessing is not the identity
};

}  // namespace qforge::data
