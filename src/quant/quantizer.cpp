#include "quant/quantizer.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant {

namespace {

// Ops that mark a model as already quantized.
bool is_quantized_op(const ir::Node& n) {
  static const std::set<std::string> kOps = {
      "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
      "QLinearConv",    "QLinearMatMul",    "MatMulNBits",           "MatMulBnb4",    "QGemm"};
  return kOps.count(n.op_type) > 0;
}

int64_t count_op(const ir::Graph& g, const std::string& op) {
  return std::count_if(g.nodes.begin(), g.nodes.end(), [&](const ir::Node& n) { return n.op_type == op; });
}

void set_default_opset(ir::Model& m, int64_t opset) {
  for (auto& o : m.opsets)
    if (o.domain.empty() || o.domain == "ai.onnx") o.version = opset;
  if (m.opset("") == 0) m.opsets.insert(m.opsets.begin(), ir::OpsetImport{"", opset});
  bool ms = false;
  for (const auto& n : m.graph.nodes) ms |= n.domain == "com.microsoft";
  if (ms && m.opset("com.microsoft") == 0) m.opsets.push_back({"com.microsoft", 1});
}

}  // namespace

int64_t QuantReport::count(NodeStatus s) const {
  return std::count_if(nodes.begin(), nodes.end(), [&](const NodeReport& n) { return n.status == s; });
}

ir::Model fold_batch_norms(const ir::Model& fp32, int64_t* folded) {
  ir::Model m = fp32;
  const int64_t before = count_op(m.graph, "BatchNormalization");
  ir::fuse_conv_bn(m.graph);
  ir::remove_unused_initializers(m.graph);
  if (folded) *folded = before - count_op(m.graph, "BatchNormalization");
  return m;
}

std::map<std::string, std::string> calibration_tensors(const ir::Model& model, const Recipe& recipe) {
  std::map<std::string, std::string> out;
  if (recipe.mode != QuantMode::static_) return out;
  const ir::Model m = fold_batch_norms(model);
  const std::vector<std::string> excluded = detail::exclusion_reasons(m.graph, recipe);
  const detail::StaticPlan plan = detail::plan_static(m.graph, recipe, excluded);
  for (const auto& a : plan.activations)
    if (a.share_from.empty()) out[a.tensor] = resolve_method(recipe, a.graph_io, a.bounded);
  return out;
}

QuantizeResult quantize_model(const ir::Model& fp32, const Recipe& recipe, const CalibTable* table) {
  check_recipe(recipe, "(in memory)");
  for (size_t i = 0; i < fp32.graph.nodes.size(); ++i) {
    const ir::Node& n = fp32.graph.nodes[i];
    if (is_quantized_op(n))
      fail_input("the model is already quantized: node '{}' is {}", detail::node_label(n, i), n.op_type);
  }
  QuantizeResult res;
  QuantReport& rep = res.report;
  rep.mode = quant_mode_name(recipe.mode);
  rep.weight_bytes_before = detail::initializer_bytes(fp32.graph);
  res.model = fold_batch_norms(fp32, &rep.batch_norms_folded);
  const std::vector<std::string> excluded = detail::exclusion_reasons(res.model.graph, recipe);
  int64_t need = 0;
  switch (recipe.mode) {
    case QuantMode::static_:
      if (!table) fail_input("static quantization needs calibration data (--calib SPEC or --load-calib FILE)");
      need = detail::quantize_static(res.model, recipe, *table, excluded, rep);
      break;
    case QuantMode::dynamic: need = detail::quantize_dynamic(res.model, recipe, excluded, rep); break;
    case QuantMode::weight_only: need = detail::quantize_weight_only(res.model, recipe, excluded, rep); break;
    case QuantMode::fp16:
    case QuantMode::bf16: need = detail::quantize_float16(res.model, recipe, excluded, rep); break;
  }
  if (rep.count(NodeStatus::quantized) == 0)
    fail_input("the model has nothing to quantize in {} mode: no Conv, Gemm or MatMul with a constant weight{}",
               rep.mode, recipe.exclude.empty() && !recipe.exclude_first_last && recipe.overrides.empty()
                             ? ""
                             : " outside the exclusions");
  int64_t opset = std::max({res.model.opset(""), need, int64_t{11}});
  if (recipe.opset) {
    if (recipe.opset < need)
      fail_input("opset {} is too low for this export: it needs opset {}{}", recipe.opset, need,
                 need == 21 ? " (4-bit weights or per-group block_size)" : " (per-axis DequantizeLinear)");
    opset = recipe.opset;
  }
  set_default_opset(res.model, opset);
  rep.opset = opset;
  auto& meta = res.model.metadata_props;
  std::erase_if(meta, [](const auto& kv) { return kv.first == "qforge.recipe"; });
  meta.emplace_back("qforge.recipe", recipe_dump(recipe, false));
  rep.weight_bytes_after = detail::initializer_bytes(res.model.graph);
  return res;
}

}  // namespace qforge::quant
