// Static-mode planning: which nodes are quantized and which activations get Q/DQ pairs (the STATIC
// RULES of quant/quantizer.h), decided in graph order as ONNX Runtime's QDQ quantizer does.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "ir/shape_inference.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

namespace {

bool is_pass_through(const std::string& op) {
  return op == "MaxPool" || op == "AveragePool" || op == "Reshape" || op == "Flatten" || op == "Transpose" ||
         op == "Squeeze" || op == "Unsqueeze";
}

// Relu, or Clip whose bounds are constants (or absent).
bool is_fusable_activation(const ir::Graph& g, const ir::Node& n) {
  if (!n.domain.empty()) return false;
  if (n.op_type == "Relu") return true;
  if (n.op_type != "Clip") return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty() && !f32_constant(g, n.inputs[i])) return false;
  return true;
}

// The output of an op whose range is bounded by the op itself: Clip with a constant finite max
// (ReLU6), Sigmoid, Tanh.
bool is_bounded_activation(const ir::Graph& g, const ir::Node& n) {
  if (!n.domain.empty()) return false;
  if (n.op_type == "Sigmoid" || n.op_type == "Tanh") return true;
  if (n.op_type != "Clip" || n.inputs.size() < 3 || n.inputs[2].empty()) return false;
  const Tensor* hi = f32_constant(g, n.inputs[2]);
  return hi && hi->numel() == 1 && std::isfinite(hi->data<float>()[0]);
}

class Planner {
 public:
  Planner(const ir::Graph& g, const std::vector<std::string>& excluded) : g_(g), excluded_(excluded) {
    ir::Model tmp;
    tmp.graph = g;
    ir::infer_shapes(tmp);
    for (const auto* list : {&tmp.graph.inputs, &tmp.graph.outputs, &tmp.graph.value_info})
      for (const auto& v : *list) dtype_[v.name] = v.dtype;
    plan_.nodes.resize(g.nodes.size());
  }

  StaticPlan run() {
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (plan_.nodes[i].status == NodeStatus::fused) continue;
      const ir::Node& n = g_.nodes[i];
      StaticNodePlan& np = plan_.nodes[i];
      if (!excluded_[i].empty()) {
        np.reason = excluded_[i];
        continue;
      }
      if (!n.domain.empty()) {
        np.reason = fmt::format("unsupported op ({} domain)", n.domain);
        continue;
      }
      if (is_compute_op(n)) {
        np.reason = plan_compute(i);
      } else if (n.op_type == "Add" || n.op_type == "Mul" || n.op_type == "Concat") {
        np.reason = plan_multi_input(i);
      } else if (n.op_type == "GlobalAveragePool") {
        np.reason = float_activation(n.input(0)) ? "" : "fallback: input is not a float activation";
        if (np.reason.empty()) {
          request(n.inputs[0]);
          request(n.outputs[0]);
        }
      } else if (is_pass_through(n.op_type) || n.op_type == "Relu" || n.op_type == "Clip") {
        np.reason = plan_follower(i);
      } else {
        np.reason = "unsupported op";
      }
      if (np.reason.empty()) np.status = NodeStatus::quantized;
    }
    return std::move(plan_);
  }

 private:
  // A graph input or output, or data movement of a graph input (Flatten(input): the data's own range).
  bool is_graph_io(const std::string& t) const {
    if (ir::is_graph_output(g_, t)) return true;
    for (const auto& v : g_.inputs)
      if (v.name == t) return true;
    const int p = g_.producer(t);
    return p >= 0 && is_pass_through(g_.nodes[p].op_type) && g_.nodes[p].op_type != "MaxPool" &&
           g_.nodes[p].op_type != "AveragePool" && is_graph_io(g_.nodes[p].input(0));
  }
  // A float value computed at run time (not an initializer).
  bool float_activation(const std::string& t) const {
    if (t.empty() || g_.initializer(t)) return false;
    auto it = dtype_.find(t);
    return it != dtype_.end() && it->second == DType::f32;
  }
  bool requested(const std::string& t) const { return plan_.find(t) != nullptr; }
  void request(const std::string& t, const std::string& share_from = {}) {
    if (requested(t)) return;
    plan_.index[t] = plan_.activations.size();
    const int p = g_.producer(t);
    const bool bounded = p >= 0 && is_bounded_activation(g_, g_.nodes[p]);
    plan_.activations.push_back({t, share_from, is_graph_io(t), bounded});
  }

  // The output of a quantized compute node: fused into a following Relu / Clip when that is its only use.
  void request_output(size_t i) {
    const std::string& out = g_.nodes[i].outputs[0];
    const std::vector<int> uses = g_.consumers(out);
    if (uses.size() == 1 && !ir::is_graph_output(g_, out) && ir::use_count(g_, out) == 1) {
      const size_t j = static_cast<size_t>(uses[0]);
      const ir::Node& act = g_.nodes[j];
      if (excluded_[j].empty() && is_fusable_activation(g_, act) && act.input(0) == out && act.outputs.size() == 1) {
        plan_.nodes[j].status = NodeStatus::fused;
        plan_.nodes[j].reason = fmt::format("fused into {}", node_label(g_.nodes[i], i));
        request(act.outputs[0]);
        return;
      }
    }
    request(out);
  }

  std::string plan_compute(size_t i) {
    const ir::Node& n = g_.nodes[i];
    StaticNodePlan& np = plan_.nodes[i];
    if (n.outputs.size() != 1) return "fallback: more than one output";
    if (!float_activation(n.input(0))) return fmt::format("fallback: input '{}' is not a float activation", n.input(0));
    const Tensor* w = f32_constant(g_, n.input(1));
    if (n.op_type == "MatMul" && !w) {
      if (!float_activation(n.input(1))) return fmt::format("fallback: input '{}' is not a float activation", n.input(1));
      request(n.inputs[0]);
      request(n.inputs[1]);
      request_output(i);
      return "";
    }
    if (!w) return fmt::format("fallback: weight '{}' is not a constant f32 tensor", n.input(1));
    if (n.op_type == "Conv" && w->rank() < 3) return "fallback: weight rank below 3";
    if (n.op_type == "Gemm") {
      if (w->rank() != 2) return "fallback: weight is not 2-D";
      if (n.attr_f("alpha", 1.0f) != 1.0f) return "fallback: Gemm alpha is not 1";
    }
    if (n.op_type == "MatMul" && w->rank() < 2) return "fallback: 1-D weight";
    if (n.op_type != "MatMul" && !n.input(2).empty()) {
      const Tensor* b = f32_constant(g_, n.input(2));
      const int64_t channels = n.op_type == "Conv" ? w->dim(0) : w->dim(n.attr_i("transB", 0) ? 0 : 1);
      const bool vector = b && b->numel() == channels && (b->rank() == 1 || (b->rank() == 2 && b->dim(0) == 1));
      if (!vector) return fmt::format("fallback: bias '{}' is not a constant vector of {}", n.input(2), channels);
      np.quantize_bias = true;
    }
    np.quantize_weight = true;
    request(n.inputs[0]);
    request_output(i);
    return "";
  }

  std::string plan_multi_input(size_t i) {
    const ir::Node& n = g_.nodes[i];
    StaticNodePlan& np = plan_.nodes[i];
    if (n.outputs.size() != 1) return "fallback: more than one output";
    int activations = 0;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string& t = n.inputs[k];
      if (f32_constant(g_, t)) {
        np.constant_inputs.push_back(static_cast<int>(k));
      } else if (float_activation(t)) {
        ++activations;
      } else {
        np.constant_inputs.clear();
        return fmt::format("fallback: input '{}' is not a float tensor", t);
      }
    }
    if (activations == 0) {
      np.constant_inputs.clear();
      return "fallback: every input is a constant";
    }
    for (const std::string& t : n.inputs)
      if (float_activation(t)) request(t);
    request(n.outputs[0]);
    return "";
  }

  // Pass-through ops share their input's parameters; a standalone Relu / Clip gets its own range.
  std::string plan_follower(size_t i) {
    const ir::Node& n = g_.nodes[i];
    size_t outputs = 0;
    for (const auto& o : n.outputs) outputs += !o.empty();
    if (outputs != 1) return "fallback: more than one output";
    if ((n.op_type == "Relu" || n.op_type == "Clip") && !is_fusable_activation(g_, n))
      return "fallback: Clip bounds are not constants";
    if (!float_activation(n.input(0)) || !requested(n.inputs[0]))
      return "input is not quantized (nothing to pass through)";
    if (is_pass_through(n.op_type)) {
      request(n.outputs[0], n.inputs[0]);
    } else {
      request(n.outputs[0]);
    }
    return "";
  }

  const ir::Graph& g_;
  const std::vector<std::string>& excluded_;
  std::map<std::string, DType> dtype_;
  StaticPlan plan_;
};

}  // namespace

const ActivationRequest* StaticPlan::find(const std::string& tensor) const {
  auto it = index.find(tensor);
  return it == index.end() ? nullptr : &activations[it->second];
}

StaticPlan plan_static(const ir::Graph& g, const Recipe&, const std::vector<std::string>& excluded) {
  return Planner(g, excluded).run();
}

}  // namespace qforge::quant::detail
