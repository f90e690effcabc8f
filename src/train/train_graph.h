// Reverse-mode training over ir::Graph (DESIGN: one IR serves every stage). The forward pass runs
// the runtime's ops node by node (runtime::execute_node), keeping every value; BatchNormalization in
// training mode has its own forward (batch_norm_train.h). The backward pass walks the nodes in
// reverse, calling one rule per op from the table in backward_rules.h, and accumulates dL/d(value)
// for every value that depends on a parameter (or on a graph input, with input_grads).
//
// Parameters: the float initializers in weight slots: Conv W and B,
// Gemm B and C, MatMul operands, BatchNormalization scale and B (never the running statistics).
// They are updated in place by the optimizers (optim.h); model() writes them back.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "train/loss.h"

namespace qforge::train {

struct Parameter {
  std::string name;  // initializer name
  Tensor value;      // f32, shares the buffer the forward pass reads
  Tensor grad;       // f32, same shape; filled by backward (accumulated within one call)
  bool decay = true; // weight decay applies (PyTorch default: every parameter)
};

struct TrainOptions {
  std::string logits;        // graph output holding [N, classes] logits; "" = the first output
  int threads = 0;           // 0: default_threads()
  bool input_grads = false;  // also compute dL/d(graph inputs) (gradient checks)
};

class TrainGraph {
 public:
  // Throws InputError naming the node when a node on a gradient path has no backward rule.
  explicit TrainGraph(const ir::Model& model, TrainOptions opts = {});

  // Training mode: BatchNormalization uses batch statistics and updates its running mean / var.
  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }

  // Runs the graph (one tensor per graph input, in order), keeping every value for backward.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs);
  // Zeroes the gradients, then back-propagates dL/d(graph output) (one per output; an empty
  // Tensor means zero) through the last forward.
  void backward(const std::vector<Tensor>& output_grads);
  // forward + softmax cross-entropy on the logits output + backward, for a single-input graph.
  // labels: one class index per row of the logits; out of range → InputError.
  StepResult forward_backward(const Tensor& x, const std::vector<int64_t>& labels);

  std::vector<Parameter>& parameters() { return params_; }
  const std::vector<Parameter>& parameters() const { return params_; }
  // dL/d(value) of the last backward (any value on a gradient path), or an empty Tensor.
  Tensor grad(const std::string& value) const;
  // The model with the current parameters and BatchNormalization running statistics.
  ir::Model model() const;

 private:
  struct Step {
    int node = 0;
    std::vector<int> in, out;  // value slots, -1 where omitted
    std::vector<bool> need;    // per input: its gradient is wanted
    bool on_path = false;      // some input requires grad
    std::vector<Tensor> saved; // extra state for backward (BatchNormalization: mean, inv_std)
  };
  int slot(const std::string& name);
  void run_step(Step& s);

  ir::Model model_;  // initializers deep-copied; params and running stats live here
  TrainOptions opts_;
  bool training_ = true;
  int threads_ = 1;
  std::unordered_map<std::string, int> slot_of_;
  std::vector<Tensor> values_, grads_;
  std::vector<bool> requires_grad_;
  std::vector<Step> steps_;
  std::vector<Parameter> params_;
  std::vector<int> param_slot_, input_slots_, output_slots_;
  int logits_index_ = 0;
};

}  // namespace qforge::train
