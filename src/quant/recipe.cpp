#include "quant/recipe.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/file_io.h"
#include "quant/observer.h"

namespace qforge::quant {

using Json = nlohmann::ordered_json;

namespace {

Recipe preset_int8() { return Recipe{}; }

Recipe preset_int8_dynamic() {
  Recipe r;
  r.preset = "int8-dynamic";
  r.mode = QuantMode::dynamic;
  return r;
}

Recipe preset_w4a8() {
  Recipe r;
  r.preset = "w4a8";
  r.weights = WeightSpec{DType::s4, QGranularity::per_channel, 0, true};
  return r;
}

Recipe preset_w4a16() {
  Recipe r;
  r.preset = "w4a16";
  r.mode = QuantMode::weight_only;
  r.weights = WeightSpec{DType::s4, QGranularity::per_group, 32, true};
  return r;
}

Recipe preset_nf4() {
  Recipe r;
  r.preset = "nf4";
  r.mode = QuantMode::weight_only;
  r.weights = WeightSpec{DType::nf4, QGranularity::per_group, 32, true};
  return r;
}

Recipe preset_fp16() {
  Recipe r;
  r.preset = "fp16";
  r.mode = QuantMode::fp16;
  return r;
}

Recipe preset_bf16() {
  Recipe r;
  r.preset = "bf16";
  r.mode = QuantMode::bf16;
  return r;
}

constexpr RecipePreset kPresets[] = {
    {"int8", "static W8A8: per-channel symmetric s8 weights, asymmetric u8 activations (the default)", preset_int8},
    {"int8-dynamic", "s8 per-channel weights, u8 activations quantized per batch at run time (MatMul / Gemm)",
     preset_int8_dynamic},
    {"w4a8", "static: per-channel symmetric s4 weights, asymmetric u8 activations", preset_w4a8},
    {"w4a16", "weight-only s4, one scale per group of 32 along the reduction axis", preset_w4a16},
    {"nf4", "weight-only NormalFloat4, groups of 32 (MatMul / Gemm as com.microsoft.MatMulBnb4)", preset_nf4},
    {"fp16", "weights stored as float16, computed in float32", preset_fp16},
    {"bf16", "weights stored as bfloat16, computed in float32", preset_bf16},
};

constexpr std::pair<QuantMode, const char*> kModes[] = {
    {QuantMode::static_, "static"}, {QuantMode::dynamic, "dynamic"}, {QuantMode::weight_only, "weight-only"},
    {QuantMode::fp16, "fp16"},      {QuantMode::bf16, "bf16"},
};

constexpr std::pair<QGranularity, const char*> kGranularities[] = {
    {QGranularity::per_tensor, "per-tensor"}, {QGranularity::per_channel, "per-channel"},
    {QGranularity::per_group, "per-group"}};

constexpr DType kWeightDtypes[] = {DType::s8, DType::u8, DType::s4, DType::u4, DType::nf4};
constexpr DType kActivationDtypes[] = {DType::u8, DType::s8};

// The shortest decimal of a double that reads back the same.
double clean(double d) { return std::strtod(fmt::format("{}", d).c_str(), nullptr); }

struct Reader {
  const std::string& source;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    fail_input("recipe '{}': key '{}' {}", source, key, what);
  }
  void only_keys(const Json& obj, const std::string& path, std::initializer_list<const char*> keys) const {
    if (!obj.is_object()) fail(path.empty() ? "(top level)" : path, "is not an object");
    for (const auto& [k, v] : obj.items()) {
      bool known = false;
      for (const char* name : keys) known |= k == name;
      if (!known) fail(path.empty() ? k : path + "." + k, "is not a recipe key");
    }
  }
  static std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
  bool has(const Json& obj, const char* key) const { return obj.contains(key); }
  double number(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = obj.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(join(path, key), "is not a finite number");
    return v.get<double>();
  }
  int64_t integer(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = obj.at(key);
    if (!v.is_number_integer()) fail(join(path, key), "is not an integer");
    return v.get<int64_t>();
  }
  bool boolean(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = obj.at(key);
    if (!v.is_boolean()) fail(join(path, key), "is not true or false");
    return v.get<bool>();
  }
  std::string string(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = obj.at(key);
    if (!v.is_string()) fail(join(path, key), "is not a string");
    return v.get<std::string>();
  }
  template <class T, size_t N>
  T choice(const Json& obj, const char* key, const std::string& path, const std::pair<T, const char*> (&table)[N]) const {
    const std::string s = string(obj, key, path);
    std::vector<std::string> names;
    for (const auto& [v, name] : table) {
      if (s == name) return v;
      names.emplace_back(name);
    }
    fail(join(path, key), fmt::format("'{}' is not one of {}", s, fmt::join(names, " ")));
  }
  template <size_t N>
  DType dtype(const Json& obj, const char* key, const std::string& path, const DType (&allowed)[N]) const {
    const std::string s = string(obj, key, path);
    std::vector<std::string> names;
    for (DType d : allowed) {
      if (s == dtype_name(d)) return d;
      names.emplace_back(dtype_name(d));
    }
    fail(join(path, key), fmt::format("'{}' is not one of {}", s, fmt::join(names, " ")));
  }

  WeightSpec weights(const Json& o, const std::string& path, WeightSpec w) const {
    only_keys(o, path, {"dtype", "granularity", "group_size", "symmetric"});
    if (has(o, "dtype")) w.dtype = dtype(o, "dtype", path, kWeightDtypes);
    if (has(o, "granularity")) w.granularity = choice(o, "granularity", path, kGranularities);
    if (has(o, "group_size")) w.group_size = integer(o, "group_size", path);
    if (has(o, "symmetric")) w.symmetric = boolean(o, "symmetric", path);
    return w;
  }
};

Json weights_json(const WeightSpec& w) {
  Json j;
  j["dtype"] = std::string(dtype_name(w.dtype));
  j["granularity"] = granularity_name(w.granularity);
  j["group_size"] = w.group_size;
  j["symmetric"] = w.symmetric;
  return j;
}

void check_weights(const WeightSpec& w, QuantMode mode, const std::string& source, const std::string& key) {
  auto fail = [&](const std::string& sub, const std::string& what) {
    fail_input("recipe '{}': key '{}.{}' {}", source, key, sub, what);
  };
  if (std::find(std::begin(kWeightDtypes), std::end(kWeightDtypes), w.dtype) == std::end(kWeightDtypes))
    fail("dtype", fmt::format("'{}' is not one of s8 u8 s4 u4 nf4", dtype_name(w.dtype)));
  if (w.granularity == QGranularity::per_group) {
    if (w.group_size < 2 || w.group_size % 2 != 0 || w.group_size > (1 << 20))
      fail("group_size", fmt::format("is {}; per-group needs an even group size >= 2", w.group_size));
  } else if (w.group_size != 0) {
    fail("group_size", fmt::format("is {}; it must be 0 unless the granularity is per-group", w.group_size));
  }
  if (w.dtype == DType::nf4 && mode != QuantMode::weight_only)
    fail("dtype", "nf4 needs mode 'weight-only' (NormalFloat codes have no integer arithmetic)");
  if (w.dtype == DType::nf4 && w.granularity != QGranularity::per_group)
    fail("granularity", "nf4 needs per-group");
  if (w.dtype == DType::nf4 && (w.group_size < 16 || w.group_size > 256 || (w.group_size & (w.group_size - 1))))
    fail("group_size", fmt::format("is {}; nf4 (com.microsoft.MatMulBnb4) takes 16, 32, 64, 128 or 256", w.group_size));
  if (mode == QuantMode::dynamic && w.dtype != DType::s8 && w.dtype != DType::u8)
    fail("dtype", "dynamic mode takes s8 or u8 weights (MatMulInteger)");
  if (mode == QuantMode::dynamic && w.granularity == QGranularity::per_group)
    fail("granularity", "dynamic mode takes per-tensor or per-channel weights");
  if (mode == QuantMode::static_ && w.granularity == QGranularity::per_group)
    fail("granularity", "static mode takes per-tensor or per-channel weights (per-group is weight-only)");
}

}  // namespace

std::span<const RecipePreset> recipe_presets() { return kPresets; }

Recipe recipe_from_preset(const std::string& name) {
  std::vector<std::string> names;
  for (const RecipePreset& p : kPresets) {
    if (name == p.name) return p.make();
    names.emplace_back(p.name);
  }
  fail_input("unknown preset '{}' (presets: {})", name, fmt::join(names, ", "));
}

WeightSpec weight_spec_for(const Recipe& r, const std::string& node_name) {
  auto it = r.overrides.find(node_name);
  return it != r.overrides.end() && it->second.weights ? *it->second.weights : r.weights;
}

std::string resolve_method(const Recipe& r, bool graph_input_or_output, bool bounded_activation) {
  const std::string& m = r.activations.method;
  const bool clipping = m == "auto" || m == "percentile" || m == "entropy";
  if (clipping && (graph_input_or_output || bounded_activation)) return "minmax";
  return m == "auto" ? "percentile" : m;
}

std::string quant_mode_name(QuantMode m) {
  for (const auto& [v, name] : kModes)
    if (v == m) return name;
  QF_CHECK(false, "unknown mode");
  return {};
}

std::string granularity_name(QGranularity g) {
  for (const auto& [v, name] : kGranularities)
    if (v == g) return name;
  QF_CHECK(false, "unknown granularity");
  return {};
}

void check_recipe(const Recipe& r, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& what) {
    fail_input("recipe '{}': key '{}' {}", source, key, what);
  };
  check_weights(r.weights, r.mode, source, "weights");
  for (const auto& [name, o] : r.overrides)
    if (o.weights) check_weights(*o.weights, r.mode, source, "overrides." + name + ".weights");
  const ActivationSpec& a = r.activations;
  if (a.dtype != DType::u8 && a.dtype != DType::s8)
    fail("activations.dtype", fmt::format("'{}' is not one of u8 s8", dtype_name(a.dtype)));
  if (r.mode == QuantMode::dynamic && (a.dtype != DType::u8 || a.symmetric))
    fail("activations.dtype", "dynamic mode quantizes activations to asymmetric u8 (DynamicQuantizeLinear)");
  if (a.method != "auto" && !find_observer_method(a.method)) {
    std::vector<std::string> names{"auto"};
    for (const ObserverMethod& m : observer_methods()) names.emplace_back(m.name);
    fail("activations.method", fmt::format("'{}' is not one of {}", a.method, fmt::join(names, " ")));
  }
  if (!(a.percentile > 0 && a.percentile <= 100))
    fail("activations.percentile", fmt::format("is {}; it must be in (0, 100]", a.percentile));
  if (r.reduce_range && r.weights.dtype != DType::s8 && r.weights.dtype != DType::u8)
    fail("reduce_range", "needs 8-bit weights");
  if (!(r.smoothquant_alpha >= 0 && r.smoothquant_alpha <= 1))
    fail("smoothquant_alpha", fmt::format("is {}; it must be in [0, 1] (0 = off)", r.smoothquant_alpha));
  if (r.opset != 0 && (r.opset < 13 || r.opset > 21))
    fail("opset", fmt::format("is {}; qforge writes quantized models at opsets 13 to 21 (0 = automatic)", r.opset));
  if (r.calib_size < 1) fail("calib_size", fmt::format("is {}; it must be at least 1", r.calib_size));
  for (const std::string& e : r.exclude)
    if (e.empty()) fail("exclude", "has an empty name");
}

Json recipe_to_json(const Recipe& r) {
  Json j;
  j["format"] = "qforge-recipe";
  j["version"] = Recipe::kVersion;
  j["preset"] = r.preset;
  j["mode"] = quant_mode_name(r.mode);
  j["weights"] = weights_json(r.weights);
  Json a;
  a["dtype"] = std::string(dtype_name(r.activations.dtype));
  a["symmetric"] = r.activations.symmetric;
  a["method"] = r.activations.method;
  a["percentile"] = clean(r.activations.percentile);
  j["activations"] = std::move(a);
  j["reduce_range"] = r.reduce_range;
  j["exclude"] = r.exclude;
  j["exclude_first_last"] = r.exclude_first_last;
  Json ov = Json::object();
  for (const auto& [name, o] : r.overrides) {
    Json jo;
    jo["skip"] = o.skip;
    if (o.weights) jo["weights"] = weights_json(*o.weights);
    ov[name] = std::move(jo);
  }
  j["overrides"] = std::move(ov);
  j["cle"] = r.cle;
  j["smoothquant_alpha"] = clean(r.smoothquant_alpha);
  j["bias_correction"] = r.bias_correction;
  j["opset"] = r.opset;
  j["calib_size"] = r.calib_size;
  return j;
}

Recipe recipe_from_json(const Json& j, const std::string& source) {
  const Reader rd{source};
  rd.only_keys(j, "", {"format", "version", "preset", "mode", "weights", "activations", "reduce_range", "exclude",
                       "exclude_first_last", "overrides", "cle", "smoothquant_alpha", "bias_correction", "opset",
                       "calib_size"});
  if (!j.contains("format") || rd.string(j, "format", "") != "qforge-recipe")
    rd.fail("format", "must be \"qforge-recipe\"");
  if (!j.contains("version")) rd.fail("version", "is missing");
  if (const int64_t v = rd.integer(j, "version", ""); v != Recipe::kVersion)
    rd.fail("version", fmt::format("is {}; this qforge reads version {}", v, Recipe::kVersion));
  // Keys left out take the preset's values.
  Recipe r;
  if (rd.has(j, "preset")) {
    const std::string p = rd.string(j, "preset", "");
    try {
      r = recipe_from_preset(p);
    } catch (const InputError& e) {
      rd.fail("preset", e.what());
    }
  }
  if (rd.has(j, "mode")) r.mode = rd.choice(j, "mode", "", kModes);
  if (rd.has(j, "weights")) r.weights = rd.weights(j.at("weights"), "weights", r.weights);
  if (rd.has(j, "activations")) {
    const Json& a = j.at("activations");
    rd.only_keys(a, "activations", {"dtype", "symmetric", "method", "percentile"});
    if (rd.has(a, "dtype")) r.activations.dtype = rd.dtype(a, "dtype", "activations", kActivationDtypes);
    if (rd.has(a, "symmetric")) r.activations.symmetric = rd.boolean(a, "symmetric", "activations");
    if (rd.has(a, "method")) r.activations.method = rd.string(a, "method", "activations");
    if (rd.has(a, "percentile")) r.activations.percentile = rd.number(a, "percentile", "activations");
  }
  if (rd.has(j, "reduce_range")) r.reduce_range = rd.boolean(j, "reduce_range", "");
  if (rd.has(j, "exclude")) {
    const Json& e = j.at("exclude");
    if (!e.is_array()) rd.fail("exclude", "is not an array of names");
    r.exclude.clear();
    for (const Json& s : e) {
      if (!s.is_string()) rd.fail("exclude", "is not an array of names");
      r.exclude.push_back(s.get<std::string>());
    }
  }
  if (rd.has(j, "exclude_first_last")) r.exclude_first_last = rd.boolean(j, "exclude_first_last", "");
  if (rd.has(j, "overrides")) {
    const Json& ov = j.at("overrides");
    if (!ov.is_object()) rd.fail("overrides", "is not an object");
    r.overrides.clear();
    for (const auto& [name, jo] : ov.items()) {
      const std::string path = "overrides." + name;
      rd.only_keys(jo, path, {"skip", "weights"});
      NodeOverride o;
      if (rd.has(jo, "skip")) o.skip = rd.boolean(jo, "skip", path);
      if (rd.has(jo, "weights")) o.weights = rd.weights(jo.at("weights"), path + ".weights", r.weights);
      r.overrides.emplace(name, std::move(o));
    }
  }
  if (rd.has(j, "cle")) r.cle = rd.boolean(j, "cle", "");
  if (rd.has(j, "smoothquant_alpha")) r.smoothquant_alpha = rd.number(j, "smoothquant_alpha", "");
  if (rd.has(j, "bias_correction")) r.bias_correction = rd.boolean(j, "bias_correction", "");
  if (rd.has(j, "opset")) r.opset = rd.integer(j, "opset", "");
  if (rd.has(j, "calib_size")) r.calib_size = rd.integer(j, "calib_size", "");
  check_recipe(r, source);
  return r;
}

std::string recipe_dump(const Recipe& r, bool pretty) {
  return pretty ? recipe_to_json(r).dump(2) + "\n" : recipe_to_json(r).dump();
}

Recipe load_recipe(const std::string& path) {
  const std::string text = read_file(path);
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_input("recipe '{}': not valid JSON: {}", path, e.what());
  }
  return recipe_from_json(j, path);
}

}  // namespace qforge::quant
