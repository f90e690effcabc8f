#include "quant/calib_table.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/file_io.h"

namespace qforge::quant {

using Json = nlohmann::ordered_json;

namespace {

// The shortest decimal of a float, as a double (so the JSON reads "0.1", not "0.10000000149011612").
double float_json(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }

struct Reader {
  const std::string& source;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    fail_input("calibration table '{}': key '{}' {}", source, key, what);
  }
  const Json& get(const Json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object() || !obj.contains(key)) fail(path, "is missing");
    return obj.at(key);
  }
  double number(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& v = get(obj, key, path);
    if (!v.is_number()) fail(path, "is not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(path, "is not finite");
    return d;
  }
  int64_t integer(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& v = get(obj, key, path);
    if (!v.is_number_integer()) fail(path, "is not an integer");
    return v.get<int64_t>();
  }
  bool boolean(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& v = get(obj, key, path);
    if (!v.is_boolean()) fail(path, "is not true or false");
    return v.get<bool>();
  }
  std::string string(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& v = get(obj, key, path);
    if (!v.is_string()) fail(path, "is not a string");
    return v.get<std::string>();
  }
  float finite_float(const Json& obj, const std::string& key, const std::string& path) const {
    const double d = number(obj, key, path);
    const auto f = static_cast<float>(d);
    if (!std::isfinite(f)) fail(path, fmt::format("({}) is out of the float range", d));
    return f;
  }
};

DType integer_format(const std::string& name) {
  for (DType d : {DType::s8, DType::u8, DType::s16, DType::u16, DType::s4, DType::u4})
    if (dtype_name(d) == name) return d;
  return DType::undefined;
}

}  // namespace

const CalibEntry* CalibTable::find(const std::string& tensor) const {
  auto it = tensors.find(tensor);
  return it == tensors.end() ? nullptr : &it->second;
}

Json calib_table_to_json(const CalibTable& t) {
  Json j;
  j["format"] = "qforge-calibration";
  j["version"] = CalibTable::kVersion;
  j["batches"] = t.batches;
  j["samples"] = t.samples;
  Json o;
  o["percentile"] = t.options.percentile;
  o["bins"] = t.options.bins;
  o["quantized_bins"] = t.options.quantized_bins;
  o["averaging_constant"] = t.options.averaging_constant;
  Json s;
  s["format"] = std::string(dtype_name(t.options.scheme.format));
  s["symmetric"] = t.options.scheme.symmetric;
  s["reduced_range"] = t.options.scheme.reduced_range;
  o["scheme"] = std::move(s);
  j["options"] = std::move(o);
  Json ts = Json::object();
  for (const auto& [name, e] : t.tensors) {
    Json je;
    je["min"] = float_json(e.range.min);
    je["max"] = float_json(e.range.max);
    je["method"] = e.method;
    je["count"] = e.count;
    ts[name] = std::move(je);
  }
  j["tensors"] = std::move(ts);
  return j;
}

CalibTable calib_table_from_json(const Json& j, const std::string& source) {
  const Reader r{source};
  if (!j.is_object()) fail_input("calibration table '{}': not a JSON object", source);
  if (r.string(j, "format", "format") != "qforge-calibration") r.fail("format", "is not \"qforge-calibration\"");
  const int64_t version = r.integer(j, "version", "version");
  if (version != CalibTable::kVersion)
    r.fail("version", fmt::format("is {}; this qforge reads version {}", version, CalibTable::kVersion));
  CalibTable t;
  t.batches = r.integer(j, "batches", "batches");
  t.samples = r.integer(j, "samples", "samples");
  if (t.batches < 0) r.fail("batches", "is negative");
  if (t.samples < 0) r.fail("samples", "is negative");
  const Json& o = r.get(j, "options", "options");
  t.options.percentile = r.number(o, "percentile", "options.percentile");
  t.options.bins = r.integer(o, "bins", "options.bins");
  t.options.quantized_bins = r.integer(o, "quantized_bins", "options.quantized_bins");
  t.options.averaging_constant = r.number(o, "averaging_constant", "options.averaging_constant");
  const Json& s = r.get(o, "scheme", "options.scheme");
  const std::string fmt_name = r.string(s, "format", "options.scheme.format");
  t.options.scheme.format = integer_format(fmt_name);
  if (t.options.scheme.format == DType::undefined)
    r.fail("options.scheme.format", fmt::format("'{}' is not an integer format (s8 u8 s16 u16 s4 u4)", fmt_name));
  t.options.scheme.symmetric = r.boolean(s, "symmetric", "options.scheme.symmetric");
  t.options.scheme.reduced_range = r.boolean(s, "reduced_range", "options.scheme.reduced_range");
  try {
    check_observer_options(t.options);
  } catch (const InputError& e) {
    fail_input("calibration table '{}': key 'options': {}", source, e.what());
  }
  const Json& ts = r.get(j, "tensors", "tensors");
  if (!ts.is_object()) r.fail("tensors", "is not an object");
  for (const auto& [name, je] : ts.items()) {
    const std::string path = "tensors." + name;
    CalibEntry e;
    e.range.min = r.finite_float(je, "min", path + ".min");
    e.range.max = r.finite_float(je, "max", path + ".max");
    if (e.range.min > e.range.max) r.fail(path, fmt::format("has min {} > max {}", e.range.min, e.range.max));
    e.method = r.string(je, "method", path + ".method");
    if (!find_observer_method(e.method))
      r.fail(path + ".method", fmt::format("'{}' is not a calibration method", e.method));
    e.count = r.integer(je, "count", path + ".count");
    if (e.count < 0) r.fail(path + ".count", "is negative");
    t.tensors.emplace(name, std::move(e));
  }
  return t;
}

std::string calib_table_dump(const CalibTable& t) { return calib_table_to_json(t).dump(2) + "\n"; }

void save_calib_table(const CalibTable& t, const std::string& path) { write_file_atomic(path, calib_table_dump(t)); }

CalibTable load_calib_table(const std::string& path) {
  const std::string text = read_file(path);
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_input("calibration table '{}': not valid JSON: {}", path, e.what());
  }
  return calib_table_from_json(j, path);
}

}  // namespace qforge::quant
