// .npy reading and writing. Expected bytes were taken from numpy 2.4 (np.save) and are hard-coded:
// the header dict, the spaces that pad it to a 64-byte boundary (numpy also reserves
// 21 - len(str(shape[0])) spaces so axis 0 can grow in place) and the total file length.
#include <gtest/gtest.h>

#include <cstring>

#include "data/dataset.h"
#include "data/npy.h"
#include "../temp_dir.h"

using namespace qforge;
using namespace qforge::data;
using qforge::testing::TempDir;

namespace {

std::string npy_v1(const std::string& dict, size_t spaces) {
  size_t hlen = dict.size() + spaces + 1;
  std::string s("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(hlen & 0xFF);
  s += static_cast<char>(hlen >> 8);
  return s + dict + std::string(spaces, ' ') + "\n";
}

// A header written by hand with any version and dict text; payload appended as is.
std::string npy_raw(int major, const std::string& dict, const std::string& payload) {
  std::string s("\x93NUMPY", 6);
  s += static_cast<char>(major);
  s += '\0';
  size_t hlen = dict.size();
  int len_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) s += static_cast<char>((hlen >> (8 * i)) & 0xFF);
  return s + dict + payload;
}

std::string f32_bytes(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

void expect_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError; expected one mentioning '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Npy, SerializeF32MatchesNumpy) {
  Tensor t = Tensor::from_vector<float>(DType::f32, {2, 3}, {0, 1, 2, 3, 4, 5});
  std::string got = serialize_npy(t);
  std::string header = npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 58);
  ASSERT_EQ(header.size(), 128u);
  EXPECT_EQ(header.substr(0, 10), std::string("\x93NUMPY\x01\x00v\x00", 10));
  // np.arange(6, dtype=np.float32) little-endian bytes.
  std::string payload = std::string("\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40"
                                    "\x00\x00\x80\x40\x00\x00\xa0\x40", 24);
  EXPECT_EQ(got, header + payload);
}

TEST(Npy, SerializeHeadersMatchNumpy) {
  struct Case {
    DType dtype;
    Shape shape;
    std::string dict;
    size_t spaces, total;
  };
  const Case cases[] = {
      {DType::u8, {3}, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", 60, 131},
      {DType::f64, {}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62, 136},
      {DType::boolean, {0, 5}, "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 5), }", 58, 128},
      {DType::f16, {1, 2, 3, 4}, "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2, 3, 4), }", 52, 176},
      {DType::s64, {7}, "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }", 60, 184},
      {DType::s32, {2, 2}, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 58, 144},
      {DType::s8, {1}, "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }", 60, 129},
  };
  for (const Case& c : cases) {
    std::string got = serialize_npy(Tensor(c.dtype, c.shape));
    std::string header = npy_v1(c.dict, c.spaces);
    EXPECT_EQ(got.substr(0, header.size()), header) << c.dict;
    EXPECT_EQ(got.size(), c.total) << c.dict;
  }
}

TEST(Npy, RoundTripEveryDtype) {
  TempDir dir;
  const DType dtypes[] = {DType::f32, DType::f64, DType::u8, DType::s8, DType::s32, DType::s64, DType::boolean, DType::f16};
  for (DType dt : dtypes) {
    Tensor t(dt, {2, 3, 5});
    auto* p = static_cast<uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(i * 37 + 11);
    if (dt == DType::boolean)
      for (size_t i = 0; i < t.nbytes(); ++i) p[i] &= 1;
    std::string path = dir.path(std::string(dtype_name(dt)) + ".npy");
    write_npy(path, t);
    Tensor back = read_npy(path);
    EXPECT_TRUE(back.bit_equal(t)) << dtype_name(dt);
  }
}

TEST(Npy, ParsesNumpyWrittenVersions) {
  // np.lib.format.write_array(f, np.array([1, 2], np.int16), version=(2, 0)) / (3, 0): the same dict
  // with a u32 header length (116 bytes of dict + padding, 132 bytes in all).
  for (int major : {2, 3}) {
    std::string dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
    dict += std::string(116 - dict.size() - 1, ' ') + "\n";
    std::string bytes = npy_raw(major, dict, std::string("\x01\x00\x02\x00", 4));
    ASSERT_EQ(bytes.size(), 132u);
    Tensor t = parse_npy(bytes, "v.npy");
    EXPECT_EQ(t.dtype(), DType::s16);
    EXPECT_EQ(t.shape(), (Shape{2}));
    EXPECT_EQ(t.data<int16_t>()[0], 1);
    EXPECT_EQ(t.data<int16_t>()[1], 2);
  }
}

TEST(Npy, ParsesHandWrittenDictVariants) {
  // Key order, double quotes, no trailing comma, Python 2 longs, native byte order '='.
  Tensor a = parse_npy(npy_raw(1, "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"=f4\"}\n",
                               f32_bytes({1.5f, -2.0f})),
                       "a.npy");
  EXPECT_EQ(a.shape(), (Shape{1, 2}));
  EXPECT_EQ(a.data<float>()[0], 1.5f);
  EXPECT_EQ(a.data<float>()[1], -2.0f);
  Tensor s = parse_npy(npy_raw(1, "{'descr':'<f4','fortran_order':False,'shape':()}", f32_bytes({7.0f})), "s.npy");
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<float>()[0], 7.0f);
  Tensor u = parse_npy(npy_raw(1, "{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }", "abc"), "u.npy");
  EXPECT_EQ(u.dtype(), DType::u8);
  EXPECT_EQ(u.data<uint8_t>()[2], 'c');
}

TEST(Npy, RefusesUnsupportedAndCorruptFiles) {
  auto parse = [](const std::string& dict, const std::string& payload) {
    return [=] { parse_npy(npy_raw(1, dict, payload), "bad.npy"); };
  };
  std::string two = f32_bytes({1, 2});
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", two), "fortran_order");
  expect_input_error(parse("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two), "big-endian");
  expect_input_error(parse("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", two), "object");
  expect_input_error(parse("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", two), "structured");
  expect_input_error(parse("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", two), "unsupported dtype");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", two), "payload");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", two), "payload");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, }", two), "lacks");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two), "shape");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two), "unexpected key");
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", two), "bad.npy");
  // A shape of 10^12 elements over an 8-byte payload is refused before anything is allocated.
  expect_input_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", two), "payload");
  expect_input_error(parse("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", two),
                     "payload");
  expect_input_error([] { parse_npy("NUMPY not really", "m.npy"); }, "bad magic");
  expect_input_error([] { parse_npy(std::string("\x93NUMPY\x04\x00\x10\x00", 10), "v.npy"); }, "version 4.0");
  expect_input_error([] { parse_npy(std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17), "t.npy"); }, "truncated");
  expect_input_error([] { read_npy("/nonexistent/qforge/x.npy"); }, "/nonexistent/qforge/x.npy");
}

// ---- .npy files as datasets -----------------------------------------------------------------------

TEST(NpyDataset, Float32SamplesAndLabels) {
  TempDir dir;
  std::vector<float> x(4 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * static_cast<float>(i) - 1.0f;
  write_npy(dir.path("x.npy"), Tensor::from_vector<float>(DType::f32, {4, 3}, x));
  for (DType ldt : {DType::u8, DType::s32, DType::s64}) {
    Tensor lab(ldt, {4});
    for (int i = 0; i < 4; ++i) {
      int v = (i * 3) % 5;  // 0 3 1 4
      if (ldt == DType::u8) lab.data<uint8_t>()[i] = static_cast<uint8_t>(v);
      if (ldt == DType::s32) lab.data<int32_t>()[i] = v;
      if (ldt == DType::s64) lab.data<int64_t>()[i] = v;
    }
    write_npy(dir.path("y.npy"), lab);
    auto ds = open_dataset("npy:" + dir.path("x.npy") + "," + dir.path("y.npy"));
    EXPECT_EQ(ds->size(), 4);
    EXPECT_EQ(ds->sample_shape(), (Shape{3}));
    EXPECT_TRUE(ds->has_labels());
    EXPECT_EQ(ds->num_classes(), 5);
    Batch b = ds->read(1, 2);
    EXPECT_EQ(b.x.shape(), (Shape{2, 3}));
    EXPECT_EQ(b.labels, (std::vector<int32_t>{3, 1}));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(b.x.data<float>()[i], x[3 + i]);
  }
}

TEST(NpyDataset, Uint8SamplesScaleTo01) {
  TempDir dir;
  Tensor t(DType::u8, {2, 1, 2, 2});
  for (int i = 0; i < 8; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(i * 36);
  write_npy(dir.path("u.npy"), t);
  auto ds = open_dataset("npy:" + dir.path("u.npy"));
  EXPECT_FALSE(ds->has_labels());
  EXPECT_EQ(ds->num_classes(), 0);
  EXPECT_EQ(ds->sample_shape(), (Shape{1, 2, 2}));
  Batch b = ds->read(0, 10);
  ASSERT_EQ(b.x.shape(), (Shape{2, 1, 2, 2}));
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(b.x.data<float>()[i], static_cast<float>(i * 36) / 255.0f);
  EXPECT_TRUE(b.labels.empty());
}

// Preprocessing of a [3, 4, 4] sample: resize to 2 (each output pixel is the mean of a 2x2 block,
// see Preprocess.ResizeDownByTwo), then per-channel (x - mean) / std, then NHWC.
TEST(NpyDataset, PreprocessesImageSamples) {
  TempDir dir;
  std::vector<float> x(3 * 16);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 16; ++i) x[c * 16 + i] = static_cast<float>(i + 100 * c);
  write_npy(dir.path("img.npy"), Tensor::from_vector<float>(DType::f32, {1, 3, 4, 4}, x));
  Preprocess pp;
  pp.resize = 2;
  pp.mean = {0, 100, 200};
  pp.std = {1, 2, 4};
  pp.layout = Layout::nhwc;
  auto ds = open_dataset("npy:" + dir.path("img.npy"), pp);
  EXPECT_EQ(ds->sample_shape(), (Shape{2, 2, 3}));
  Batch b = ds->read(0, 1);
  // Channel c block means: 2.5, 4.5, 10.5, 12.5 (plus 100 c); normalized by (m_c, s_c).
  const float block[4] = {2.5f, 4.5f, 10.5f, 12.5f};
  const float sd[3] = {1, 2, 4};
  for (int p = 0; p < 4; ++p)
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(b.x.data<float>()[p * 3 + c], block[p] / sd[c]) << p << "," << c;
}

TEST(NpyDataset, Errors) {
  TempDir dir;
  write_npy(dir.path("x.npy"), Tensor(DType::f32, {4, 3}));
  write_npy(dir.path("i.npy"), Tensor(DType::s32, {4, 3}));
  write_npy(dir.path("y3.npy"), Tensor(DType::s64, {3}));
  write_npy(dir.path("yf.npy"), Tensor(DType::f32, {4}));
  Tensor neg(DType::s32, {4});
  neg.data<int32_t>()[2] = -1;
  write_npy(dir.path("yneg.npy"), neg);
  std::string x = dir.path("x.npy");
  expect_input_error([&] { open_dataset("npy:" + x + "," + dir.path("y3.npy")); }, "3 labels");
  expect_input_error([&] { open_dataset("npy:" + x + "," + dir.path("yf.npy")); }, "integer");
  expect_input_error([&] { open_dataset("npy:" + x + "," + dir.path("yneg.npy")); }, "label -1");
  expect_input_error([&] { open_dataset("npy:" + dir.path("i.npy")); }, "holds s32");
  Preprocess pp;
  pp.mean = {0.5f};
  expect_input_error([&] { open_dataset("npy:" + x, pp); }, "[C, H, W]");
  // A truncated payload is refused at open, naming the spec and the file.
  std::string full = serialize_npy(Tensor(DType::f32, {4, 3}));
  std::string cut = dir.write("cut.npy", full.substr(0, full.size() - 4));
  expect_input_error([&] { open_dataset("npy:" + cut); }, "dataset 'npy:" + cut + "': " + cut);
}
