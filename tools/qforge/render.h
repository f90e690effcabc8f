// Plain-text renderings of library results for the terminal. They only lay out numbers computed in
// src/eval/ (STYLE §11).
#pragma once
#include <string>

#include "eval/evaluate.h"
#include "eval/inspect.h"

namespace qforge::cli {

std::string render_model_summary(const std::string& model_path, const eval::ModelSummary& s);
// Headline (dataset, top-1, top-k, speed); with `details`, the per-class table and confusion matrix.
std::string render_eval(const eval::EvalResult& r, bool details);
std::string render_tensor(const std::string& name, const eval::TensorSummary& s);

}  // namespace qforge::cli
