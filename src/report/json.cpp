#include "report/json.h"

#include <fmt/format.h>

namespace qforge::report {

Json shape_json(const ir::ValueInfo& v) {
  if (!v.has_shape) return nullptr;
  Json dims = Json::array();
  for (const auto& d : v.dims) {
    if (d.is_known()) dims.push_back(d.value);
    else if (!d.param.empty()) dims.push_back(d.param);
    else dims.push_back(nullptr);
  }
  return dims;
}

Json value_info_json(const ir::ValueInfo& v) {
  return Json{{"name", v.name}, {"dtype", std::string(dtype_name(v.dtype))}, {"shape", shape_json(v)}};
}

Json to_json(const eval::ModelSummary& s) {
  Json j;
  j["graph"] = s.graph_name;
  j["producer"] = Json{{"name", s.producer_name}, {"version", s.producer_version}};
  j["ir_version"] = s.ir_version;
  j["opsets"] = Json::array();
  for (const auto& o : s.opsets)
    j["opsets"].push_back(Json{{"domain", o.domain.empty() ? "ai.onnx" : o.domain}, {"version", o.version}});
  j["inputs"] = Json::array();
  for (const auto& v : s.inputs) j["inputs"].push_back(value_info_json(v));
  j["outputs"] = Json::array();
  for (const auto& v : s.outputs) j["outputs"].push_back(value_info_json(v));
  j["nodes"] = s.nodes;
  j["ops"] = Json::array();
  for (const auto& o : s.ops)
    j["ops"].push_back(Json{{"op_type", o.op_type}, {"domain", o.domain.empty() ? "ai.onnx" : o.domain},
                            {"count", o.count}, {"supported", o.supported}});
  j["unsupported_nodes"] = s.unsupported_nodes;
  j["parameters"] = s.parameters;
  j["initializers"] = s.initializers;
  j["bytes_by_dtype"] = Json::array();
  for (const auto& b : s.bytes_by_dtype)
    j["bytes_by_dtype"].push_back(Json{{"dtype", std::string(dtype_name(b.dtype))}, {"tensors", b.tensors},
                                       {"elements", b.elements}, {"bytes", b.bytes}});
  j["total_bytes"] = s.total_bytes;
  if (s.integer.quantized) {
    Json fb = Json::array();
    for (const auto& f : s.integer.fallbacks) fb.push_back({{"node", f.node}, {"op_type", f.op_type}, {"reason", f.reason}});
    j["integer_runtime"] = Json{{"integer_nodes", s.integer.integer_nodes}, {"fallbacks", fb},
                               {"error", s.integer.error.empty() ? Json(nullptr) : Json(s.integer.error)}};
  }
  return j;
}

Json to_json(const eval::EvalResult& r) {
  const eval::ClassificationMetrics& m = r.metrics;
  Json j;
  j["dataset"] = r.dataset;
  j["samples"] = m.samples();
  j["top1"] = m.top1();
  j[fmt::format("top{}", m.k())] = m.topk();
  j["per_class"] = Json::array();
  for (int c = 0; c < m.num_classes(); ++c) {
    const eval::ClassStats& cs = m.per_class()[c];
    Json name = c < static_cast<int>(r.class_names.size()) ? Json(r.class_names[c]) : Json(nullptr);
    j["per_class"].push_back(Json{{"class", c}, {"name", name}, {"count", cs.count},
                                  {"correct", cs.correct}, {"accuracy", cs.accuracy()}});
  }
  j["confusion"] = m.confusion();
  j["batch"] = r.batch;
  j["threads"] = r.threads;
  j["seconds"] = r.seconds;
  j["samples_per_second"] = r.samples_per_second();
  return j;
}

Json to_json(const std::string& name, const eval::TensorSummary& s) {
  Json j;
  j["name"] = name;
  j["dtype"] = std::string(dtype_name(s.dtype));
  j["shape"] = s.shape;
  if (s.has_stats) {
    j["min"] = s.min;
    j["max"] = s.max;
    j["mean"] = s.mean;
  } else {
    j["min"] = j["max"] = j["mean"] = nullptr;
  }
  j["nan_count"] = s.nan_count;
  return j;
}

Json epochs_json(const std::vector<train::EpochStats>& epochs) {
  Json a = Json::array();
  for (const train::EpochStats& s : epochs) {
    Json e;
    e["epoch"] = s.epoch, e["loss"] = s.loss, e["train_accuracy"] = s.accuracy, e["seconds"] = s.seconds;
    e["images_per_s"] = s.images_per_s;
    if (s.val_top1 >= 0) e["val_top1"] = s.val_top1;
    a.push_back(e);
  }
  return a;
}

}  // namespace qforge::report
