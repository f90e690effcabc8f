// The backward rules (STYLE §3: one table). A rule receives the forward inputs and outputs of one
// node and dL/d(outputs), and writes dL/d(input i) for every input with need[i] (f32, the input's
// shape). Omitted optional inputs are empty Tensors.
#pragma once
#include <span>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::train {

struct BackwardCtx {
  const ir::Node& node;
  std::span<const Tensor> inputs;
  std::span<const Tensor> outputs;
  std::span<const Tensor> grad_outputs;  // empty Tensor where no gradient reaches an output
  std::span<const Tensor> saved;         // state the forward kept (BatchNormalization)
  const std::vector<bool>& need;
  std::vector<Tensor>& grad_inputs;      // sized like inputs; the rule fills the needed ones
  bool training = true;
  int threads = 1;

  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  bool wants(size_t i) const { return i < need.size() && need[i]; }
};
using BackwardFn = void (*)(BackwardCtx&);

struct BackwardRule {
  std::string_view op_type;
  BackwardFn fn;
  std::string_view domain = {};  // "" = the default ONNX domain (also matches "ai.onnx")
};

// Rule families, one file each.
void backward_conv(BackwardCtx& c);        // backward_conv.cpp
void backward_gemm(BackwardCtx& c);        // backward_matmul.cpp
void backward_matmul(BackwardCtx& c);      // backward_matmul.cpp
void backward_add(BackwardCtx& c);         // backward_elementwise.cpp
void backward_sub(BackwardCtx& c);
void backward_mul(BackwardCtx& c);
void backward_div(BackwardCtx& c);
void backward_relu(BackwardCtx& c);
void backward_clip(BackwardCtx& c);
void backward_hardswish(BackwardCtx& c);
void backward_sigmoid(BackwardCtx& c);
void backward_sqrt(BackwardCtx& c);
void backward_maxpool(BackwardCtx& c);     // backward_pool.cpp
void backward_avgpool(BackwardCtx& c);
void backward_global_avgpool(BackwardCtx& c);
void backward_reshape(BackwardCtx& c);     // backward_shape.cpp (Flatten and Reshape)
void backward_concat(BackwardCtx& c);
void backward_batch_norm(BackwardCtx& c);  // batch_norm_train.cpp
void backward_fake_quant(BackwardCtx& c);  // backward_quant.cpp (qforge.FakeQuant, QAT)

std::span<const BackwardRule> backward_rules();
const BackwardRule* find_backward_rule(std::string_view domain, std::string_view op_type);

}  // namespace qforge::train
