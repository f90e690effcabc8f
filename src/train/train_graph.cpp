#include "train/train_graph.h"

#include <malloc.h>

#include <algorithm>
#include <set>

#include "core/cpu.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"
#include "train/backward_rules.h"
#include "train/batch_norm_train.h"

namespace qforge::train {

namespace {

// Input positions whose float initializers are trainable parameters.
std::vector<size_t> parameter_slots(const std::string& op) {
  if (op == "Conv") return {1, 2};
  if (op == "Gemm") return {0, 1, 2};
  if (op == "MatMul") return {0, 1};
  if (op == "BatchNormalization") return {1, 2};
  return {};
}

// Ops whose outputs carry no gradient (integer or boolean results): never need a rule.
bool non_differentiable(const std::string& op) {
  static const std::set<std::string> kOps = {"Shape", "Size", "Constant", "ConstantOfShape", "ArgMax",
                                             "ArgMin", "Equal", "Less", "Greater", "NonZero"};
  return kOps.count(op) != 0;
}

// Every training step allocates the same large activation and gradient tensors (megabytes each) and
// frees them at the next step. With glibc's defaults those come from mmap and go back at free (or
// are trimmed from the heap top), so each step pays the page faults and zeroing of fresh pages
// again (a third of the step time on small CNNs). Keeping them in the heap makes the next step
// reuse warm pages. Process-wide, set once.
void keep_freed_tensors_in_heap() {
#ifdef __GLIBC__
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; larger blocks still use mmap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)once;
#endif
}

}  // namespace

int TrainGraph::slot(const std::string& name) {
  auto [it, inserted] = slot_of_.try_emplace(name, static_cast<int>(slot_of_.size()));
  if (inserted) {
    values_.emplace_back();
    requires_grad_.push_back(false);
  }
  return it->second;
}

TrainGraph::TrainGraph(const ir::Model& model, TrainOptions opts) : model_(model), opts_(std::move(opts)) {
  threads_ = opts_.threads > 0 ? opts_.threads : default_threads();
  keep_freed_tensors_in_heap();
  ir::Graph& g = model_.graph;
  for (auto& [name, t] : g.initializers) {  // own copies: training updates them in place
    t = t.clone();
    values_[slot(name)] = t;
  }
  for (const auto& vi : g.inputs) {
    if (g.initializer(vi.name)) continue;
    input_slots_.push_back(slot(vi.name));
    requires_grad_[input_slots_.back()] = opts_.input_grads;
  }
  for (const auto& n : g.nodes)
    for (size_t i : parameter_slots(n.op_type)) {
      const std::string& in = n.input(i);
      const Tensor* t = in.empty() ? nullptr : g.initializer(in);
      if (!t || t->dtype() != DType::f32 || !n.domain.empty()) continue;
      if (std::any_of(params_.begin(), params_.end(), [&](const Parameter& p) { return p.name == in; })) continue;
      params_.push_back({in, *t, Tensor(DType::f32, t->shape()), true});
      param_slot_.push_back(slot(in));
      requires_grad_[param_slot_.back()] = true;
    }
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const ir::Node& n = g.nodes[k];
    if (!runtime::find_op(n.domain, n.op_type))
      fail_input("{}: op {} is not supported by the runtime", n.describe(), n.op_type);
    Step s;
    s.node = static_cast<int>(k);
    for (const auto& in : n.inputs) {
      s.in.push_back(in.empty() ? -1 : slot(in));
      s.need.push_back(!in.empty() && requires_grad_[s.in.back()]);
      s.on_path = s.on_path || s.need.back();
    }
    if (s.on_path && non_differentiable(n.op_type)) s.on_path = false;
    if (s.on_path && !find_backward_rule(n.domain, n.op_type))
      fail_input("{}: no backward rule for op {}", n.describe(), n.op_type);
    for (const auto& out : n.outputs) {
      s.out.push_back(out.empty() ? -1 : slot(out));
      if (!out.empty()) requires_grad_[s.out.back()] = s.on_path;
    }
    steps_.push_back(std::move(s));
  }
  for (const auto& vi : g.outputs) output_slots_.push_back(slot(vi.name));
  if (output_slots_.empty()) fail_input("training: the model has no outputs");
  if (!opts_.logits.empty()) {
    auto it = std::find_if(g.outputs.begin(), g.outputs.end(), [&](const ir::ValueInfo& v) { return v.name == opts_.logits; });
    if (it == g.outputs.end()) fail_input("training: logits output '{}' is not a graph output", opts_.logits);
    logits_index_ = static_cast<int>(it - g.outputs.begin());
  }
  grads_.resize(values_.size());
}

void TrainGraph::run_step(Step& s) {
  const ir::Node& n = model_.graph.nodes[s.node];
  std::vector<Tensor> ins;
  for (int i : s.in) ins.push_back(i < 0 ? Tensor() : values_[i]);
  for (size_t i = 0; i < ins.size(); ++i)
    if (s.in[i] >= 0 && ins[i].empty()) fail_input("{}: input '{}' has no value", n.describe(), n.inputs[i]);
  std::vector<Tensor> outs;
  s.saved.clear();
  if (training_ && n.op_type == "BatchNormalization" && n.domain.empty()) {
    outs.push_back(batch_norm_train_forward(n, ins, s.saved, threads_));
    for (size_t i = 1; i < n.outputs.size(); ++i) outs.emplace_back();
  } else {
    outs = runtime::execute_node(n, *runtime::find_op(n.domain, n.op_type), ins, nullptr, threads_);
  }
  for (size_t i = 0; i < s.out.size(); ++i)
    if (s.out[i] >= 0) values_[s.out[i]] = outs[i];
}

std::vector<Tensor> TrainGraph::forward(const std::vector<Tensor>& inputs) {
  if (inputs.size() != input_slots_.size())
    fail_input("training: the model has {} inputs, got {}", input_slots_.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) values_[input_slots_[i]] = inputs[i];
  for (size_t i = 0; i < params_.size(); ++i) values_[param_slot_[i]] = params_[i].value;
  for (auto& s : steps_) run_step(s);
  std::vector<Tensor> outs;
  for (int o : output_slots_) outs.push_back(values_[o]);
  return outs;
}

void TrainGraph::backward(const std::vector<Tensor>& output_grads) {
  QF_CHECK(output_grads.size() == output_slots_.size());
  std::fill(grads_.begin(), grads_.end(), Tensor());
  auto add = [&](int slot, Tensor t) {
    QF_CHECK(values_[slot].shape() == t.shape(), "gradient shape differs from its value's");
    if (grads_[slot].empty()) {
      grads_[slot] = t;
      return;
    }
    float* d = grads_[slot].data<float>();
    const float* s = t.data<float>();
    const int64_t n = t.numel();
#pragma omp parallel for simd num_threads(threads_) schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; ++k) d[k] += s[k];
  };
  for (size_t i = 0; i < output_grads.size(); ++i)
    if (!output_grads[i].empty()) add(output_slots_[i], output_grads[i].clone());
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    const Step& s = *it;
    if (!s.on_path || s.out.empty() || s.out[0] < 0 || grads_[s.out[0]].empty()) continue;
    const ir::Node& n = model_.graph.nodes[s.node];
    std::vector<Tensor> ins, outs, gouts, gins(s.in.size());
    for (int i : s.in) ins.push_back(i < 0 ? Tensor() : values_[i]);
    for (int o : s.out) {
      outs.push_back(o < 0 ? Tensor() : values_[o]);
      gouts.push_back(o < 0 ? Tensor() : grads_[o]);
    }
    BackwardCtx c{n, ins, outs, gouts, s.saved, s.need, gins, training_, threads_};
    find_backward_rule(n.domain, n.op_type)->fn(c);
    for (size_t i = 0; i < s.in.size(); ++i)
      if (s.need[i] && !gins[i].empty()) add(s.in[i], gins[i]);
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& g = grads_[param_slot_[i]];
    params_[i].grad = g.empty() ? Tensor(DType::f32, params_[i].value.shape()) : g;
  }
}

StepResult TrainGraph::forward_backward(const Tensor& x, const std::vector<int64_t>& labels) {
  const std::vector<Tensor> outs = forward({x});
  Tensor dlogits;
  const StepResult r = softmax_cross_entropy(outs[logits_index_], labels, &dlogits);
  std::vector<Tensor> og(outs.size());
  og[logits_index_] = dlogits;
  backward(og);
  return r;
}

Tensor TrainGraph::grad(const std::string& value) const {
  auto it = slot_of_.find(value);
  return it == slot_of_.end() ? Tensor() : grads_[it->second];
}

ir::Model TrainGraph::model() const {
  ir::Model m = model_;
  for (auto& [name, t] : m.graph.initializers) t = t.clone();
  for (const auto& p : params_) m.graph.initializers[p.name] = p.value.clone();
  return m;
}

}  // namespace qforge::train
