// images:DIR — one sub-folder per class (classes sorted by folder name, files sorted by name), PNG
// and JPEG files recognised by extension and decoded by their magic bytes. Images are decoded per
// batch (in parallel), converted to RGB (or to gray with Preprocess::grayscale) and preprocessed.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <optional>

#include "core/cpu.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/dataset_kinds.h"
#include "data/image_decode.h"
#include "data/preprocess.h"

namespace qforge::data {
namespace {

namespace fs = std::filesystem;

bool is_image_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> sorted_entries(const fs::path& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (want_dirs ? e.is_directory(ec) : (e.is_regular_file(ec) && is_image_name(name))) names.push_back(name);
  }
  if (ec) fail_input("{}: cannot list the folder: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

class ImageFolderDataset : public Dataset {
 public:
  ImageFolderDataset(const std::string& dir, const Preprocess& pp, std::string spec)
      : spec_(std::move(spec)), rgb_(pp, 3, spec_) {
    if (pp.grayscale) gray_.emplace(pp, 1, spec_);
    if (!fs::is_directory(dir)) fail_input("{}: not a folder", dir);
    classes_ = sorted_entries(dir, true);
    if (classes_.empty()) fail_input("{}: no class sub-folders", dir);
    for (size_t c = 0; c < classes_.size(); ++c)
      for (const std::string& f : sorted_entries(fs::path(dir) / classes_[c], false)) {
        files_.push_back((fs::path(dir) / classes_[c] / f).string());
        labels_.push_back(static_cast<int32_t>(c));
      }
    if (files_.empty()) fail_input("{}: no PNG or JPEG files in its class sub-folders", dir);
    // The sample shape follows from the first image (all must come out the same size).
    Image first = decode_image(read_file(files_[0]), files_[0]);
    sample_ = rgb_.sample_shape(first.h, first.w, files_[0]);
  }

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  Shape sample_shape() const override { return sample_; }
  bool has_labels() const override { return true; }
  int num_classes() const override { return static_cast<int>(classes_.size()); }
  std::vector<std::string> class_names() const override { return classes_; }
  std::string describe() const override { return spec_; }

  Batch read(int64_t begin, int64_t n) override {
    QF_CHECK(begin >= 0 && n >= 0);
    begin = std::min(begin, size());
    n = std::min(n, size() - begin);
    Shape shape = sample_;
    shape.insert(shape.begin(), n);
    Batch b{Tensor(DType::f32, shape), std::vector<int32_t>(labels_.begin() + begin, labels_.begin() + begin + n)};
    int64_t numel = shape_numel(sample_);
    float* out = b.x.data<float>();
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n));  // exceptions must not leave the omp loop
    int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, default_threads())));
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) {
      try {
        load(files_[begin + i], out + i * numel);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    return b;
  }

 private:
  void load(const std::string& path, float* dst) const {
    Image img = decode_image(read_file(path), path);
    if (img.c == 1 && gray_) {
      gray_->run(std::move(img), sample_, dst, path);
      return;
    }
    if (img.c == 1) img = gray_to_rgb(img);
    rgb_.run(std::move(img), sample_, dst, path);
  }

  std::string spec_;
  Pipeline rgb_;                  // for RGB images
  std::optional<Pipeline> gray_;  // for gray images when the output is gray
  std::vector<std::string> classes_, files_;
  std::vector<int32_t> labels_;
  Shape sample_;
};

}  // namespace

std::unique_ptr<Dataset> open_image_folder(const std::string& dir, const Preprocess& pp, const std::string& spec) {
  return std::make_unique<ImageFolderDataset>(dir, pp, spec);
}

}  // namespace qforge::data
