// runtime::Session — plans and executes an ir::Model.
// Plan (once): check every op is supported (before anything runs), fold initializer-only subgraphs
// into constants, run each op's PrepareFn (weight packing), compute each value's last use.
// Run: validate inputs against the model, execute nodes in topological order, return intermediate
// buffers to a pool after their last use (buffer reuse), call the value hook for every value.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "runtime/lower/lower_qdq.h"
#include "runtime/op_registry.h"

namespace qforge::runtime {

struct SessionOptions {
  int threads = 0;            // 0: default_threads()
  bool fold_constants = true;
  bool optimize = true;       // ir::optimize_for_inference (BN folding, fusion) before planning
  bool lower_qdq = true;      // QDQ patterns → integer kernels (runtime/lower/lower_qdq.h), before folding
  bool channels_last = true;  // with lower_qdq: integer nodes hand [N,H,W,C] values to each other
  // Values the optimizer must leave computed under their names (a value hook observes them, e.g. for
  // calibration): they bound fusion like graph outputs do, but are released after their last use.
  std::vector<std::string> preserve;
};

// Called for every value a run produces (graph inputs first, then each node output in order).
using ValueHook = std::function<void(const std::string& name, const Tensor& value)>;

class Session {
 public:
  explicit Session(const ir::Model& model, SessionOptions opts = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<ir::ValueInfo>& inputs() const { return graph_.inputs; }
  const std::vector<ir::ValueInfo>& outputs() const { return graph_.outputs; }
  const ir::Graph& graph() const { return graph_; }  // after constant folding
  // Bytes of the buffers run() has allocated so far (the rest came from its pool of freed buffers).
  size_t allocated_bytes() const { return allocated_bytes_; }

  // Runs with one tensor per graph input (in order); returns the graph outputs.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  // Same, returning the named values instead (any graph value: input, output or intermediate).
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const std::vector<std::string>& fetch);
  void set_value_hook(ValueHook hook) { hook_ = std::move(hook); }
  int threads() const { return threads_; }
  // Nodes that run in float inside a quantized model (lower_qdq), empty when nothing was lowered.
  const std::vector<LoweringFallback>& fallbacks() const { return lowering_.fallbacks; }
  int lowered_nodes() const { return lowering_.lowered; }

 private:
  struct Step {
    const OpDef* op = nullptr;
    int node = 0;  // index into graph_.nodes
    std::vector<int> in, out;  // value slots; -1 for omitted
    std::shared_ptr<void> state;
    // Output types of the last run, reused while the inputs' dtypes and shapes are unchanged, for
    // steps whose inference reads no runtime input value (probed on the first inference).
    bool probed = false, shape_only = false, cached = false;
    std::vector<DType> in_dtypes, out_dtypes;
    std::vector<Shape> in_shapes, out_shapes;
  };
  void check_supported(const ir::Model& model) const;
  void fold_constants();
  void plan();
  void check_input(size_t i, const Tensor& t) const;
  void infer_step(Step& s, std::span<const Tensor> ins);
  bool cache_hit(const Step& s, std::span<const Tensor> ins) const;
  Tensor allocate(DType dtype, const Shape& shape, bool leaves);
  void release(Tensor& t);

  ir::Graph graph_;
  LoweringResult lowering_;
  int threads_ = 1;
  std::unordered_map<std::string, int> slot_of_;
  std::vector<Tensor> constants_;      // per slot; empty where not constant
  std::vector<Step> steps_;
  std::vector<int> last_use_;          // per slot: step index of the last reader, -1 if none
  std::vector<bool> keep_;             // per slot: graph output
  std::vector<int> input_slots_, output_slots_;
  std::vector<std::string> input_names_;  // graph inputs that are not initializers
  std::vector<std::pair<size_t, std::shared_ptr<std::byte>>> pool_;
  // Capacity of every buffer allocate() made, by address; the weak pointer tells a buffer of ours from a
  // later allocation at the same address (ours freed in between), whose capacity is unknown.
  std::unordered_map<const std::byte*, std::pair<size_t, std::weak_ptr<std::byte>>> capacity_;
  size_t allocated_bytes_ = 0;
  ValueHook hook_;
  std::vector<Tensor> ins_, outs_;     // per-step scratch of run(), kept to avoid reallocation
};

// Runs an op's inference on concrete tensors (used by the session and by constant folding).
std::vector<Tensor> execute_node(const ir::Node& node, const OpDef& op, std::span<const Tensor> inputs,
                                 void* state, int threads);

}  // namespace qforge::runtime
