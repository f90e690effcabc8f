#include "quant/quantize_pipeline.h"

#include <cmath>

#include "core/error.h"

namespace qforge::quant {
namespace {

// The weights and biases of the ops the quantizer turns into integer ops must be finite: a NaN or an
// infinity there would otherwise surface later as a calibration error naming an activation, or as a
// silently wrong scale after CLE / SmoothQuant. InputError naming the initializer and the element.
void check_weights_finite(const ir::Model& m) {
  for (const auto& n : m.graph.nodes) {
    if (!n.domain.empty() || (n.op_type != "Conv" && n.op_type != "ConvTranspose" && n.op_type != "Gemm" &&
                              n.op_type != "MatMul"))
      continue;
    for (size_t i = 1; i < n.inputs.size() && i < 3; ++i) {
      const Tensor* t = m.graph.initializer(n.inputs[i]);
      if (!t || t->dtype() != DType::f32) continue;
      const float* v = t->data<float>();
      for (int64_t e = 0; e < t->numel(); ++e)
        if (!std::isfinite(v[e]))
          fail_input("failed to quantize tensor '{}' of {}: element {} is {}", n.inputs[i], n.describe(), e, v[e]);
    }
  }
}

}  // namespace

CalibOptions calib_options_for(const ir::Model& prepared, const Recipe& recipe, int threads) {
  CalibOptions co;
  co.method = "minmax";
  for (const auto& [tensor, method] : calibration_tensors(prepared, recipe)) {
    co.tensors.push_back(tensor);
    co.method_of[tensor] = method;
  }
  co.observer.scheme = QScheme{recipe.activations.dtype, recipe.activations.symmetric, false};
  co.observer.percentile = recipe.activations.percentile;
  co.threads = threads;
  return co;
}

PipelineResult quantize_pipeline(const ir::Model& fp32, const Recipe& recipe, const BatchSourceFactory* data,
                                 const CalibTable* loaded_table, int threads) {
  check_recipe(recipe, "(in memory)");
  auto need_data = [&](const char* what) {
    if (!data) fail_input("{} needs calibration data (--calib SPEC)", what);
  };
  PipelineResult out;
  int64_t folded = 0;
  ir::Model prepared = fold_batch_norms(fp32, &folded);
  check_weights_finite(prepared);
  if (recipe.cle) out.cle = equalize_cross_layer(prepared);
  if (recipe.smoothquant_alpha > 0) {
    need_data("--smoothquant");
    out.smoothquant = smooth_quant(prepared, *data, recipe.smoothquant_alpha, -1);
  }
  if (recipe.mode == QuantMode::static_) {
    if (loaded_table) {
      out.table = *loaded_table;
    } else {
      need_data("static quantization");
      out.table = calibrate(prepared, (*data)(), calib_options_for(prepared, recipe, threads));
    }
  }
  out.result = quantize_model(prepared, recipe, out.table ? &*out.table : nullptr);
  out.result.report.batch_norms_folded = folded;
  int64_t bytes = 0;
  for (const auto& [name, t] : fp32.graph.initializers) bytes += static_cast<int64_t>(t.nbytes());
  out.result.report.weight_bytes_before = bytes;
  if (recipe.bias_correction) {
    need_data("--bias-correction");
    out.bias_correction = correct_bias(prepared, out.result.model, *data, -1);
  }
  return out;
}

}  // namespace qforge::quant
