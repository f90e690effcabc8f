// Datasets on the command line (DESIGN "Datasets"):
//   fashion-mnist:train | fashion-mnist:test   Debian's dataset-fashion-mnist (IDX, gzip)
//   idx:IMAGES[,LABELS]                        IDX files, raw or gzip
//   npy:FILE[,LABELS.npy]                      float32 (as is) or uint8 (/255) samples, first axis = sample
//   images:DIR                                 one sub-folder per class, PNG/JPEG, classes sorted by name
// A trailing ":N" limits the dataset to its first N samples. Images load as float32 in [0, 1], then
// Preprocess applies resize, center crop, channel order, (x - mean) / std and layout, in that order.
// Batches stream from disk: a dataset is not held whole in memory when it need not be.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qforge::data {

enum class Layout { nchw, nhwc };

struct Preprocess {
  std::vector<float> mean;  // empty: 0; one value or one per channel
  std::vector<float> std;   // empty: 1; one value or one per channel
  int resize = 0;           // shorter side to this size (bilinear), 0 = keep
  int center_crop = 0;      // square crop of this size, 0 = none
  Layout layout = Layout::nchw;
  bool bgr = false;         // channel order for 3-channel images
  bool grayscale = false;   // convert colour images to one channel
};

struct Batch {
  Tensor x;                     // f32 [n, C, H, W] (nchw) or [n, H, W, C]; for npy: [n, ...]
  std::vector<int32_t> labels;  // empty when the dataset has no labels
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Shape of one preprocessed sample, e.g. [1, 28, 28].
  virtual Shape sample_shape() const = 0;
  virtual bool has_labels() const = 0;
  // Number of classes (max label + 1, or the folder count); 0 without labels.
  virtual int num_classes() const = 0;
  virtual std::vector<std::string> class_names() const { return {}; }
  // Samples [begin, begin + n) clipped to size(); InputError on corrupt data.
  virtual Batch read(int64_t begin, int64_t n) = 0;
  // The spec it was opened from, for messages.
  virtual std::string describe() const = 0;
};

// InputError naming the spec on an unknown kind, a missing file or corrupt content.
std::unique_ptr<Dataset> open_dataset(const std::string& spec, const Preprocess& pp = {});
// The folder Debian's dataset-fashion-mnist installs to (QFORGE_FASHION_MNIST_DIR overrides).
std::string fashion_mnist_dir();

}  // namespace qforge::data
