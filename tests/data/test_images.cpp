// PNG/JPEG decoding, image folders and the preprocessing math. Fixtures are written by the test:
// PNG with libpng's simplified writer, JPEG with libjpeg's compressor. Expected pixel
// values are the bytes written (PNG is lossless; JPEG at quality 100 within a few levels).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "core/file_io.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "data/preprocess.h"
#include "../temp_dir.h"
#include "image_encode.h"

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

// channels 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA); 8-bit samples interleaved.
std::string write_png(const std::string& path, int w, int h, int channels, const std::vector<uint8_t>& px) {
  static const uint32_t formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
  return TempDir::write_to(path, qforge::testing::encode_png(w, h, formats[channels - 1], px.data()));
}

// 16-bit gray (libpng's linear format writes the samples as given, with gAMA 1.0).
std::string write_png16(const std::string& path, int w, int h, const std::vector<uint16_t>& px) {
  return TempDir::write_to(path, qforge::testing::encode_png(w, h, PNG_FORMAT_LINEAR_Y, px.data()));
}

// channels 1 (a gray JPEG) or 3 (YCbCr JPEG from RGB), quality 100, 4:4:4.
std::string write_jpeg(const std::string& path, int w, int h, int channels, const std::vector<uint8_t>& px) {
  return TempDir::write_to(path, qforge::testing::encode_jpeg(w, h, channels, px, 100, true, false));
}

std::vector<uint8_t> noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xFF);
  return v;
}

float u8f(int v) { return static_cast<float>(v) / 255.0f; }

}  // namespace

// ---- decoding ------------------------------------------------------------------------------------

TEST(ImageDecode, Png8BitGrayRgbRgba) {
  TempDir dir;
  // RGB 3x2, pixel (y, x) = (10 + x + 3y, 100 + x + 3y, 200 + x + 3y); decoded planar [c][y][x].
  std::vector<uint8_t> rgb;
  for (int i = 0; i < 6; ++i) rgb.insert(rgb.end(), {uint8_t(10 + i), uint8_t(100 + i), uint8_t(200 + i)});
  std::string p = write_png(dir.path("rgb.png"), 3, 2, 3, rgb);
  Image img = decode_image(read_file(p), p);
  ASSERT_EQ(img.c, 3);
  ASSERT_EQ(img.h, 2);
  ASSERT_EQ(img.w, 3);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(img.px[c * 6 + i], u8f(rgb[i * 3 + c])) << c << "," << i;
  // RGBA: alpha dropped, colour kept as stored.
  std::vector<uint8_t> rgba;
  for (int i = 0; i < 6; ++i) rgba.insert(rgba.end(), {uint8_t(10 + i), uint8_t(100 + i), uint8_t(200 + i), uint8_t(i * 40)});
  p = write_png(dir.path("rgba.png"), 3, 2, 4, rgba);
  Image a = decode_image(read_file(p), p);
  EXPECT_EQ(a.c, 3);
  EXPECT_EQ(a.px, img.px);
  // Gray and gray+alpha.
  std::vector<uint8_t> g = {0, 7, 128, 255};
  p = write_png(dir.path("g.png"), 2, 2, 1, g);
  Image gi = decode_image(read_file(p), p);
  ASSERT_EQ(gi.c, 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(gi.px[i], u8f(g[i]));
  p = write_png(dir.path("ga.png"), 2, 2, 2, {0, 1, 7, 2, 128, 3, 255, 4});
  Image ga = decode_image(read_file(p), p);
  EXPECT_EQ(ga.c, 1);
  EXPECT_EQ(ga.px, gi.px);
}

TEST(ImageDecode, Png16BitGray) {
  TempDir dir;
  std::string p = write_png16(dir.path("g16.png"), 2, 1, {0x1234, 0xFFFF});
  Image img = decode_png(read_file(p), p);
  ASSERT_EQ(img.c, 1);
  EXPECT_FLOAT_EQ(img.px[0], 4660.0f / 65535.0f);
  EXPECT_FLOAT_EQ(img.px[1], 1.0f);
}

TEST(ImageDecode, JpegRgbAndGray) {
  TempDir dir;
  std::vector<uint8_t> rgb;
  for (int i = 0; i < 16 * 16; ++i) rgb.insert(rgb.end(), {200, 100, 50});
  std::string p = write_jpeg(dir.path("c.jpg"), 16, 16, 3, rgb);
  Image img = decode_image(read_file(p), p);
  ASSERT_EQ(img.c, 3);
  ASSERT_EQ(img.h, 16);
  ASSERT_EQ(img.w, 16);
  const int want[3] = {200, 100, 50};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 256; ++i) ASSERT_NEAR(img.px[c * 256 + i], u8f(want[c]), 3.0f / 255) << c << "," << i;
  p = write_jpeg(dir.path("g.jpg"), 8, 8, 1, std::vector<uint8_t>(64, 77));
  Image g = decode_image(read_file(p), p);
  ASSERT_EQ(g.c, 1);
  for (float v : g.px) ASSERT_NEAR(v, u8f(77), 1.0f / 255);
}

TEST(ImageDecode, CorruptFilesNameTheFile) {
  TempDir dir;
  std::string png = read_file(write_png(dir.path("n.png"), 32, 32, 3, noise(32 * 32 * 3, 1)));
  std::string jpg = read_file(write_jpeg(dir.path("n.jpg"), 32, 32, 3, noise(32 * 32 * 3, 2)));
  auto decode = [](const std::string& bytes, const std::string& name) { return [=] { decode_image(bytes, name); }; };
  expect_input_error(decode(png.substr(0, 40), "cut40.png"), "cut40.png: corrupt PNG");
  expect_input_error(decode(png.substr(0, png.size() - 20), "cutend.png"), "cutend.png: corrupt PNG");
  std::string flipped = png;
  flipped[png.size() / 2] ^= 0x5A;  // inside IDAT: CRC mismatch
  expect_input_error(decode(flipped, "flip.png"), "flip.png: corrupt PNG");
  expect_input_error(decode(jpg.substr(0, jpg.size() * 7 / 10), "cut.jpg"), "cut.jpg: corrupt JPEG");
  expect_input_error(decode(jpg.substr(0, 100), "head.jpg"), "head.jpg: corrupt JPEG");
  expect_input_error(decode("\xFF\xD8\xFF garbage", "junk.jpg"), "junk.jpg: corrupt JPEG");
  expect_input_error(decode("GIF89a....", "x.gif"), "x.gif: not a PNG or JPEG file");
  expect_input_error(decode("", "empty.png"), "empty.png");
}

// ---- preprocessing math (worked by hand) -----------------------------------------------------------

TEST(Preprocess, ResizeDownByTwo) {
  // 4x4 -> 2x2 with half-pixel centres: src = (d + 0.5) * 2 - 0.5 = 0.5 or 2.5, so each output pixel
  // is the mean of a 2x2 block: (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, 10.5, 12.5.
  Image in(1, 4, 4);
  for (int i = 0; i < 16; ++i) in.px[i] = static_cast<float>(i);
  Image out = resize_bilinear(in, 2, 2);
  EXPECT_EQ(out.px, (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
}

TEST(Preprocess, ResizeUpClampsAtTheBorder) {
  // 1x2 -> 1x4: src x = (d + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (right edge).
  Image in(1, 1, 2);
  in.px = {4.0f, 8.0f};
  Image out = resize_bilinear(in, 1, 4);
  EXPECT_EQ(out.px, (std::vector<float>{4.0f, 5.0f, 7.0f, 8.0f}));
}

TEST(Preprocess, ResizedShapeAndCenterCrop) {
  EXPECT_EQ(resized_hw(300, 400, 256), (std::pair<int, int>{256, 341}));  // int(256 * 400 / 300)
  EXPECT_EQ(resized_hw(400, 300, 256), (std::pair<int, int>{341, 256}));
  EXPECT_EQ(resized_hw(28, 28, 32), (std::pair<int, int>{32, 32}));
  Image in(1, 7, 7);
  for (int i = 0; i < 49; ++i) in.px[i] = static_cast<float>(i);
  // top = left = round((7 - 2) / 2) = round(2.5) = 2 (ties to even, like torchvision).
  EXPECT_EQ(center_crop(in, 2).px, (std::vector<float>{16, 17, 23, 24}));
  // round((7 - 3) / 2) = 2.
  EXPECT_EQ(center_crop(in, 3).px, (std::vector<float>{16, 17, 18, 23, 24, 25, 30, 31, 32}));
}

TEST(Preprocess, GrayscaleBgrNormalizeLayout) {
  Image rgb(3, 1, 2);
  rgb.px = {1.0f, 0.2f, 0.5f, 0.4f, 0.0f, 0.6f};  // R = {1, .2}, G = {.5, .4}, B = {0, .6}
  // BT.601: 0.299 R + 0.587 G + 0.114 B.
  Image g = to_grayscale(rgb);
  EXPECT_NEAR(g.px[0], 0.299f + 0.587f * 0.5f, 1e-6f);
  EXPECT_NEAR(g.px[1], 0.299f * 0.2f + 0.587f * 0.4f + 0.114f * 0.6f, 1e-6f);

  Preprocess pp;
  pp.bgr = true;
  pp.mean = {0.5f, 0.25f, 0.0f};  // per output channel (B, G, R)
  pp.std = {0.5f};
  pp.layout = Layout::nhwc;
  Pipeline p(pp, 3, "t");
  Shape s = p.sample_shape(1, 2, "t");
  ASSERT_EQ(s, (Shape{1, 2, 3}));
  std::vector<float> out(6);
  p.run(rgb, s, out.data(), "t");
  // pixel 0: B=0, G=.5, R=1 -> ((0-.5)/.5, (.5-.25)/.5, (1-0)/.5); pixel 1: B=.6, G=.4, R=.2.
  const float want[6] = {-1.0f, 0.5f, 2.0f, 0.2f, 0.3f, 0.4f};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(out[i], want[i], 1e-6f) << i;

  pp = {};
  pp.mean = {0.1f, 0.2f};
  expect_input_error([&] { Pipeline(pp, 3, "spec"); }, "spec: mean has 2 values, expected 1 or 3");
  pp = {};
  pp.grayscale = true;
  pp.std = {0.2f, 0.2f, 0.2f};
  expect_input_error([&] { Pipeline(pp, 3, "spec"); }, "std has 3 values, expected 1");
  pp = {};
  pp.grayscale = true;
  expect_input_error([&] { Pipeline(pp, 2, "spec"); }, "grayscale");
}

// ---- image folders ---------------------------------------------------------------------------------

namespace {

// root/a_dog/img.png (RGB 4x4), root/b_cat/x1.jpg (solid RGB 4x4), root/b_cat/x2.png (gray 4x4),
// plus files that must be skipped.
struct Folder {
  TempDir dir;
  std::vector<uint8_t> rgb = noise(4 * 4 * 3, 7);
  std::vector<uint8_t> gray = noise(16, 8);
  Folder() {
    std::filesystem::create_directories(dir.path("root/a_dog"));
    std::filesystem::create_directories(dir.path("root/b_cat"));
    std::filesystem::create_directories(dir.path("root/.hidden"));
    write_png(dir.path("root/a_dog/img.png"), 4, 4, 3, rgb);
    std::vector<uint8_t> solid;
    for (int i = 0; i < 16; ++i) solid.insert(solid.end(), {30, 60, 90});
    write_jpeg(dir.path("root/b_cat/x1.jpg"), 4, 4, 3, solid);
    write_png(dir.path("root/b_cat/x2.png"), 4, 4, 1, gray);
    write_png(dir.path("root/.hidden/h.png"), 4, 4, 1, gray);
    dir.write("root/a_dog/notes.txt", "not an image");
    dir.write("root/readme.txt", "not a class");
  }
  std::string spec() const { return "images:" + dir.path("root"); }
};

}  // namespace

TEST(ImageFolder, ClassesFilesAndPixels) {
  Folder f;
  auto ds = open_dataset(f.spec());
  EXPECT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->num_classes(), 2);
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"a_dog", "b_cat"}));
  EXPECT_EQ(ds->sample_shape(), (Shape{3, 4, 4}));
  Batch b = ds->read(0, 3);
  ASSERT_EQ(b.x.shape(), (Shape{3, 3, 4, 4}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{0, 1, 1}));
  const float* x = b.x.data<float>();
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 16; ++i) ASSERT_EQ(x[c * 16 + i], u8f(f.rgb[i * 3 + c]));
  const int solid[3] = {30, 60, 90};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 16; ++i) ASSERT_NEAR(x[48 + c * 16 + i], u8f(solid[c]), 3.0f / 255);
  for (int c = 0; c < 3; ++c)  // gray expands to three equal channels
    for (int i = 0; i < 16; ++i) ASSERT_EQ(x[96 + c * 16 + i], u8f(f.gray[i]));
  EXPECT_EQ(open_dataset(f.spec() + ":2")->size(), 2);
}

TEST(ImageFolder, GrayscaleBgrAndNhwc) {
  Folder f;
  Preprocess pp;
  pp.grayscale = true;
  auto ds = open_dataset(f.spec(), pp);
  EXPECT_EQ(ds->sample_shape(), (Shape{1, 4, 4}));
  Batch b = ds->read(0, 3);
  for (int i = 0; i < 16; ++i) {
    float luma = 0.299f * u8f(f.rgb[3 * i]) + 0.587f * u8f(f.rgb[3 * i + 1]) + 0.114f * u8f(f.rgb[3 * i + 2]);
    ASSERT_NEAR(b.x.data<float>()[i], luma, 1e-6f);
    ASSERT_EQ(b.x.data<float>()[32 + i], u8f(f.gray[i]));  // a gray image stays exactly as decoded
  }
  pp = {};
  pp.bgr = true;
  pp.layout = Layout::nhwc;
  b = open_dataset(f.spec(), pp)->read(0, 1);
  ASSERT_EQ(b.x.shape(), (Shape{1, 4, 4, 3}));
  for (int i = 0; i < 16; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(b.x.data<float>()[i * 3 + c], u8f(f.rgb[i * 3 + (2 - c)]));
}

TEST(ImageFolder, SizesMustAgreeUnlessResizedAndCropped) {
  Folder f;
  std::string odd = write_png(f.dir.path("root/b_cat/x3.png"), 6, 5, 3, noise(6 * 5 * 3, 9));
  auto ds = open_dataset(f.spec());
  EXPECT_EQ(ds->read(0, 3).x.dim(0), 3);
  expect_input_error([&] { ds->read(0, 4); }, odd + ": image is 6x5 after preprocessing");
  Preprocess pp;
  pp.resize = 4;
  pp.center_crop = 4;
  auto fixed = open_dataset(f.spec(), pp);
  EXPECT_EQ(fixed->sample_shape(), (Shape{3, 4, 4}));
  Batch b = fixed->read(0, 4);
  EXPECT_EQ(b.x.shape(), (Shape{4, 3, 4, 4}));
  // The 4x4 images pass through unchanged (resize to the same size is a no-op, crop takes all).
  for (int i = 0; i < 16; ++i) ASSERT_EQ(b.x.data<float>()[i], u8f(f.rgb[3 * i]));
}

TEST(ImageFolder, CorruptImageAndBadFolders) {
  Folder f;
  std::string png = read_file(f.dir.path("root/a_dog/img.png"));
  std::string bad = f.dir.write("root/b_cat/x0.png", png.substr(0, png.size() / 2));
  auto ds = open_dataset(f.spec());  // opening decodes only the first image
  EXPECT_EQ(ds->read(0, 1).x.dim(0), 1);
  expect_input_error([&] { ds->read(0, 4); }, bad + ": corrupt PNG");
  TempDir empty;
  expect_input_error([&] { open_dataset("images:" + empty.path()); }, "no class sub-folders");
  std::filesystem::create_directories(empty.path("c"));
  expect_input_error([&] { open_dataset("images:" + empty.path()); }, "no PNG or JPEG files");
  Preprocess pp;
  pp.mean = {0.5f, 0.5f};
  expect_input_error([&] { open_dataset(f.spec(), pp); }, "dataset '" + f.spec() + "': " + f.spec() + ": mean");
}
