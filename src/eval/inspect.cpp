#include "eval/inspect.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "runtime/op_registry.h"

namespace qforge::eval {

namespace {
// Dtypes whose elements Tensor::at_f64 reads as numbers (nf4 holds table indices, f8 is not read).
bool has_numeric_values(DType t) {
  switch (t) {
    case DType::f32: case DType::f64: case DType::f16: case DType::bf16:
    case DType::s8: case DType::u8: case DType::s16: case DType::u16: case DType::s32: case DType::u32:
    case DType::s64: case DType::u64: case DType::s4: case DType::u4: case DType::boolean:
      return true;
    default:
      return false;
  }
}
}  // namespace

ModelSummary summarize_model(const ir::Model& model) {
  const ir::Graph& g = model.graph;
  ModelSummary s;
  s.graph_name = g.name;
  s.producer_name = model.producer_name;
  s.producer_version = model.producer_version;
  s.ir_version = model.ir_version;
  s.opsets = model.opsets;
  for (const auto& v : g.inputs)
    if (!g.initializer(v.name)) s.inputs.push_back(v);
  s.outputs = g.outputs;
  s.nodes = static_cast<int64_t>(g.nodes.size());

  std::map<std::pair<std::string, std::string>, int64_t> hist;  // (domain, op) -> count
  for (const auto& n : g.nodes) ++hist[{n.domain == "ai.onnx" ? "" : n.domain, n.op_type}];
  for (const auto& [key, count] : hist) {
    bool supported = runtime::find_op(key.first, key.second) != nullptr;
    s.ops.push_back({key.second, key.first, count, supported});
    if (!supported) s.unsupported_nodes += count;
  }
  std::stable_sort(s.ops.begin(), s.ops.end(),
                   [](const OpCount& a, const OpCount& b) { return a.count > b.count; });

  s.integer = runtime::integer_plan(model);
  s.parameters = ir::count_parameters(g);
  std::map<int32_t, DTypeBytes> by_dtype;
  for (const auto& [name, t] : g.initializers) {
    DTypeBytes& d = by_dtype[static_cast<int32_t>(t.dtype())];
    d.dtype = t.dtype();
    ++d.tensors;
    d.elements += t.numel();
    d.bytes += static_cast<int64_t>(t.nbytes());
    s.total_bytes += static_cast<int64_t>(t.nbytes());
    ++s.initializers;
  }
  for (const auto& [code, d] : by_dtype) s.bytes_by_dtype.push_back(d);
  return s;
}

std::string dims_str(const ir::ValueInfo& v) {
  if (!v.has_shape) return "unknown";
  std::string out = "[";
  for (size_t i = 0; i < v.dims.size(); ++i) {
    if (i) out += ',';
    const ir::Dim& d = v.dims[i];
    out += d.is_known() ? std::to_string(d.value) : (d.param.empty() ? "?" : d.param);
  }
  return out + "]";
}

TensorSummary summarize_tensor(const Tensor& t) {
  TensorSummary s;
  s.dtype = t.dtype();
  s.shape = t.shape();
  if (t.empty()) return s;
  s.elements = t.numel();
  if (!has_numeric_values(t.dtype()) || s.elements == 0) return s;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  int64_t counted = 0;
  for (int64_t i = 0; i < s.elements; ++i) {
    double x = t.at_f64(i);
    if (std::isnan(x)) { ++s.nan_count; continue; }
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
    ++counted;
  }
  if (counted == 0) return s;
  s.has_stats = true;
  s.min = lo;
  s.max = hi;
  s.mean = sum / static_cast<double>(counted);
  return s;
}

}  // namespace qforge::eval
