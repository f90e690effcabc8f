// The calibration table: the plain artifact calibration produces and quantization consumes (STYLE §10),
// so calibrate and apply can run separately (--save-calib / --load-calib).
//
// JSON form (keys in this order; tensors sorted by name, so the same table gives the same bytes):
// {
//   "format": "qforge-calibration", "version": 1,
//   "batches": 16, "samples": 512,
//   "options": {"percentile": 99.999, "bins": 2048, "quantized_bins": 128, "averaging_constant": 0.01,
//               "scheme": {"format": "u8", "symmetric": false, "reduced_range": false}},
//   "tensors": {"conv1_out": {"min": -0.5, "max": 3.25, "method": "entropy", "count": 401408}, ...}
// }
// Floats are written as the shortest decimal that reads back to the same float.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "quant/observer.h"

namespace qforge::quant {

struct CalibEntry {
  Range range;
  std::string method;  // a name from observer_methods()
  int64_t count = 0;   // elements observed
  bool operator==(const CalibEntry&) const = default;
};

struct CalibTable {
  static constexpr int kVersion = 1;
  int64_t batches = 0;  // session runs
  int64_t samples = 0;  // sum of the first input's leading dim over the batches (1 per batch for scalars)
  ObserverOptions options;
  std::map<std::string, CalibEntry> tensors;

  const CalibEntry* find(const std::string& tensor) const;
};

nlohmann::ordered_json calib_table_to_json(const CalibTable& t);
// `source` names the file in errors: InputError "calibration table 'F': key 'tensors.x.min' ...".
CalibTable calib_table_from_json(const nlohmann::ordered_json& j, const std::string& source);
// Pretty-printed JSON (2-space indent, trailing newline), written with write_file_atomic.
std::string calib_table_dump(const CalibTable& t);
void save_calib_table(const CalibTable& t, const std::string& path);
// InputError naming the file (and the key) when it is unreadable, not JSON, or malformed.
CalibTable load_calib_table(const std::string& path);

}  // namespace qforge::quant
