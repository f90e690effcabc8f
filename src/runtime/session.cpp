#include "runtime/session.h"

#include <algorithm>

#include "core/cpu.h"
#include "ir/passes/passes.h"
#include "runtime/lower/lower_dynamic.h"
#include "runtime/lower/lower_weight_only.h"

namespace qforge::runtime {

std::vector<Tensor> execute_node(const ir::Node& node, const OpDef& op, std::span<const Tensor> inputs,
                                 void* state, int threads) {
  InferCtx ic{node, {}, {}};
  for (const auto& t : inputs) {
    ic.inputs.push_back(t.empty() ? TypeShape{} : TypeShape::of(t.dtype(), t.shape()));
    ic.values.push_back(t.empty() ? nullptr : &t);
  }
  std::vector<TypeShape> types = op.infer(ic);
  std::vector<Tensor> outs;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    QF_CHECK(i < types.size() && types[i].fully_known(), node.describe() + ": output shape unknown");
    outs.emplace_back(types[i].dtype, types[i].concrete());
  }
  KernelCtx kc{node, inputs, outs, state, threads};
  op.compute(kc);
  return outs;
}

Session::Session(const ir::Model& model, SessionOptions opts) : graph_(model.graph) {
  threads_ = opts.threads > 0 ? opts.threads : default_threads();
  check_supported(model);
  // Before folding, which would turn the weights' DequantizeLinear into float constants.
  if (opts.lower_qdq) {
    lowering_ = lower_qdq(graph_, {.channels_last = opts.channels_last});
    lowering_.lowered += lower_dynamic(graph_);
    lowering_.lowered += lower_weight_only(graph_);
  }
  if (opts.fold_constants) fold_constants();
  if (opts.optimize) {
    // Preserved values stand in the outputs while the passes run (passes keep the outputs' values).
    const size_t outputs = graph_.outputs.size();
    for (const std::string& v : opts.preserve) {
      const auto named = [&](const ir::ValueInfo& o) { return o.name == v; };
      if (std::none_of(graph_.outputs.begin(), graph_.outputs.end(), named) &&
          std::none_of(graph_.inputs.begin(), graph_.inputs.end(), named))
        graph_.outputs.push_back(ir::ValueInfo{.name = v});
    }
    ir::optimize_for_inference(graph_);
    graph_.outputs.resize(outputs);
  }
  plan();
}

Session::~Session() = default;

void Session::check_supported(const ir::Model& model) const {
  for (const auto& n : graph_.nodes) {
    if (find_op(n.domain, n.op_type)) continue;
    std::string dom = n.domain.empty() ? "ai.onnx" : n.domain;
    fail_input("unsupported op '{}' (domain '{}', opset {}) at node '{}'", n.op_type, dom,
               model.opset(n.domain), n.name);
  }
}

void Session::fold_constants() {
  std::vector<ir::Node> kept;
  for (auto& n : graph_.nodes) {
    bool all_const = true;
    std::vector<Tensor> ins;
    for (const auto& in : n.inputs) {
      if (in.empty()) { ins.emplace_back(); continue; }
      const Tensor* t = graph_.initializer(in);
      if (!t) { all_const = false; break; }
      ins.push_back(*t);
    }
    // A node feeding a graph output directly stays, so the output keeps its producer.
    bool is_output = std::any_of(n.outputs.begin(), n.outputs.end(), [&](const std::string& o) {
      return std::any_of(graph_.outputs.begin(), graph_.outputs.end(),
                         [&](const ir::ValueInfo& v) { return v.name == o; });
    });
    if (!all_const || is_output) { kept.push_back(std::move(n)); continue; }
    const OpDef* op = find_op(n.domain, n.op_type);
    std::vector<Tensor> outs = execute_node(n, *op, ins, nullptr, threads_);
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty()) graph_.add_initializer(n.outputs[i], std::move(outs[i]));
  }
  graph_.nodes = std::move(kept);
  // Initializers no node reads any more (folded away) are dropped.
  std::vector<std::string> unused;
  for (const auto& name : graph_.initializer_order) {
    bool used = std::any_of(graph_.nodes.begin(), graph_.nodes.end(), [&](const ir::Node& n) {
      return std::find(n.inputs.begin(), n.inputs.end(), name) != n.inputs.end();
    });
    bool out = std::any_of(graph_.outputs.begin(), graph_.outputs.end(),
                           [&](const ir::ValueInfo& v) { return v.name == name; });
    if (!used && !out) unused.push_back(name);
  }
  for (const auto& u : unused) graph_.remove_initializer(u);
}

void Session::plan() {
  auto slot = [&](const std::string& name) {
    auto [it, inserted] = slot_of_.try_emplace(name, static_cast<int>(slot_of_.size()));
    if (inserted) constants_.emplace_back();
    return it->second;
  };
  for (const auto& [name, t] : graph_.initializers) constants_[slot(name)] = t;
  for (const auto& v : graph_.inputs) {
    if (graph_.initializer(v.name)) continue;  // an input with a default value
    input_slots_.push_back(slot(v.name));
    input_names_.push_back(v.name);
  }
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const ir::Node& n = graph_.nodes[i];
    Step s;
    s.op = find_op(n.domain, n.op_type);
    s.node = static_cast<int>(i);
    for (const auto& in : n.inputs) {
      if (in.empty()) { s.in.push_back(-1); continue; }
      auto it = slot_of_.find(in);
      if (it == slot_of_.end()) fail_input("{}: input '{}' is not produced by any node", n.describe(), in);
      s.in.push_back(it->second);
    }
    for (const auto& o : n.outputs) s.out.push_back(o.empty() ? -1 : slot(o));
    if (s.op->prepare) {
      std::vector<const Tensor*> consts;
      for (int si : s.in) consts.push_back(si >= 0 && !constants_[si].empty() ? &constants_[si] : nullptr);
      s.state = s.op->prepare(n, consts);
    }
    steps_.push_back(std::move(s));
  }
  for (const auto& v : graph_.outputs) {
    auto it = slot_of_.find(v.name);
    if (it == slot_of_.end()) fail_input("graph output '{}' is not produced by any node", v.name);
    output_slots_.push_back(it->second);
  }
  last_use_.assign(slot_of_.size(), -1);
  keep_.assign(slot_of_.size(), false);
  for (size_t i = 0; i < steps_.size(); ++i)
    for (int si : steps_[i].in)
      if (si >= 0) last_use_[si] = static_cast<int>(i);
  for (int si : output_slots_) keep_[si] = true;
}

void Session::check_input(size_t i, const Tensor& t) const {
  const ir::ValueInfo* vi = graph_.find_value_info(input_names_[i]);
  QF_CHECK(vi);
  if (t.empty()) fail_input("input '{}': no data given", vi->name);
  if (vi->dtype != DType::undefined && vi->dtype != t.dtype())
    fail_input("input '{}': dtype {} does not fit the model, which expects {}", vi->name,
               dtype_name(t.dtype()), dtype_name(vi->dtype));
  if (!vi->has_shape) return;
  bool ok = static_cast<size_t>(t.rank()) == vi->dims.size();
  for (size_t d = 0; ok && d < vi->dims.size(); ++d)
    if (vi->dims[d].is_known() && vi->dims[d].value != t.dim(static_cast<int>(d))) ok = false;
  if (!ok) {
    std::string want = "[";
    for (size_t d = 0; d < vi->dims.size(); ++d)
      want += (d ? "," : "") + (vi->dims[d].is_known() ? std::to_string(vi->dims[d].value)
                                                       : (vi->dims[d].param.empty() ? "?" : vi->dims[d].param));
    fail_input("input '{}': shape {} does not fit the model, which expects {}]", vi->name,
               shape_str(t.shape()), want);
  }
}

bool Session::cache_hit(const Step& s, std::span<const Tensor> ins) const {
  if (!s.cached) return false;
  for (size_t i = 0; i < ins.size(); ++i)
    if (ins[i].dtype() != s.in_dtypes[i] || ins[i].shape() != s.in_shapes[i]) return false;
  return true;
}

// Runs the step's InferFn on the actual inputs and records the output types. The first time, the
// inference also runs with the runtime (non-constant) input values hidden, as static inference
// would see them: when it still gives the same fully known types, the outputs depend on the
// inputs' shapes only, and later runs with unchanged input shapes reuse the recorded types.
void Session::infer_step(Step& s, std::span<const Tensor> ins) {
  const ir::Node& node = graph_.nodes[s.node];
  s.cached = false;  // until the new types are recorded (the inference may throw)
  InferCtx ic{node, {}, {}};
  for (const auto& t : ins) {
    ic.inputs.push_back(t.empty() ? TypeShape{} : TypeShape::of(t.dtype(), t.shape()));
    ic.values.push_back(t.empty() ? nullptr : &t);
  }
  std::vector<TypeShape> types = s.op->infer(ic);
  s.out_dtypes.clear();
  s.out_shapes.clear();
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    QF_CHECK(i < types.size() && types[i].fully_known(), node.describe() + ": output shape unknown");
    s.out_dtypes.push_back(types[i].dtype);
    s.out_shapes.push_back(types[i].concrete());
  }
  if (!s.probed) {
    s.probed = true;
    // N.B. integer and bool runtime inputs (indices, shapes, modes) may be checked by the inference
    // even where they do not set the output shape: such steps always run it. 8-bit integers are
    // quantized data (ONNX takes indices, shapes and counts as int32 / int64), so the integer
    // nodes of a lowered model cache their types like float nodes.
    bool plain = true;
    for (size_t i = 0; i < s.in.size(); ++i)
      if (s.in[i] >= 0 && constants_[s.in[i]].empty()) {
        ic.values[i] = nullptr;
        const DType t = ins[i].empty() ? DType::f32 : ins[i].dtype();
        if (!dtype_is_float(t) && t != DType::u8 && t != DType::s8) plain = false;
      }
    if (plain) try {
      const std::vector<TypeShape> blind = s.op->infer(ic);
      bool same = blind.size() >= node.outputs.size();
      for (size_t i = 0; same && i < node.outputs.size(); ++i)
        same = blind[i].fully_known() && blind[i].dtype == s.out_dtypes[i] && blind[i].concrete() == s.out_shapes[i];
      s.shape_only = same;
    } catch (const std::exception&) {
      s.shape_only = false;
    }
  }
  s.cached = s.shape_only;
  if (s.cached) {
    s.in_dtypes.clear();
    s.in_shapes.clear();
    for (const auto& t : ins) {
      s.in_dtypes.push_back(t.dtype());
      s.in_shapes.push_back(t.shape());
    }
  }
}

Tensor Session::allocate(DType dtype, const Shape& shape, bool leaves) {
  size_t need = dtype_storage_bytes(dtype, shape_numel(shape));
  // Best fit among free buffers; buffers are 64-byte padded by alloc_aligned. A value that leaves the
  // session (a graph output or a fetched value) gets its own buffer: a pooled one would leave with it,
  // and the pool would lose a buffer (often a large one, taken for a small output) every run.
  size_t best = pool_.size();
  for (size_t i = 0; i < pool_.size() && !leaves; ++i)
    if (pool_[i].first >= need && (best == pool_.size() || pool_[i].first < pool_[best].first)) best = i;
  if (best != pool_.size()) {
    auto storage = std::move(pool_[best].second);
    pool_[best] = std::move(pool_.back());
    pool_.pop_back();
    return Tensor::with_storage(dtype, shape, std::move(storage));
  }
  size_t cap = (need + 63) / 64 * 64;
  std::shared_ptr<std::byte> storage = alloc_aligned(cap);
  allocated_bytes_ += cap;
  if (!leaves) {  // a buffer that leaves never comes back to release()
    if (capacity_.size() >= 4096)  // buffers a hook kept and freed since: forget them
      std::erase_if(capacity_, [](const auto& e) { return e.second.second.expired(); });
    capacity_[storage.get()] = {cap, storage};
  }
  return Tensor::with_storage(dtype, shape, std::move(storage));
}

void Session::release(Tensor& t) {
  // Only buffers nobody else holds (a hook or a caller may keep a reference) go back to the pool, with
  // the capacity they were allocated with (a buffer reused for a smaller value keeps its size).
  if (!t.empty() && t.storage().use_count() == 1) {
    const std::shared_ptr<std::byte>& s = t.storage();
    size_t cap = (t.nbytes() + 63) / 64 * 64;
    if (cap == 0) cap = 64;
    auto it = capacity_.find(s.get());
    if (it != capacity_.end()) {
      const std::weak_ptr<std::byte>& w = it->second.second;
      if (!w.owner_before(s) && !s.owner_before(w)) cap = std::max(cap, it->second.first);
    }
    pool_.emplace_back(cap, s);
  }
  t = Tensor();
}

std::vector<Tensor> Session::run(const std::vector<Tensor>& inputs) { return run(inputs, {}); }

std::vector<Tensor> Session::run(const std::vector<Tensor>& inputs, const std::vector<std::string>& fetch) {
  if (inputs.size() != input_slots_.size())
    fail_input("the model takes {} input(s), {} given", input_slots_.size(), inputs.size());
  std::vector<Tensor> values(slot_of_.size());
  std::vector<bool> keep = keep_;
  for (const auto& f : fetch) {
    auto it = slot_of_.find(f);
    if (it == slot_of_.end()) fail_input("no value named '{}' in the model", f);
    keep[it->second] = true;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_input(i, inputs[i]);
    values[input_slots_[i]] = inputs[i];
    if (hook_) hook_(input_names_[i], inputs[i]);
  }
  auto get = [&](int si) -> const Tensor& {
    return constants_[si].empty() ? values[si] : constants_[si];
  };
  std::vector<Tensor>& ins = ins_;
  std::vector<Tensor>& outs = outs_;
  for (size_t k = 0; k < steps_.size(); ++k) {
    Step& s = steps_[k];
    const ir::Node& node = graph_.nodes[s.node];
    ins.clear();
    for (int si : s.in) ins.push_back(si >= 0 ? get(si) : Tensor());
    if (!cache_hit(s, ins)) infer_step(s, ins);
    outs.clear();
    for (size_t i = 0; i < node.outputs.size(); ++i)
      outs.push_back(allocate(s.out_dtypes[i], s.out_shapes[i], s.out[i] >= 0 && keep[s.out[i]]));
    KernelCtx kc{node, ins, outs, s.state.get(), threads_};
    s.op->compute(kc);
    ins.clear();
    for (size_t i = 0; i < s.out.size(); ++i) {
      if (s.out[i] < 0) { release(outs[i]); continue; }
      values[s.out[i]] = std::move(outs[i]);
      if (hook_) hook_(node.outputs[i], values[s.out[i]]);
    }
    for (int si : s.in)
      if (si >= 0 && last_use_[si] == static_cast<int>(k) && !keep[si] && constants_[si].empty())
        release(values[si]);
    for (size_t i = 0; i < s.out.size(); ++i) {
      int si = s.out[i];
      if (si >= 0 && last_use_[si] < 0 && !keep[si]) release(values[si]);
    }
  }
  std::vector<Tensor> result;
  if (fetch.empty()) {
    for (int si : output_slots_) result.push_back(get(si));
  } else {
    for (const auto& f : fetch) result.push_back(get(slot_of_.at(f)));
  }
  return result;
}

}  // namespace qforge::runtime
