// Dataset specs and Debian's Fashion-MNIST. Facts checked against the files with Python's gzip
// module: 60000 train / 10000 test samples, first label 9 (Ankle boot) in both, 1000 test images
// per class; pixel values are compared with bytes read here straight from the gzip file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "data/dataset.h"
#include "../temp_dir.h"

using namespace qforge;
using namespace qforge::data;
using qforge::testing::TempDir;

namespace {

void expect_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError; expected one mentioning '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::string fmnist_file(const std::string& name) { return fashion_mnist_dir() + "/" + name; }

bool have_fashion_mnist() { return std::filesystem::exists(fmnist_file("t10k-images-idx3-ubyte.gz")); }

// The first `n` bytes of a gzip file, decompressed here with zlib (independent of IdxFile).
std::string gunzip_prefix(const std::string& path, size_t n) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr);
  std::string out(n, '\0');
  EXPECT_EQ(gzread(f, out.data(), static_cast<unsigned>(n)), static_cast<int>(n));
  gzclose(f);
  return out;
}

// The test command installs dataset-fashion-mnist (scripts/deps.sh); its absence is a failure.
#define REQUIRE_FASHION_MNIST() \
  ASSERT_TRUE(have_fashion_mnist()) << "dataset-fashion-mnist is not installed at " << fashion_mnist_dir()

}  // namespace

TEST(FashionMnist, SizesLabelsAndClasses) {
  REQUIRE_FASHION_MNIST();
  auto test = open_dataset("fashion-mnist:test");
  auto train = open_dataset("fashion-mnist:train");
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(train->size(), 60000);
  for (auto* ds : {test.get(), train.get()}) {
    EXPECT_EQ(ds->sample_shape(), (Shape{1, 28, 28}));
    EXPECT_TRUE(ds->has_labels());
    EXPECT_EQ(ds->num_classes(), 10);
    ASSERT_EQ(ds->class_names().size(), 10u);
    EXPECT_EQ(ds->class_names()[0], "T-shirt/top");
    EXPECT_EQ(ds->class_names()[9], "Ankle boot");
    EXPECT_EQ(ds->read(0, 1).labels, (std::vector<int32_t>{9}));
  }
  // Test labels 0..9 from the file: 9 2 1 1 6 1 4 6 5 7.
  EXPECT_EQ(test->read(0, 10).labels, (std::vector<int32_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(test->describe(), "fashion-mnist:test");
}

TEST(FashionMnist, PixelsMatchTheFile) {
  REQUIRE_FASHION_MNIST();
  // Header 16 bytes, then 28 * 28 bytes per image; check images 0, 1 and 9999.
  std::string raw = gunzip_prefix(fmnist_file("t10k-images-idx3-ubyte.gz"), 16 + 784 * 10000);
  ASSERT_EQ(static_cast<uint8_t>(raw[16 + 28 * 10 + 15]), 53);  // row 10, column 15 of image 0
  auto ds = open_dataset("fashion-mnist:test");
  for (int64_t i : {0, 1, 9999}) {
    Batch b = ds->read(i, 1);
    ASSERT_EQ(b.x.shape(), (Shape{1, 1, 28, 28}));
    for (int p = 0; p < 784; ++p)
      ASSERT_EQ(b.x.data<float>()[p], static_cast<float>(static_cast<uint8_t>(raw[16 + 784 * i + p])) / 255.0f)
          << "image " << i << " pixel " << p;
  }
}

TEST(FashionMnist, LimitSuffix) {
  REQUIRE_FASHION_MNIST();
  auto ds = open_dataset("fashion-mnist:test:100");
  EXPECT_EQ(ds->size(), 100);
  EXPECT_EQ(ds->describe(), "fashion-mnist:test:100");
  EXPECT_EQ(ds->num_classes(), 10);
  Batch b = ds->read(90, 50);
  EXPECT_EQ(b.x.shape(), (Shape{10, 1, 28, 28}));
  EXPECT_EQ(b.labels.size(), 10u);
  EXPECT_EQ(ds->read(100, 5).x.shape(), (Shape{0, 1, 28, 28}));
  EXPECT_EQ(open_dataset("fashion-mnist:test:20000")->size(), 10000);
}

TEST(FashionMnist, RangeSuffix) {
  REQUIRE_FASHION_MNIST();
  // ":A-B" keeps samples A .. B-1: its pixels are the file's images A.. (read here from the gzip).
  std::string raw = gunzip_prefix(fmnist_file("t10k-images-idx3-ubyte.gz"), 16 + 784 * 10000);
  auto ds = open_dataset("fashion-mnist:test:9990-10000");
  EXPECT_EQ(ds->size(), 10);
  EXPECT_EQ(ds->describe(), "fashion-mnist:test:9990-10000");
  Batch b = ds->read(3, 100);
  ASSERT_EQ(b.x.shape(), (Shape{7, 1, 28, 28}));
  for (int p = 0; p < 784; ++p)
    ASSERT_EQ(b.x.data<float>()[p], static_cast<float>(static_cast<uint8_t>(raw[16 + 784 * 9993 + p])) / 255.0f);
  EXPECT_EQ(open_dataset("fashion-mnist:test:9000-20000")->size(), 1000);  // clipped to the dataset
  EXPECT_EQ(open_dataset("fashion-mnist:test:0-1")->read(0, 1).labels, open_dataset("fashion-mnist:test:1")->read(0, 1).labels);
  expect_input_error([] { open_dataset("fashion-mnist:test:10000-10005"); }, "starts at sample 10000 but the dataset has 10000");
}

TEST(FashionMnist, WholeTestSetInBatchesHas1000PerClass) {
  REQUIRE_FASHION_MNIST();
  auto ds = open_dataset("fashion-mnist:test");
  std::vector<int> hist(10, 0);
  int64_t seen = 0;
  for (int64_t begin = 0; begin < ds->size(); begin += 256) {
    Batch b = ds->read(begin, 256);
    EXPECT_EQ(b.x.dim(0), std::min<int64_t>(256, ds->size() - begin));
    ASSERT_EQ(static_cast<int64_t>(b.labels.size()), b.x.dim(0));
    for (int32_t l : b.labels) {
      ASSERT_TRUE(l >= 0 && l < 10);
      ++hist[l];
    }
    seen += b.x.dim(0);
  }
  EXPECT_EQ(seen, 10000);
  EXPECT_EQ(hist, std::vector<int>(10, 1000));
}

TEST(FashionMnist, Preprocessing) {
  REQUIRE_FASHION_MNIST();
  std::string raw = gunzip_prefix(fmnist_file("t10k-images-idx3-ubyte.gz"), 16 + 784);
  auto px = [&](int y, int x) { return static_cast<float>(static_cast<uint8_t>(raw[16 + 28 * y + x])) / 255.0f; };
  Preprocess pp;
  pp.mean = {0.5f};
  pp.std = {0.5f};
  pp.resize = 14;  // 28 -> 14: each output pixel is the mean of a 2x2 block
  Batch b = open_dataset("fashion-mnist:test:1", pp)->read(0, 1);
  ASSERT_EQ(b.x.shape(), (Shape{1, 1, 14, 14}));
  for (int y = 0; y < 14; ++y)
    for (int x = 0; x < 14; ++x) {
      float mean = (px(2 * y, 2 * x) + px(2 * y, 2 * x + 1) + px(2 * y + 1, 2 * x) + px(2 * y + 1, 2 * x + 1)) / 4;
      ASSERT_NEAR(b.x.data<float>()[y * 14 + x], (mean - 0.5f) / 0.5f, 1e-5f) << y << "," << x;
    }
  pp = {};
  pp.center_crop = 20;  // offset (28 - 20) / 2 = 4
  pp.layout = Layout::nhwc;
  b = open_dataset("fashion-mnist:test:1", pp)->read(0, 1);
  ASSERT_EQ(b.x.shape(), (Shape{1, 20, 20, 1}));
  EXPECT_EQ(b.x.data<float>()[6 * 20 + 11], px(10, 15));
}

TEST(FashionMnist, DirectoryOverride) {
  TempDir dir;
  // Raw (not gzip) files are found too: one 1x1 image with byte 51, label 4.
  dir.write("t10k-images-idx3-ubyte", std::string("\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x33", 17));
  dir.write("t10k-labels-idx1-ubyte", std::string("\x00\x00\x08\x01\x00\x00\x00\x01\x04", 9));
  const char* old = std::getenv("QFORGE_FASHION_MNIST_DIR");
  std::string saved = old ? old : "";
  setenv("QFORGE_FASHION_MNIST_DIR", dir.path().c_str(), 1);
  EXPECT_EQ(fashion_mnist_dir(), dir.path());
  auto ds = open_dataset("fashion-mnist:test");
  EXPECT_EQ(ds->size(), 1);
  Batch b = ds->read(0, 1);
  EXPECT_EQ(b.x.data<float>()[0], 51.0f / 255.0f);
  EXPECT_EQ(b.labels, (std::vector<int32_t>{4}));
  EXPECT_EQ(ds->class_names().size(), 10u);
  expect_input_error([] { open_dataset("fashion-mnist:train"); }, "dataset-fashion-mnist");
  if (old) setenv("QFORGE_FASHION_MNIST_DIR", saved.c_str(), 1);
  else unsetenv("QFORGE_FASHION_MNIST_DIR");
}

TEST(DatasetSpec, Errors) {
  expect_input_error([] { open_dataset("mnist-ish"); }, "dataset 'mnist-ish': expected KIND:ARGS");
  expect_input_error([] { open_dataset("bogus:x"); }, "dataset 'bogus:x': unknown dataset kind 'bogus'");
  expect_input_error([] { open_dataset("fashion-mnist:valid"); }, "'train' or 'test'");
  expect_input_error([] { open_dataset("fashion-mnist:test:0"); }, "at least 1");
  expect_input_error([] { open_dataset("fashion-mnist:test:-5"); }, "bad sample count '-5'");
  expect_input_error([] { open_dataset("fashion-mnist:test:10x"); }, "bad sample count '10x'");
  expect_input_error([] { open_dataset("fashion-mnist:test:"); }, "bad sample count ''");
  expect_input_error([] { open_dataset("fashion-mnist:test:50-50"); }, "sample range '50-50' is empty");
  expect_input_error([] { open_dataset("fashion-mnist:test:5-"); }, "bad sample count '5-'");
  expect_input_error([] { open_dataset("fashion-mnist:test:99999999999999999999"); }, "too large");
  expect_input_error([] { open_dataset("idx:"); }, "missing the IDX images file");
  expect_input_error([] { open_dataset("npy:"); }, "missing the .npy file");
  expect_input_error([] { open_dataset("images:"); }, "missing the image folder");
  expect_input_error([] { open_dataset("npy:/nonexistent/q/a.npy:100"); },
                     "dataset 'npy:/nonexistent/q/a.npy:100': /nonexistent/q/a.npy: cannot open");
  expect_input_error([] { open_dataset("idx:/nonexistent/x.gz,/nonexistent/y.gz:50"); }, "/nonexistent/x.gz: cannot open");
  expect_input_error([] { open_dataset("images:/nonexistent/folder"); }, "/nonexistent/folder: not a folder");
}

TEST(DatasetSpec, LimitOnFileKinds) {
  TempDir dir;
  std::string img = dir.write("d/img", std::string("\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\x01"
                                                      "\x01\x02\x03", 19));
  std::string lab = dir.write("d/lab", std::string("\x00\x00\x08\x01\x00\x00\x00\x03\x00\x01\x02", 11));
  auto ds = open_dataset("idx:" + img + "," + lab + ":2");
  EXPECT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->read(0, 10).labels, (std::vector<int32_t>{0, 1}));
  // A path component after a ':' that is not a count stays part of the path.
  expect_input_error([&] { open_dataset("idx:" + dir.path("d") + ":sub/img"); }, dir.path("d") + ":sub/img");
}
