// The recipe (DESIGN vocabulary): every choice `qforge quantize` makes, serialisable, so a run can be
// repeated exactly (`--recipe FILE`). Presets are rows of one table (recipe_presets()); the CLI flags
// edit a preset's recipe; the JSON form is written next to the output (OUT.recipe.json) and into the
// model's metadata ("qforge.recipe").
//
// JSON form (keys in this order; reading is strict: an unknown key or a bad value is an InputError
// naming the key, e.g. "recipe 'r.json': key 'weights.dtype': 'q3' is not one of s8 u8 s4 u4 nf4"):
// {
//   "format": "qforge-recipe", "version": 1, "preset": "int8", "mode": "static",
//   "weights": {"dtype": "s8", "granularity": "per-channel", "group_size": 0, "symmetric": true},
//   "activations": {"dtype": "u8", "symmetric": false, "method": "auto", "percentile": 99.999},
//   "reduce_range": false, "exclude": [], "exclude_first_last": false,
//   "overrides": {"conv1": {"skip": true}, "fc3": {"weights": {"dtype": "s8", "granularity": "per-tensor"}}},
//   "cle": false, "smoothquant_alpha": 0, "bias_correction": false, "opset": 0, "calib_size": 512
// }
//
// Calibration method "auto" (the int8 preset's choice, per tensor type — measured on the bundled
// models, see resolve_method): graph inputs (and their reshapes) and graph outputs take minmax (an
// input's range is the data's range; clipping logits changes the argmax), every other activation takes percentile at
// `percentile` (99.999 by default), which ignores the rare outliers that would otherwise stretch the
// scale of post-ReLU activations. Weights are always quantized from their exact min/max.
// The clipping methods (percentile, entropy; "auto" included) give way to minmax where clipping
// cannot pay: on graph inputs and outputs (above), and on the outputs of bounded activations (Clip
// with a finite max such as ReLU6, Sigmoid, Tanh), whose op already bounds the step (6 / 255 for
// ReLU6) and whose values at the bound are saturated signal, not outliers. Measured on the bundled
// MobileNet (ReLU6 everywhere): entropy's KL search clipped ReLU6 outputs to 3.1–5.7 and lost
// 0.4 points of top-1 against minmax; docs/quantization.md has the table.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "quant/qparams.h"

namespace qforge::quant {

enum class QuantMode { static_, dynamic, weight_only, fp16, bf16 };

struct WeightSpec {
  DType dtype = DType::s8;  // s8 u8 s4 u4 nf4
  QGranularity granularity = QGranularity::per_channel;
  int64_t group_size = 0;   // per_group only (> 0, even)
  bool symmetric = true;
  bool operator==(const WeightSpec&) const = default;
};

struct ActivationSpec {
  DType dtype = DType::u8;  // u8 s8
  bool symmetric = false;
  std::string method = "auto";  // auto | a name from observer_methods()
  double percentile = 99.999;
  bool operator==(const ActivationSpec&) const = default;
};

struct NodeOverride {
  bool skip = false;                  // leave the node in float
  std::optional<WeightSpec> weights;  // another weight format / granularity for this node
  bool operator==(const NodeOverride&) const = default;
};

struct Recipe {
  static constexpr int kVersion = 1;
  std::string preset = "int8";
  QuantMode mode = QuantMode::static_;
  WeightSpec weights;
  ActivationSpec activations;
  bool reduce_range = false;          // 7-bit weights (hardware without VNNI), 8-bit weight formats only
  std::vector<std::string> exclude;   // node names or op types left in float
  bool exclude_first_last = false;    // leave the first and last Conv / Gemm / MatMul in float
  std::map<std::string, NodeOverride> overrides;  // by node name
  bool cle = false;                   // cross-layer equalization before calibration
  double smoothquant_alpha = 0;       // 0: off; in (0, 1]
  bool bias_correction = false;
  int64_t opset = 0;                  // 0: the lowest opset the export needs (>= the model's)
  int64_t calib_size = 512;           // calibration samples
  bool operator==(const Recipe&) const = default;
};

struct RecipePreset {
  const char* name;
  const char* description;
  Recipe (*make)();
};

// The one table of presets, in display order: int8 int8-dynamic w4a8 w4a16 nf4 fp16 bf16.
std::span<const RecipePreset> recipe_presets();
// InputError listing the presets when `name` is unknown.
Recipe recipe_from_preset(const std::string& name);

// The weight spec one node uses (its override, else the recipe's).
WeightSpec weight_spec_for(const Recipe& r, const std::string& node_name);
// The calibration method of one activation ("auto" resolved, and minmax for the clipping methods on
// graph inputs / outputs and bounded activations, as described above).
std::string resolve_method(const Recipe& r, bool graph_input_or_output, bool bounded_activation = false);

// Checks the combination (InputError naming the key): weight dtype vs mode, group size, percentile,
// smoothquant alpha, opset range, calib size, activation dtype and method.
void check_recipe(const Recipe& r, const std::string& source);

std::string quant_mode_name(QuantMode m);
std::string granularity_name(QGranularity g);

nlohmann::ordered_json recipe_to_json(const Recipe& r);
// `source` names the file in errors.
Recipe recipe_from_json(const nlohmann::ordered_json& j, const std::string& source);
// Compact one-line JSON (for metadata) or pretty (2-space indent, trailing newline, for files).
std::string recipe_dump(const Recipe& r, bool pretty);
Recipe load_recipe(const std::string& path);

}  // namespace qforge::quant
