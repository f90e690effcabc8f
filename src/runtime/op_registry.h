// One table of operators (STYLE §3): each entry names an op, its shape/type inference and its
// kernel. Shape inference serves both the static pass (symbolic dims, constant values where known)
// and the runtime (all dims and all input values known), so an op's output shape is written once.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::runtime {

// Type and shape of one value; dims may be symbolic or unknown during static inference.
struct TypeShape {
  DType dtype = DType::undefined;
  bool has_shape = false;
  std::vector<ir::Dim> dims;

  static TypeShape of(DType t, const Shape& s);  // concrete
  static TypeShape unknown_rank(DType t) { return TypeShape{t, false, {}}; }
  int rank() const { return static_cast<int>(dims.size()); }
  bool fully_known() const;
  Shape concrete() const;  // precondition: fully_known()
};

struct InferCtx {
  const ir::Node& node;
  std::vector<TypeShape> inputs;        // one per node input; dtype undefined where omitted
  std::vector<const Tensor*> values;    // the input's value when known (constant), else nullptr

  bool has_input(size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
  const TypeShape& in(size_t i) const { return inputs.at(i); }
  const Tensor* value(size_t i) const { return i < values.size() ? values[i] : nullptr; }
  size_t num_inputs() const { return node.inputs.size(); }
};

// Returns one TypeShape per node output. Throws InputError (naming the node) on invalid attributes
// or incompatible input shapes. When every input dim and value is known, every output must be
// fully known (the runtime allocates outputs from it).
using InferFn = std::vector<TypeShape> (*)(const InferCtx&);

struct KernelCtx {
  const ir::Node& node;
  std::span<const Tensor> inputs;  // empty Tensor where an optional input is omitted
  std::span<Tensor> outputs;       // allocated by the runtime from InferFn; contents undefined
  void* state = nullptr;           // from PrepareFn, or nullptr
  int threads = 1;                 // threads the kernel may use (OpenMP)

  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
};
using ComputeFn = void (*)(KernelCtx&);

// Optional: runs once per session with the node's constant inputs (nullptr where not constant),
// e.g. to pre-pack weights. The returned state is passed to every compute call.
using PrepareFn = std::shared_ptr<void> (*)(const ir::Node&, std::span<const Tensor* const>);

struct OpDef {
  std::string_view op_type;
  std::string_view domain;  // "" = default ONNX domain; "com.microsoft"; "qforge"
  InferFn infer = nullptr;
  ComputeFn compute = nullptr;
  PrepareFn prepare = nullptr;
};

// Op families, one file each under src/runtime/ops/. Each appends its OpDefs.
void register_ops_elementwise(std::vector<OpDef>& ops);  // ops/elementwise.cpp: arithmetic, unary math, compare, Where, Cast
void register_ops_activation(std::vector<OpDef>& ops);   // ops/activation.cpp: Relu..Gelu, Softmax, LogSoftmax
void register_ops_normalization(std::vector<OpDef>& ops);// ops/normalization.cpp: BatchNormalization, LayerNormalization
void register_ops_reduce(std::vector<OpDef>& ops);       // ops/reduce.cpp: ReduceMean/Sum/Max, ArgMax
void register_ops_shape(std::vector<OpDef>& ops);        // ops/shape.cpp: Reshape, Transpose, Concat, Slice, Gather, ...
void register_ops_quant(std::vector<OpDef>& ops);        // ops/quant.cpp: QuantizeLinear, DequantizeLinear
void register_ops_quant_ext(std::vector<OpDef>& ops);    // ops/quant_ext.cpp: DynamicQuantizeLinear, MatMulInteger, MatMulBnb4
void register_ops_linear(std::vector<OpDef>& ops);       // ops/linear.cpp: Conv, ConvTranspose, Gemm, MatMul
void register_ops_pool(std::vector<OpDef>& ops);         // ops/pool.cpp: MaxPool, AveragePool, Global*Pool
void register_ops_resize(std::vector<OpDef>& ops);       // ops/resize.cpp: Resize, Pad
void register_ops_qlinear(std::vector<OpDef>& ops);      // ops/qlinear*.cpp: qforge.QConv, QGemm, ... (lowered QDQ)
void register_ops_fake_quant(std::vector<OpDef>& ops);   // ops/fake_quant.cpp: qforge.FakeQuant (QAT training graphs)

// The registry, built once. Lookup treats "" and "ai.onnx" as the same domain.
std::span<const OpDef> all_ops();
const OpDef* find_op(std::string_view domain, std::string_view op_type);

}  // namespace qforge::runtime
