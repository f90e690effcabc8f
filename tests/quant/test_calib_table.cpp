// Calibration table JSON: round trip, stable bytes, and malformed files rejected naming file and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/file_io.h"
#include "quant/calib_table.h"

namespace qforge::quant {
namespace {

std::string temp_path(const std::string& name) {
  const std::string file = "qforge_calib_" + std::to_string(::getpid()) + "_" + name;
  return (std::filesystem::temp_directory_path() / file).string();
}

CalibTable sample_table() {
  CalibTable t;
  t.batches = 3;
  t.samples = 96;
  t.options.percentile = 99.9;
  t.options.scheme = {DType::s8, true, false};
  t.tensors["relu_out"] = CalibEntry{{0.0f, 6.25f}, "entropy", 1234};
  t.tensors["conv_out"] = CalibEntry{{-0.1f, 3.3f}, "percentile", 99};
  t.tensors["input"] = CalibEntry{{-1.0f / 3.0f, 1e-30f}, "minmax", 7};
  return t;
}

TEST(CalibTable, JsonRoundTripIsExact) {
  const CalibTable t = sample_table();
  const std::string path = temp_path("rt.json");
  save_calib_table(t, path);
  const CalibTable u = load_calib_table(path);
  EXPECT_EQ(u.batches, 3);
  EXPECT_EQ(u.samples, 96);
  EXPECT_EQ(u.options.percentile, 99.9);
  EXPECT_EQ(u.options.scheme.format, DType::s8);
  EXPECT_TRUE(u.options.scheme.symmetric);
  EXPECT_EQ(u.tensors, t.tensors);  // floats bit-exact through their shortest decimal
  EXPECT_EQ(calib_table_dump(u), read_file(path));  // same table, same bytes
  std::filesystem::remove(path);
}

TEST(CalibTable, ReadableDeterministicLayout) {
  const std::string s = calib_table_dump(sample_table());
  // Version first, tensors sorted by name, floats in shortest form.
  EXPECT_LT(s.find("\"version\": 1"), s.find("\"tensors\""));
  EXPECT_LT(s.find("\"conv_out\""), s.find("\"input\""));
  EXPECT_LT(s.find("\"input\""), s.find("\"relu_out\""));
  EXPECT_NE(s.find("\"max\": 3.3,"), std::string::npos) << s;
  EXPECT_NE(s.find("\"min\": -0.1,"), std::string::npos) << s;
}

void expect_load_error(const std::string& text, const std::string& needle) {
  const std::string path = temp_path("bad.json");
  {
    std::ofstream f(path);
    f << text;
  }
  try {
    load_calib_table(path);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const InputError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find(path), std::string::npos) << w;
    EXPECT_NE(w.find(needle), std::string::npos) << w;
  }
  std::filesystem::remove(path);
}

TEST(CalibTable, MalformedFilesNameFileAndKey) {
  std::string good = calib_table_dump(sample_table());
  expect_load_error("{ not json", "not valid JSON");
  expect_load_error("[1, 2]", "not a JSON object");
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  expect_load_error(replace("\"version\": 1", "\"version\": 9"), "key 'version'");
  expect_load_error(replace("\"max\": 3.3", "\"max\": \"big\""), "key 'tensors.conv_out.max' is not a number");
  expect_load_error(replace("\"max\": 3.3", "\"max\": -5"), "key 'tensors.conv_out' has min");
  expect_load_error(replace("\"method\": \"entropy\"", "\"method\": \"kl\""), "key 'tensors.relu_out.method'");
  expect_load_error(replace("\"samples\": 96,", ""), "key 'samples' is missing");
  expect_load_error(replace("\"format\": \"s8\"", "\"format\": \"f32\""), "key 'options.scheme.format'");
  expect_load_error(replace("\"min\": -0.1", "\"min\": 1e300"), "key 'tensors.conv_out.min'");
}

TEST(CalibTable, MissingFileIsAnInputError) {
  EXPECT_THROW(load_calib_table(temp_path("does_not_exist.json")), InputError);
}

}  // namespace
}  // namespace qforge::quant
