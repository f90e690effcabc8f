// Helpers shared by the elementwise, activation and quantization op definitions: dtype checks and
// typed attribute reads that fail with an InputError naming the node.
#pragma once
#include <string>
#include <vector>

#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

// dtype of input i (required), InputError "input i (what) has dtype X, which Op does not support"
// unless ok(dtype). An undefined dtype (unknown statically) passes.
template <class Pred>
DType require_dtype(const InferCtx& c, size_t i, const char* what, Pred ok) {
  require_input(c, i, what);
  const DType t = c.in(i).dtype;
  if (t != DType::undefined && !ok(t))
    fail_node(c.node, "input {} ({}) has dtype {}, which {} does not support here", i, what, dtype_name(t),
              c.node.op_type);
  return t;
}

// Inputs i and j must have the same dtype (when both are known).
void require_same_dtype(const InferCtx& c, size_t i, size_t j);

// The output: input i's shape with dtype `out`.
std::vector<TypeShape> shape_of_input(const InferCtx& c, size_t i, DType out);
// The output: broadcast of the given (present) inputs' shapes with dtype `out`.
std::vector<TypeShape> broadcast_of_inputs(const InferCtx& c, const std::vector<size_t>& inputs, DType out);

// Typed attribute reads: the default when absent, InputError when present with another kind.
float attr_float(const ir::Node& n, const char* name, float dflt);
int64_t attr_int(const ir::Node& n, const char* name, int64_t dflt);
std::string attr_string(const ir::Node& n, const char* name, const std::string& dflt);

// Parts of register_ops_elementwise kept in their own files.
void register_ops_compare(std::vector<OpDef>& ops);  // ops/compare.cpp: Equal, Less, ..., And, Or, Xor, Not, Where
void register_ops_cast(std::vector<OpDef>& ops);     // ops/cast.cpp: Cast, CastLike
// Part of register_ops_activation.
void register_ops_softmax(std::vector<OpDef>& ops);  // ops/softmax.cpp: Softmax, LogSoftmax

}  // namespace qforge::runtime
