// The bodies of the fuzz harnesses, shared by fuzz/fuzz_*.cpp (libFuzzer) and by
// tests/hardening/test_fuzz_regressions.cpp, which replays every input a fuzzer once crashed on.
// Each body lets InputError escape (the expected outcome for malformed input); anything else that
// escapes, a __builtin_trap(), a sanitizer report, a timeout or a malloc over the harness's limit
// is a finding.
#pragma once
#include <algorithm>
#include <random>
#include <string_view>

#include "data/dataset.h"
#include "data/idx.h"
#include "data/image_decode.h"
#include "data/npy.h"
#include "data/preprocess.h"
#include "fuzz_util.h"
#include "ir/onnx_io.h"
#include "ir/shape_inference.h"
#include "quant/calib_table.h"
#include "quant/calibrate.h"
#include "quant/quantize_pipeline.h"
#include "quant/recipe.h"
#include "runtime/session.h"

namespace qforge::fuzz {

inline ir::ImportOptions fuzz_import_options() {
  ir::ImportOptions io;
  io.max_tensor_bytes = uint64_t{64} << 20;  // the harness's memory cap for model tensors
  return io;
}

// Raw bytes → ONNX import → shape inference → session plan (support check, constant folding,
// optimisation, weight packing). Nothing runs on data: run_e2e does that.
inline void run_onnx_load(std::string_view bytes) {
  ir::Model model = ir::parse_onnx(bytes, "fuzz.onnx", "", fuzz_import_options());
  ir::Model inferred = model;
  ir::infer_shapes(inferred);
  if (!within_run_budget(inferred.graph)) return;
  runtime::SessionOptions so;
  so.threads = 1;
  runtime::Session session(model, so);
}

// Raw bytes → .npy parser (header dict, dtype, shape, payload length) → serialize → parse back.
inline void run_npy(std::string_view bytes) {
  Tensor t = data::parse_npy(bytes, "fuzz.npy");
  Tensor u = data::parse_npy(data::serialize_npy(t), "roundtrip.npy");
  if (!t.bit_equal(u)) __builtin_trap();  // what parsed must serialize and parse back the same
}

// An IDX file (raw or gzip) → IdxFile (header, payload length, inflation) → element reads.
inline void run_idx_file(const std::string& path) {
  data::IdxFile f(path);
  int64_t n = std::min<int64_t>(f.count(), 4), elems = 0;
  if (!__builtin_mul_overflow(n, f.item_numel(), &elems) && elems <= kMaxRunElements) {
    std::vector<float> buf(static_cast<size_t>(elems));
    f.read_f32(0, n, buf.data(), true);
  }
  if (f.dims().size() == 1 && f.count() <= kMaxRunElements) f.read_all_i64();
}

// The same file as an idx: dataset (sample shape, preprocessing, one batch of two).
inline void run_idx_dataset(const std::string& path) {
  auto ds = data::open_dataset("idx:" + path);
  int64_t elems = 0;
  if (!__builtin_mul_overflow(shape_numel_checked(ds->sample_shape(), "sample"), 2, &elems) && elems <= kMaxRunElements)
    ds->read(0, 2);
}

// Raw bytes → PNG / JPEG decoding (the image-folder loader's decode_image) → the preprocessing
// pipeline of an images: dataset (grayscale when `gray`, resize, center crop, normalisation).
inline void run_image(std::string_view bytes, bool gray) {
  data::Image img = data::decode_image(bytes, "fuzz.img");
  if (img.c <= 0 || img.h <= 0 || img.w <= 0 || img.px.size() != size_t(img.c) * img.h * img.w)
    __builtin_trap();  // decode_image promises a well-formed image
  data::Preprocess pp;
  pp.resize = 8;
  pp.center_crop = 6;
  pp.grayscale = gray;
  pp.mean = {0.5f};
  pp.std = {0.25f};
  data::Pipeline pipe(pp, img.c, "fuzz.img");
  Shape sample = pipe.sample_shape(img.h, img.w, "fuzz.img");
  std::vector<float> out(static_cast<size_t>(shape_numel(sample)));
  pipe.run(std::move(img), sample, out.data(), "fuzz.img");
}

// A calibration table file → reader (JSON parse, keys, types, ranges) → dump → read back.
inline void run_calib_table(const std::string& path) {
  quant::CalibTable t = quant::load_calib_table(path);
  std::string dumped = quant::calib_table_dump(t);
  quant::CalibTable u = quant::calib_table_from_json(nlohmann::ordered_json::parse(dumped), "dumped");
  if (!(t.tensors == u.tensors) || t.batches != u.batches || t.samples != u.samples) __builtin_trap();
}

// One random tensor per graph input; symbolic or unknown dims become 1. False when an input has an
// unknown rank, a dtype the harness does not generate, or too many elements.
inline bool make_inputs(ir::Model& m, std::mt19937& rng, std::vector<Tensor>& out) {
  for (auto& v : m.graph.inputs) {
    if (!v.has_shape || (v.dtype != DType::f32 && v.dtype != DType::s64)) return false;
    Shape shape;
    for (auto& d : v.dims) {
      if (!d.is_known()) d = ir::Dim::known(1);
      shape.push_back(d.value);
    }
    int64_t n = 1;
    for (int64_t d : shape)
      if (__builtin_mul_overflow(n, d, &n) || n > kMaxRunElements) return false;
    Tensor t(v.dtype, shape);
    if (v.dtype == DType::f32) {
      std::normal_distribution<float> dist(0.f, 1.f);
      for (auto& x : t.span<float>()) x = dist(rng);
    } else {
      std::uniform_int_distribution<int64_t> dist(0, 3);
      for (auto& x : t.span<int64_t>()) x = dist(rng);
    }
    out.push_back(std::move(t));
  }
  return true;
}

// End to end, as `qforge quantize` then `qforge eval` do it: import → concrete input shapes → shape
// inference → the harness's memory budget → static int8 quantization (BN folding, calibration on two
// random samples, QDQ rewrite) → the quantized model run once (lowering, integer kernels) → export →
// the exported model and the calibration table read back.
inline void run_e2e(std::string_view bytes) {
  const ir::ImportOptions io = fuzz_import_options();
  ir::Model model = ir::parse_onnx(bytes, "fuzz.onnx", "", io);
  std::mt19937 rng(static_cast<uint32_t>(bytes.size()));
  std::vector<Tensor> a, b;
  ir::Model concrete = model;
  if (!make_inputs(concrete, rng, a)) return;
  ir::Model again = model;
  make_inputs(again, rng, b);
  ir::infer_shapes(concrete);
  if (!within_run_budget(concrete.graph)) return;

  const quant::Recipe recipe = quant::recipe_from_preset("int8");
  const quant::BatchSourceFactory two_samples = [&]() -> quant::BatchSource {
    return [&, i = 0]() mutable -> std::vector<Tensor> { return ++i == 1 ? a : i == 2 ? b : std::vector<Tensor>{}; };
  };
  quant::PipelineResult p = quant::quantize_pipeline(model, recipe, &two_samples, nullptr, 1);
  runtime::SessionOptions so;
  so.threads = 1;
  runtime::Session session(p.result.model, so);
  session.run(a);

  // What was produced must read back: the table exactly, the exported model as a valid model.
  if (p.table) {
    quant::CalibTable t2 =
        quant::calib_table_from_json(nlohmann::ordered_json::parse(quant::calib_table_dump(*p.table)), "dumped");
    if (!(t2.tensors == p.table->tensors)) __builtin_trap();
  }
  std::string exported;
  try {
    exported = ir::serialize_onnx(p.result.model);
  } catch (const InputError&) {
    return;  // a model the exporter documents it cannot write (over 2 GiB, a dtype ONNX lacks)
  }
  try {
    ir::parse_onnx(exported, "exported.onnx", "", io);
  } catch (const InputError&) {
    __builtin_trap();  // qforge wrote a model it cannot read back
  }
}

// A recipe file → reader (JSON parse, keys, types, presets, overrides, checks) → dump → read back.
inline void run_recipe(const std::string& path) {
  quant::Recipe r = quant::load_recipe(path);
  quant::Recipe u = quant::recipe_from_json(nlohmann::ordered_json::parse(quant::recipe_dump(r, false)), "dumped");
  if (!(r == u)) __builtin_trap();  // what was read must dump and read back the same
}

}  // namespace qforge::fuzz
