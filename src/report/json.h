// JSON renderings of the eval results (STYLE §11: renderers only render; the numbers come from
// src/eval/). Keys keep insertion order so the printed object reads top-down.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "eval/evaluate.h"
#include "eval/inspect.h"
#include "ir/graph.h"
#include "train/trainer.h"

namespace qforge::report {

using Json = nlohmann::ordered_json;

// Shape as a JSON array: numbers for known dims, strings for symbolic ones, null for unknown;
// null when the rank is unknown.
Json shape_json(const ir::ValueInfo& v);
Json value_info_json(const ir::ValueInfo& v);  // {"name", "dtype", "shape"}
Json to_json(const eval::ModelSummary& s);
// {"dataset", "samples", "top1", "top<k>", "per_class", "confusion", "batch", "threads",
//  "seconds", "samples_per_second"}
Json to_json(const eval::EvalResult& r);
// {"name", "dtype", "shape", "min", "max", "mean", "nan_count"}; stats are null without values.
Json to_json(const std::string& name, const eval::TensorSummary& s);
// [{"epoch", "loss", "train_accuracy", "seconds", "images_per_s"[, "val_top1"]}, ...] (train, qat)
Json epochs_json(const std::vector<train::EpochStats>& epochs);

}  // namespace qforge::report
