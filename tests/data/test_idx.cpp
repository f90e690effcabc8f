// IDX files written byte by byte in the test (magic 00 00 TYPE NDIMS, big-endian u32 dims,
// big-endian elements), raw and gzip-compressed with zlib.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <functional>

#include "data/dataset.h"
#include "data/idx.h"
#include "../temp_dir.h"

using namespace qforge;
using namespace qforge::data;
using qforge::testing::TempDir;

namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx(uint8_t type, const std::vector<uint32_t>& dims, const std::string& payload) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) s += be32(d);
  return s + payload;
}

std::string gzip(const std::string& data, int level = 9) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void expect_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError; expected one mentioning '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// 3 images of 2x2: pixel bytes 0, 10, ..., 110; labels 2 0 1.
std::string pixels() {
  std::string p;
  for (int i = 0; i < 12; ++i) p += static_cast<char>(i * 10);
  return p;
}
const std::string kLabels("\x02\x00\x01", 3);

}  // namespace

TEST(Idx, RawAndGzipU8Images) {
  TempDir dir;
  std::string images = idx(0x08, {3, 2, 2}, pixels()), labels = idx(0x08, {3}, kLabels);
  dir.write("raw/img", images);
  dir.write("raw/lab", labels);
  dir.write("gz/img.gz", gzip(images));
  dir.write("gz/lab.gz", gzip(labels));
  for (std::string spec : {"idx:" + dir.path("raw/img") + "," + dir.path("raw/lab"),
                           "idx:" + dir.path("gz/img.gz") + "," + dir.path("gz/lab.gz")}) {
    auto ds = open_dataset(spec);
    EXPECT_EQ(ds->describe(), spec);
    EXPECT_EQ(ds->size(), 3);
    EXPECT_EQ(ds->sample_shape(), (Shape{1, 2, 2}));
    EXPECT_EQ(ds->num_classes(), 3);
    Batch b = ds->read(1, 5);  // clipped to 2 samples
    ASSERT_EQ(b.x.shape(), (Shape{2, 1, 2, 2}));
    EXPECT_EQ(b.labels, (std::vector<int32_t>{0, 1}));
    for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(b.x.data<float>()[i], static_cast<float>((i + 4) * 10) / 255.0f);
    EXPECT_EQ(ds->read(3, 4).x.shape(), (Shape{0, 1, 2, 2}));
  }
}

TEST(Idx, ImagesWithoutLabels) {
  TempDir dir;
  auto ds = open_dataset("idx:" + dir.write("img", idx(0x08, {3, 2, 2}, pixels())));
  EXPECT_FALSE(ds->has_labels());
  EXPECT_EQ(ds->num_classes(), 0);
  EXPECT_TRUE(ds->read(0, 3).labels.empty());
}

TEST(Idx, OtherElementTypes) {
  TempDir dir;
  // f32 big-endian: 1.5 = 3F C0 00 00, -2 = C0 00 00 00. Float samples are used as they are.
  std::string f = dir.write("f32", idx(0x0D, {2, 1}, std::string("\x3f\xc0\x00\x00\xc0\x00\x00\x00", 8)));
  Batch b = open_dataset("idx:" + f)->read(0, 2);
  ASSERT_EQ(b.x.shape(), (Shape{2, 1}));
  EXPECT_EQ(b.x.data<float>()[0], 1.5f);
  EXPECT_EQ(b.x.data<float>()[1], -2.0f);
  // s16 big-endian: -3 = FF FD, 300 = 01 2C (not scaled); f64 1.0 = 3F F0 00.. ; s32 labels 7, 1.
  std::string s16 = dir.write("s16", idx(0x0B, {2, 1, 1}, std::string("\xff\xfd\x01\x2c", 4)));
  std::string lab = dir.write("lab", idx(0x0C, {2}, std::string("\x00\x00\x00\x07\x00\x00\x00\x01", 8)));
  auto ds = open_dataset("idx:" + s16 + "," + lab);
  b = ds->read(0, 2);
  EXPECT_EQ(b.x.data<float>()[0], -3.0f);
  EXPECT_EQ(b.x.data<float>()[1], 300.0f);
  EXPECT_EQ(b.labels, (std::vector<int32_t>{7, 1}));
  EXPECT_EQ(ds->num_classes(), 8);
  std::string f64 = dir.write("f64", idx(0x0E, {1, 1}, std::string("\x3f\xf0\x00\x00\x00\x00\x00\x00", 8)));
  EXPECT_EQ(open_dataset("idx:" + f64)->read(0, 1).x.data<float>()[0], 1.0f);
}

TEST(Idx, CorruptFiles) {
  TempDir dir;
  std::string img = dir.write("img", idx(0x08, {3, 2, 2}, pixels()));
  std::string lab = dir.write("lab", idx(0x08, {3}, kLabels));
  std::string full = idx(0x08, {3, 2, 2}, pixels());
  // Truncated payload (raw and gzip), truncated header, trailing bytes.
  std::string cut = dir.write("cut", full.substr(0, full.size() - 1));
  expect_input_error([&] { IdxFile f(cut); }, cut + ": truncated");
  std::string cutgz = dir.write("cut.gz", gzip(full.substr(0, full.size() - 5)));
  expect_input_error([&] { IdxFile f(cutgz); }, cutgz + ": truncated");
  std::string gz = gzip(full);
  std::string cutstream = dir.write("cutstream.gz", gz.substr(0, gz.size() / 2));
  expect_input_error([&] { IdxFile f(cutstream); }, cutstream);
  std::string head = dir.write("head", full.substr(0, 9));
  expect_input_error([&] { IdxFile f(head); }, "truncated IDX header");
  std::string longer = dir.write("long", full + "xy");
  expect_input_error([&] { IdxFile f(longer); }, "2 bytes follow");
  std::string longgz = dir.write("long.gz", gzip(full + "xy"));
  expect_input_error([&] { IdxFile f(longgz); }, "continues past");
  // A flipped byte inside the deflate stream or its CRC.
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x55;  // CRC32 field of the gzip trailer
  std::string badcrc = dir.write("badcrc.gz", bad);
  expect_input_error([&] { IdxFile f(badcrc); }, badcrc);
  // Bad magic, unknown type, zero dims.
  std::string magic = dir.write("magic", "\x01\x02\x08\x01" + be32(1) + "x");
  expect_input_error([&] { IdxFile f(magic); }, "bad magic");
  std::string type = dir.write("type", std::string("\x00\x00\x07\x01", 4) + be32(1) + "x");
  expect_input_error([&] { IdxFile f(type); }, "element type 0x07");
  std::string empty = dir.write("empty", "");
  expect_input_error([&] { IdxFile f(empty); }, "bad magic");
  // A header claiming 10^12 elements in a tiny file is refused before allocating (raw and gzip).
  std::string huge = idx(0x08, {1000000, 1000, 1000}, "abc");
  std::string hraw = dir.write("huge", huge);
  expect_input_error([&] { IdxFile f(hraw); }, "truncated");
  std::string hgz = dir.write("huge.gz", gzip(huge));
  expect_input_error([&] { IdxFile f(hgz); }, "more than a");
  std::string overflow = dir.write("overflow", idx(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, ""));
  expect_input_error([&] { IdxFile f(overflow); }, overflow);
  // Counts differ between images and labels; labels with 2 dims; float labels; negative labels.
  std::string lab2 = dir.write("lab2", idx(0x08, {2}, "\x01\x01"));
  expect_input_error([&] { open_dataset("idx:" + img + "," + lab2); }, "2 labels for the 3 images");
  std::string labm = dir.write("labm", idx(0x08, {3, 1}, kLabels));
  expect_input_error([&] { open_dataset("idx:" + img + "," + labm); }, "needs dims [n]");
  std::string labf = dir.write("labf", idx(0x0D, {3}, std::string(12, '\0')));
  expect_input_error([&] { open_dataset("idx:" + img + "," + labf); }, "integers");
  std::string labn = dir.write("labn", idx(0x09, {3}, "\x01\xff\x01"));
  expect_input_error([&] { open_dataset("idx:" + img + "," + labn); }, "label -1 of sample 1");
  // Through open_dataset the message names the spec and the file.
  std::string spec = "idx:" + cut + "," + lab;
  expect_input_error([&] { open_dataset(spec); }, "dataset '" + spec + "': " + cut);
}

// A big gzip file is inflated only as far as the reads reach; its trailer is checked at open.
TEST(Idx, GzipInflatesOnlyWhatIsRead) {
  TempDir dir;
  // 2048 images of 64x64 (8 MiB, twice kIdxInflateAllBelow); pixel j of image i = (i + 3j) mod 256.
  const uint32_t n = 2048, hw = 64, item = hw * hw;
  std::string p(size_t{n} * item, '\0');
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < item; ++j) p[size_t{i} * item + j] = static_cast<char>((i + 3 * j) & 0xff);
  std::string full = idx(0x08, {n, hw, hw}, p);
  std::string gz = gzip(full, 1);
  std::string path = dir.write("big.gz", gz);
  auto expect_image = [&](const std::vector<float>& got, uint32_t first, uint32_t count) {
    for (uint32_t k = 0; k < count; ++k)
      for (uint32_t j = 0; j < item; j += 97)
        ASSERT_EQ(got[size_t{k} * item + j], static_cast<float>((first + k + 3 * j) & 0xff) / 255.0f) << k << " " << j;
  };
  {
    IdxFile f(path);
    EXPECT_EQ(f.inflated_bytes(), 0u);
    std::vector<float> buf(size_t{10} * item);
    f.read_f32(0, 10, buf.data(), true);
    expect_image(buf, 0, 10);
    // One inflate step (1 MiB) covers the 40 KiB read: 1/8 of the payload.
    EXPECT_EQ(f.inflated_bytes(), kIdxInflateStep);
    f.read_f32(100, 10, buf.data(), true);  // inside the inflated prefix: nothing more
    EXPECT_EQ(f.inflated_bytes(), kIdxInflateStep);
    f.read_f32(n - 1, 1, buf.data(), true);  // the last image: everything, end of stream checked
    expect_image(buf, n - 1, 1);
    EXPECT_EQ(f.inflated_bytes(), p.size());
    f.read_f32(5, 10, buf.data(), true);  // earlier images stay readable
    expect_image(buf, 5, 10);
  }
  // The same file with a bad CRC opens and reads its first images (the stream is checked as far
  // as it is read); the read that reaches the end reports the damage.
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x55;
  std::string badcrc = dir.write("badcrc.gz", bad);
  {
    IdxFile f(badcrc);
    std::vector<float> buf(item);
    f.read_f32(0, 1, buf.data(), true);
    expect_image(buf, 0, 1);
    expect_input_error([&] { f.read_f32(n - 1, 1, buf.data(), true); }, badcrc);
  }
  // A damaged trailer length (ISIZE) or a cut stream: inflated whole at open, rejected there.
  bad = gz;
  bad[bad.size() - 4] ^= 0x01;
  std::string badsize = dir.write("badsize.gz", bad);
  expect_input_error([&] { IdxFile f(badsize); }, badsize);
  std::string cut = dir.write("cut.gz", gz.substr(0, gz.size() - 4096));
  expect_input_error([&] { IdxFile f(cut); }, cut);
  std::string longer = dir.write("long.gz", gzip(full + "xy", 1));
  expect_input_error([&] { IdxFile f(longer); }, "continues past");
  // Two gzip members (valid gzip, the trailer counts only the second): inflated whole, read right.
  std::string two = dir.write("two.gz", gzip(full.substr(0, 5000), 1) + gzip(full.substr(5000), 1));
  IdxFile f2(two);
  EXPECT_EQ(f2.inflated_bytes(), p.size());
  std::vector<float> buf(size_t{3} * item);
  f2.read_f32(1000, 3, buf.data(), true);
  expect_image(buf, 1000, 3);
}

// Lazy inflation forced on small files (inflate_all_below = 0): damage past the header is reported
// naming the file, by the open or by the first read that reaches it (zlib inflates ahead into its
// own 256 KiB buffer, so in a small file it shows at once), never as wrong data.
TEST(Idx, GzipLazyDamageReportedOnRead) {
  TempDir dir;
  std::string full = idx(0x08, {3, 2, 2}, pixels());
  std::string gz = gzip(full);
  std::vector<float> buf(12);
  auto open_and_read = [&](const std::string& path) {
    IdxFile f(path, 0);
    f.read_f32(0, 3, buf.data(), true);
  };
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x55;  // CRC32
  std::string badcrc = dir.write("badcrc.gz", bad);
  expect_input_error([&] { open_and_read(badcrc); }, badcrc);
  // Deflate data cut in the middle, with the trailer of the full stream appended (ISIZE matches).
  std::string cut = dir.write("cut.gz", gz.substr(0, gz.size() / 2) + gz.substr(gz.size() - 8));
  expect_input_error([&] { open_and_read(cut); }, cut);
  // Intact: lazily read, equal to the eager read.
  std::string good = dir.write("good.gz", gz);
  IdxFile h(good, 0);
  EXPECT_EQ(h.inflated_bytes(), 0u);
  h.read_f32(1, 2, buf.data(), true);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(buf[i], static_cast<float>((i + 4) * 10) / 255.0f);
  EXPECT_EQ(h.inflated_bytes(), 12u);
}

// [n, h, w] IDX images take the same preprocessing as decoded images (1 channel).
TEST(Idx, Preprocessing) {
  TempDir dir;
  // One 4x4 image, pixel bytes 0, 17, 34, ... (value i * 17 / 255 = i / 15).
  std::string p;
  for (int i = 0; i < 16; ++i) p += static_cast<char>(i * 17);
  std::string img = dir.write("img", idx(0x08, {1, 4, 4}, p));
  Preprocess pp;
  pp.resize = 2;
  pp.mean = {0.5f};
  pp.std = {0.25f};
  auto ds = open_dataset("idx:" + img, pp);
  EXPECT_EQ(ds->sample_shape(), (Shape{1, 2, 2}));
  Batch b = ds->read(0, 1);
  // 2x2 block means of i / 15: (0+1+4+5)/4 = 2.5 -> 2.5/15 ... then (v - 0.5) / 0.25.
  const float blocks[4] = {2.5f, 4.5f, 10.5f, 12.5f};
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(b.x.data<float>()[k], (blocks[k] / 15.0f - 0.5f) / 0.25f, 1e-5f);
  pp = {};
  pp.center_crop = 2;
  pp.layout = Layout::nhwc;
  b = open_dataset("idx:" + img, pp)->read(0, 1);
  ASSERT_EQ(b.x.shape(), (Shape{1, 2, 2, 1}));
  // Crop rows 1-2, columns 1-2: pixels 5, 6, 9, 10.
  const int idx4[4] = {5, 6, 9, 10};
  for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(b.x.data<float>()[k], static_cast<float>(idx4[k] * 17) / 255.0f);
  pp = {};
  pp.mean = {0.1f, 0.2f, 0.3f};
  expect_input_error([&] { open_dataset("idx:" + img, pp); }, "mean has 3 values, expected 1 (the samples have 1 channel)");
  pp = {};
  pp.center_crop = 5;
  expect_input_error([&] { open_dataset("idx:" + img, pp); }, "larger than");
  pp = {};
  pp.std = {0.0f};
  expect_input_error([&] { open_dataset("idx:" + img, pp); }, "non-zero");
}
