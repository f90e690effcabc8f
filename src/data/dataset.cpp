// open_dataset: spec parsing ("KIND:ARGS[:N]") and the dispatch to the kind openers.
#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "data/dataset_kinds.h"

namespace qforge::data {
namespace {

const std::vector<std::string> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Spec {
  std::string kind, args;
  int64_t begin = 0;              // ":A-B": samples A .. B-1
  std::optional<int64_t> limit;   // ":N" or ":A-B": the sample count kept from `begin`
};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t parse_count(const std::string& digits) {
  int64_t n = 0;
  for (char c : digits)
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, c - '0', &n))
      fail_input("sample count '{}' is too large", digits);
  return n;
}

// A trailing ":N" is a sample count when N is all digits; ":A-B" (digits '-' digits) keeps samples A to
// B-1 (0-based, half-open), e.g. a held-out validation slice. A trailing part that starts like a
// number (digit or sign) but is neither, and holds no '/' or '.', is a malformed count; anything else
// belongs to a path.
Spec split_spec(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0)
    fail_input("expected KIND:ARGS[:N|:A-B] with KIND one of fashion-mnist, idx, npy, images");
  Spec s{spec.substr(0, colon), spec.substr(colon + 1), 0, std::nullopt};
  size_t last = s.args.rfind(':');
  if (last == std::string::npos) return s;
  std::string tail = s.args.substr(last + 1);
  if (all_digits(tail)) {
    int64_t n = parse_count(tail);
    if (n == 0) fail_input("sample count must be at least 1, got '{}'", tail);
    s.limit = n;
    s.args.resize(last);
    return s;
  }
  size_t dash = tail.find('-');
  if (dash != std::string::npos && all_digits(tail.substr(0, dash)) && all_digits(tail.substr(dash + 1))) {
    int64_t a = parse_count(tail.substr(0, dash)), b = parse_count(tail.substr(dash + 1));
    if (b <= a) fail_input("sample range '{}' is empty (expected A-B with A < B)", tail);
    s.begin = a;
    s.limit = b - a;
    s.args.resize(last);
    return s;
  }
  bool numberish = tail.empty() || (tail.find_first_of("/.") == std::string::npos &&
                                    (std::isdigit(static_cast<unsigned char>(tail[0])) || tail[0] == '-' || tail[0] == '+'));
  if (numberish)
    fail_input("bad sample count '{}' after the last ':' (expected a positive integer N or a range A-B)", tail);
  return s;
}

// "a,b" -> {"a", "b"}; "a" -> {"a", ""}.
std::pair<std::string, std::string> split_pair(const std::string& args, const char* what) {
  size_t comma = args.find(',');
  std::string first = args.substr(0, comma), second = comma == std::string::npos ? "" : args.substr(comma + 1);
  if (first.empty()) fail_input("missing the {} file", what);
  if (comma != std::string::npos && second.empty()) fail_input("empty labels file name after ','");
  return {first, second};
}

std::string fashion_mnist_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  for (const std::string& candidate : {name + ".gz", name})
    if (fs::exists(fs::path(dir) / candidate)) return (fs::path(dir) / candidate).string();
  fail_input("cannot find {}/{}.gz (install Debian's dataset-fashion-mnist or set QFORGE_FASHION_MNIST_DIR)", dir,
             name);
}

std::unique_ptr<Dataset> open_fashion_mnist(const std::string& split, const Preprocess& pp, const std::string& spec) {
  if (split != "train" && split != "test")
    fail_input("the fashion-mnist split must be 'train' or 'test', got '{}'", split);
  std::string prefix = split == "train" ? "train" : "t10k";
  std::string dir = fashion_mnist_dir();
  std::string images = fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
  std::string labels = fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
  return open_idx_dataset(images, labels, pp, spec, kFashionMnistClasses);
}

// Samples [begin, begin + count) of another dataset (clipped to its size).
class SliceDataset : public Dataset {
 public:
  SliceDataset(std::unique_ptr<Dataset> inner, int64_t begin, int64_t count, const std::string& spec)
      : inner_(std::move(inner)), begin_(begin), count_(count) {
    if (begin_ >= inner_->size())
      fail_input("{}: the range starts at sample {} but the dataset has {} samples", spec, begin_, inner_->size());
  }
  int64_t size() const override { return std::min(inner_->size() - begin_, count_); }
  Shape sample_shape() const override { return inner_->sample_shape(); }
  bool has_labels() const override { return inner_->has_labels(); }
  int num_classes() const override { return inner_->num_classes(); }
  std::vector<std::string> class_names() const override { return inner_->class_names(); }
  Batch read(int64_t begin, int64_t n) override {
    QF_CHECK(begin >= 0 && n >= 0);
    begin = std::min(begin, size());
    return inner_->read(begin_ + begin, std::min(n, size() - begin));
  }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<Dataset> inner_;
  int64_t begin_, count_;
};

std::unique_ptr<Dataset> open_spec(const std::string& spec, const Preprocess& pp) {
  Spec s = split_spec(spec);
  std::unique_ptr<Dataset> ds;
  if (s.kind == "fashion-mnist") {
    ds = open_fashion_mnist(s.args, pp, spec);
  } else if (s.kind == "idx") {
    auto [images, labels] = split_pair(s.args, "IDX images");
    ds = open_idx_dataset(images, labels, pp, spec);
  } else if (s.kind == "npy") {
    auto [file, labels] = split_pair(s.args, ".npy");
    ds = open_npy_dataset(file, labels, pp, spec);
  } else if (s.kind == "images") {
    if (s.args.empty()) fail_input("missing the image folder");
    ds = open_image_folder(s.args, pp, spec);
  } else {
    fail_input("unknown dataset kind '{}' (expected fashion-mnist, idx, npy or images)", s.kind);
  }
  if (s.limit) ds = std::make_unique<SliceDataset>(std::move(ds), s.begin, *s.limit, spec);
  return ds;
}

}  // namespace

std::string fashion_mnist_dir() {
  const char* env = std::getenv("QFORGE_FASHION_MNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

std::unique_ptr<Dataset> open_dataset(const std::string& spec, const Preprocess& pp) {
  try {
    return open_spec(spec, pp);
  } catch (const InputError& e) {
    throw InputError(fmt::format("dataset '{}': {}", spec, e.what()));
  }
}

}  // namespace qforge::data
