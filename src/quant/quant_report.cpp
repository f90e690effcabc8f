#include <cstdlib>

#include <fmt/format.h>

#include "quant/quantizer.h"

namespace qforge::quant {

using Json = nlohmann::ordered_json;

namespace {
double clean(double d) { return std::strtod(fmt::format("{}", d).c_str(), nullptr); }
double clean(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }
}  // namespace

std::string node_status_name(NodeStatus s) {
  switch (s) {
    case NodeStatus::quantized: return "quantized";
    case NodeStatus::fused: return "fused";
    case NodeStatus::float_: return "float";
  }
  return "?";
}

Json quant_report_to_json(const QuantReport& r) {
  Json j;
  j["mode"] = r.mode;
  j["opset"] = r.opset;
  j["nodes_quantized"] = r.count(NodeStatus::quantized);
  j["nodes_fused"] = r.count(NodeStatus::fused);
  j["nodes_float"] = r.count(NodeStatus::float_);
  j["batch_norms_folded"] = r.batch_norms_folded;
  j["weight_bytes_before"] = r.weight_bytes_before;
  j["weight_bytes_after"] = r.weight_bytes_after;
  Json nodes = Json::array();
  for (const NodeReport& n : r.nodes) {
    Json jn;
    jn["node"] = n.node;
    jn["op_type"] = n.op_type;
    jn["status"] = node_status_name(n.status);
    if (!n.weights.empty()) jn["weights"] = n.weights;
    if (!n.reason.empty()) jn["reason"] = n.reason;
    nodes.push_back(std::move(jn));
  }
  j["nodes"] = std::move(nodes);
  Json acts = Json::array();
  for (const TensorReport& t : r.activations) {
    Json jt;
    jt["tensor"] = t.tensor;
    jt["method"] = t.method;
    if (!t.shared_with.empty()) jt["shared_with"] = t.shared_with;
    jt["min"] = clean(t.min);
    jt["max"] = clean(t.max);
    jt["scale"] = clean(t.scale);
    jt["zero_point"] = t.zero_point;
    jt["dtype"] = std::string(dtype_name(t.dtype));
    acts.push_back(std::move(jt));
  }
  j["activations"] = std::move(acts);
  Json bias = Json::array();
  for (const BiasAdjustment& b : r.bias_adjustments) {
    Json jb;
    jb["node"] = b.node;
    jb["bias"] = b.bias;
    jb["weight"] = b.weight;
    jb["channels_rescaled"] = b.channels;
    jb["max_ratio"] = clean(b.max_ratio);
    jb["saturated"] = b.saturated;
    bias.push_back(std::move(jb));
  }
  j["bias_overflow"] = std::move(bias);
  return j;
}

}  // namespace qforge::quant
