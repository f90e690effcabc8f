// The whole post-training pipeline `qforge quantize` runs, in order:
//   1. BatchNormalization folded into the preceding Conv            (fold_batch_norms)
//   2. --cle: cross-layer equalization                               (quant/cle.h)
//   3. --smoothquant ALPHA: SmoothQuant scale migration              (quant/smoothquant.h, needs data)
//   4. static mode: calibration of the activations calibration_tensors() lists, each with its method
//      (quant/calibrate.h), unless a table is given (--load-calib)
//   5. quantize_model                                                (quant/quantizer.h)
//   6. --bias-correction: empirical bias correction of the QDQ model  (quant/bias_correction.h, needs data)
// Calibration runs on the model after steps 1-3, so the table's tensors are the prepared model's values.
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "quant/bias_correction.h"
#include "quant/calibrate.h"
#include "quant/cle.h"
#include "quant/quantizer.h"
#include "quant/smoothquant.h"

namespace qforge::quant {

struct PipelineResult {
  QuantizeResult result;
  std::optional<CalibTable> table;  // static mode: the table used (computed or loaded)
  std::optional<CleReport> cle;
  std::optional<SmoothQuantReport> smoothquant;
  std::optional<BiasCorrectionReport> bias_correction;
};

// data: calibration batches (each call a fresh pass over the same samples); null when there are none.
// InputError when a step needs data and there is none, and from every step.
PipelineResult quantize_pipeline(const ir::Model& fp32, const Recipe& recipe, const BatchSourceFactory* data,
                                 const CalibTable* loaded_table, int threads = 0);

// The CalibOptions static calibration uses for a recipe (the tensors, their methods, the observer scheme).
CalibOptions calib_options_for(const ir::Model& prepared, const Recipe& recipe, int threads);

}  // namespace qforge::quant
