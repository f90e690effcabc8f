// npy:FILE[,LABELS.npy] — the first axis is the sample axis. float32 samples are used as they are,
// float64 and float16 are converted to float32, uint8 samples are scaled by 1/255. The payload is
// read per batch with pread; only the optional labels file is read whole.
#include <cstring>

#include "core/error.h"
#include "data/array_dataset.h"
#include "data/dataset_kinds.h"
#include "data/file_reader.h"
#include "data/npy.h"
#include "data/npy_header.h"

namespace qforge::data {
namespace {

class NpyDataset : public ArrayDataset {
 public:
  NpyDataset(std::unique_ptr<FileReader> file, const NpyHeader& h, std::optional<std::vector<int32_t>> labels,
             const Preprocess& pp, const std::string& spec)
      : ArrayDataset(spec, Shape(h.shape.begin() + 1, h.shape.end()), h.shape[0], std::move(labels), pp),
        file_(std::move(file)),
        header_(h),
        sample_numel_(shape_numel(Shape(h.shape.begin() + 1, h.shape.end()))) {}

 protected:
  void read_raw(int64_t begin, int64_t n, float* dst) override {
    size_t numel = static_cast<size_t>(n * sample_numel_);
    uint64_t offset = header_.data_offset + static_cast<uint64_t>(begin * sample_numel_) * header_.itemsize;
    if (header_.dtype == DType::f32) {
      file_->read_at(offset, numel * 4, dst);
      return;
    }
    std::vector<uint8_t> buf(numel * header_.itemsize);
    file_->read_at(offset, buf.size(), buf.data());
    const uint8_t* p = buf.data();
    for (size_t i = 0; i < numel; ++i) {
      switch (header_.dtype) {
        case DType::u8: dst[i] = static_cast<float>(p[i]) / 255.0f; break;
        case DType::f16: {
          uint16_t v;
          std::memcpy(&v, p + 2 * i, 2);
          dst[i] = f16_to_f32(v);
          break;
        }
        default: {
          double v;
          std::memcpy(&v, p + 8 * i, 8);
          dst[i] = static_cast<float>(v);
        }
      }
    }
  }

 private:
  std::unique_ptr<FileReader> file_;
  NpyHeader header_;
  int64_t sample_numel_;
};

std::vector<int32_t> read_npy_labels(const std::string& path) {
  Tensor t = read_npy(path);
  if (!dtype_is_integer(t.dtype()))
    fail_input("{}: labels must have an integer dtype, this file holds {}", path, dtype_name(t.dtype()));
  if (t.rank() != 1) fail_input("{}: labels must have shape [n], this file has {}", path, shape_str(t.shape()));
  return checked_labels(t.to_i64_vector(), path);
}

}  // namespace

std::unique_ptr<Dataset> open_npy_dataset(const std::string& file, const std::string& labels,
                                          const Preprocess& pp, const std::string& spec) {
  auto f = std::make_unique<FileReader>(file);
  std::string prefix = f->read_string(0, static_cast<size_t>(std::min<uint64_t>(f->size(), kNpyMaxHeaderBytes + 12)));
  NpyHeader h = parse_npy_header(prefix, file);
  check_npy_payload(h, f->size() - h.data_offset, file);
  if (h.dtype != DType::f32 && h.dtype != DType::f64 && h.dtype != DType::f16 && h.dtype != DType::u8)
    fail_input("{}: samples must be float32, float64, float16 or uint8, this file holds {}", file, dtype_name(h.dtype));
  if (h.shape.empty()) fail_input("{}: a dataset needs a first (sample) axis, this array is a scalar", file);
  std::optional<std::vector<int32_t>> lab;
  if (!labels.empty()) {
    lab = read_npy_labels(labels);
    if (static_cast<int64_t>(lab->size()) != h.shape[0])
      fail_input("{}: {} labels for the {} samples of {}", labels, lab->size(), h.shape[0], file);
  }
  return std::make_unique<NpyDataset>(std::move(f), h, std::move(lab), pp, spec);
}

}  // namespace qforge::data
