// What a model is made of, computed in the library so every front end (CLI text, JSON, reports)
// shows the same numbers: op histogram, parameter count, bytes by dtype, inputs/outputs with their
// (symbolic) shapes, opsets, producer. Also per-tensor value statistics for `qforge run`.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "runtime/lower/integer_plan.h"

namespace qforge::eval {

struct OpCount {
  std::string op_type;
  std::string domain;  // "" = default ONNX domain
  int64_t count = 0;
  bool supported = true;  // the runtime has a kernel for it
};

struct DTypeBytes {
  DType dtype = DType::undefined;
  int64_t tensors = 0;
  int64_t elements = 0;
  int64_t bytes = 0;
};

struct ModelSummary {
  std::string graph_name;
  std::string producer_name, producer_version;
  int64_t ir_version = 0;
  std::vector<ir::OpsetImport> opsets;
  std::vector<ir::ValueInfo> inputs;   // graph inputs that are not initializers
  std::vector<ir::ValueInfo> outputs;
  int64_t nodes = 0;
  std::vector<OpCount> ops;            // most frequent first, then by domain and name
  int64_t unsupported_nodes = 0;       // nodes whose op the runtime cannot execute
  int64_t parameters = 0;              // elements of floating-point initializers
  int64_t initializers = 0;
  std::vector<DTypeBytes> bytes_by_dtype;  // initializer storage, by dtype code
  int64_t total_bytes = 0;
  runtime::IntegerPlan integer;        // quantized models: integer nodes and float fallbacks
};

ModelSummary summarize_model(const ir::Model& model);

// "[N,1,28,28]": known dims as numbers, symbolic dims by name, unknown dims as "?";
// "unknown" when the rank is unknown.
std::string dims_str(const ir::ValueInfo& v);

struct TensorSummary {
  DType dtype = DType::undefined;
  Shape shape;
  int64_t elements = 0;
  bool has_stats = false;  // false for empty tensors and non-numeric dtypes
  double min = 0, max = 0, mean = 0;
  int64_t nan_count = 0;   // NaNs are left out of min/max/mean
};

TensorSummary summarize_tensor(const Tensor& t);

}  // namespace qforge::eval
