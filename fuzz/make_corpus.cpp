// Writes the seed corpus of the fuzzers: small valid files of each kind, under OUT/<target>/.
// Usage: fuzz_make_corpus OUT   (fuzz/make_corpus.sh runs it into fuzz/corpus). Deterministic:
// fixed seeds, so rerunning it rewrites the same bytes.
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../tests/data/image_encode.h"
#include "../tests/hardening/small_models.h"
#include "core/file_io.h"
#include "core/tensor.h"
#include "data/npy.h"
#include "quant/calib_table.h"
#include "quant/recipe.h"

using namespace qforge;
namespace fs = std::filesystem;

namespace {

std::string out_dir;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_dir + "/" + target);
  write_file_atomic(out_dir + "/" + target + "/" + name, bytes);
}

std::vector<uint8_t> pattern(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 37 + seed * 11) & 0xff);
  return v;
}

void write_models() {
  for (const auto& m : hardening::small_models()) {
    std::string bytes = m.proto.SerializeAsString();
    put("fuzz_onnx_load", m.name + ".onnx", bytes);
    put("fuzz_e2e", m.name + ".onnx", bytes);
  }
}

void write_npy() {
  put("fuzz_npy", "f32_2x3.npy", data::serialize_npy(Tensor::from_vector<float>(DType::f32, {2, 3}, {1, -2, 3.5f, 0, 1e-3f, 7})));
  put("fuzz_npy", "s64_4.npy", data::serialize_npy(Tensor::from_vector<int64_t>(DType::s64, {4}, {0, 1, -1, 9})));
  Tensor u8(DType::u8, {2, 2, 2});
  for (int i = 0; i < 8; ++i) u8.data<uint8_t>()[i] = static_cast<uint8_t>(i * 30);
  put("fuzz_npy", "u8_2x2x2.npy", data::serialize_npy(u8));
  put("fuzz_npy", "f64_scalar.npy", data::serialize_npy(Tensor::from_vector<double>(DType::f64, {}, {2.5})));
  Tensor b(DType::boolean, {3});
  b.data<uint8_t>()[1] = 1;
  put("fuzz_npy", "bool_3.npy", data::serialize_npy(b));
  Tensor h(DType::f16, {2});
  h.data<uint16_t>()[0] = 0x3c00;  // 1.0
  h.data<uint16_t>()[1] = 0xc000;  // -2.0
  put("fuzz_npy", "f16_2.npy", data::serialize_npy(h));
  // Format 2.0 header (4-byte header length), written by hand.
  std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
  size_t hl = dict.size() + 1;
  size_t pad = (64 - (12 + hl) % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  uint32_t len = static_cast<uint32_t>(dict.size());
  v2.append(reinterpret_cast<const char*>(&len), 4);
  v2 += dict;
  int32_t vals[2] = {7, -3};
  v2.append(reinterpret_cast<const char*>(vals), 8);
  put("fuzz_npy", "s32_v2.npy", v2);
}

std::string idx_bytes(uint8_t type, std::vector<uint32_t> dims, const std::vector<uint8_t>& payload) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    s += static_cast<char>(d >> 24);
    s += static_cast<char>(d >> 16);
    s += static_cast<char>(d >> 8);
    s += static_cast<char>(d);
  }
  s.append(payload.begin(), payload.end());
  return s;
}

std::string gzip(const std::string& raw) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);  // 31: gzip wrapper
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void write_idx() {
  std::string images = idx_bytes(0x08, {3, 4, 4}, pattern(48, 1));
  put("fuzz_idx", "u8_images_3x4x4.idx", images);
  put("fuzz_idx", "u8_images_3x4x4.idx.gz", gzip(images));
  put("fuzz_idx", "u8_labels_3.idx", idx_bytes(0x08, {3}, {0, 2, 1}));
  put("fuzz_idx", "s32_labels_2.idx.gz", gzip(idx_bytes(0x0C, {2}, {0, 0, 0, 1, 0, 0, 0, 3})));
  std::vector<uint8_t> f32;  // big-endian 1.0, -0.5
  for (uint8_t b : {0x3f, 0x80, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00}) f32.push_back(b);
  put("fuzz_idx", "f32_2x1x1x1.idx", idx_bytes(0x0D, {2, 1, 1, 1}, f32));
  put("fuzz_idx", "s16_1x2x2.idx", idx_bytes(0x0B, {1, 2, 2}, pattern(8, 2)));
}

void write_images() {
  using testing::encode_jpeg;
  using testing::encode_png;
  put("fuzz_image", "gray_8x8.png", encode_png(8, 8, PNG_FORMAT_GRAY, pattern(64, 3).data()));
  put("fuzz_image", "rgb_9x7.png", encode_png(9, 7, PNG_FORMAT_RGB, pattern(9 * 7 * 3, 4).data()));
  put("fuzz_image", "rgba_5x6.png", encode_png(5, 6, PNG_FORMAT_RGBA, pattern(5 * 6 * 4, 5).data()));
  put("fuzz_image", "gray16_4x4.png", encode_png(4, 4, PNG_FORMAT_LINEAR_Y, pattern(32, 6).data()));
  put("fuzz_image", "gray_8x8.jpg", encode_jpeg(8, 8, 1, pattern(64, 7), 90, false, false));
  put("fuzz_image", "rgb_16x9.jpg", encode_jpeg(16, 9, 3, pattern(16 * 9 * 3, 8), 90, false, false));
  put("fuzz_image", "rgb_10x10_progressive.jpg", encode_jpeg(10, 10, 3, pattern(300, 9), 90, false, true));
}

void write_calib_tables() {
  quant::CalibTable t;
  t.batches = 2;
  t.samples = 8;
  t.tensors["x"] = {{-1.5f, 2.25f}, "minmax", 128};
  t.tensors["h1"] = {{0.f, 0.1f}, "percentile", 64};
  t.tensors["logits"] = {{-3e-5f, 7.f}, "entropy", 32};
  put("fuzz_calib_table", "three_tensors.json", quant::calib_table_dump(t));
  quant::CalibTable e;
  e.options.scheme = {DType::s8, true, false};
  e.options.percentile = 99.9;
  put("fuzz_calib_table", "empty_s8.json", quant::calib_table_dump(e));
}

void write_recipes() {
  for (const auto& preset : quant::recipe_presets())
    put("fuzz_recipe", std::string(preset.name) + ".json", quant::recipe_dump(quant::recipe_from_preset(preset.name), true));
  quant::Recipe r = quant::recipe_from_preset("int8");
  r.exclude = {"Softmax", "fc"};
  r.exclude_first_last = true;
  r.overrides["conv1"].skip = true;
  r.overrides["mm1"].weights = quant::WeightSpec{DType::s8, quant::QGranularity::per_tensor, 0, true};
  r.cle = true;
  put("fuzz_recipe", "int8_overrides.json", quant::recipe_dump(r, false));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_corpus OUT_DIR\n");
    return 2;
  }
  out_dir = argv[1];
  write_models();
  write_npy();
  write_idx();
  write_images();
  write_calib_tables();
  write_recipes();
  return 0;
}
