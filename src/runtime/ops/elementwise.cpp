// Arithmetic with broadcasting (Add Sub Mul Div Pow, variadic Min Max Sum Mean) and one-input math
// (Sqrt Exp Log Neg Abs Reciprocal Erf Floor Ceil Round Sign Sin Cos). Comparisons, Where and Cast
// live in compare.cpp and cast.cpp and are registered from here.
#include "runtime/kernels/reference/binary_ref.h"
#include "runtime/kernels/reference/cast_ref.h"
#include "runtime/kernels/reference/unary_ref.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

// ---- Add Sub Mul Div

std::vector<TypeShape> infer_binary(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "A", binary_supports);
  require_dtype(c, 1, "B", binary_supports);
  require_same_dtype(c, 0, 1);
  return broadcast_of_inputs(c, {0, 1}, t);
}

template <BinaryOp Op>
void compute_binary(KernelCtx& k) {
  if constexpr (Op == BinaryOp::div) {
    if (dtype_is_integer(k.inputs[1].dtype()) && binary_has_zero(k.inputs[1]))
      fail_node(k.node, "integer division by zero");
  }
  binary_ref(Op, k.inputs[0], k.inputs[1], k.outputs[0], k.threads);
}

// ---- Pow (the exponent may have another dtype than the base)

std::vector<TypeShape> infer_pow(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "X", [](DType d) { return pow_supports(d, DType::f32); });
  require_dtype(c, 1, "Y", binary_supports);
  return broadcast_of_inputs(c, {0, 1}, t);
}

void compute_pow(KernelCtx& k) { pow_ref(k.inputs[0], k.inputs[1], k.outputs[0], k.threads); }

// ---- Min Max Sum Mean: one or more inputs, broadcast together, folded left to right

template <BinaryOp Op, bool kMean>
std::vector<TypeShape> infer_variadic(const InferCtx& c) {
  if (c.num_inputs() < 1) fail_node(c.node, "expects at least one input");
  std::vector<size_t> all;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    require_dtype(c, i, "data",
                  [](DType d) { return kMean ? dtype_is_float(d) && binary_supports(d) : binary_supports(d); });
    require_same_dtype(c, 0, i);
    all.push_back(i);
  }
  return broadcast_of_inputs(c, all, c.in(0).dtype);
}

template <BinaryOp Op, bool kMean>
void compute_variadic(KernelCtx& k) {
  Tensor& y = k.outputs[0];
  if (k.inputs.size() == 1) {
    cast_ref(k.inputs[0], y, k.threads);  // same dtype: a copy
  } else {
    binary_ref(Op, k.inputs[0], k.inputs[1], y, k.threads);
    for (size_t i = 2; i < k.inputs.size(); ++i) {
      const Tensor acc = y.clone();
      binary_ref(Op, acc, k.inputs[i], y, k.threads);
    }
  }
  if constexpr (kMean) {
    const Tensor sum = y.clone();
    Tensor n(y.dtype(), {});
    if (y.dtype() == DType::f32)
      n.data<float>()[0] = static_cast<float>(k.inputs.size());
    else
      n.data<double>()[0] = static_cast<double>(k.inputs.size());
    binary_ref(BinaryOp::div, sum, n, y, k.threads);
  }
}

// ---- one-input math

template <UnaryOp Op>
std::vector<TypeShape> infer_unary(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "X", [](DType d) { return unary_supports(Op, d); });
  return shape_of_input(c, 0, t);
}

template <UnaryOp Op>
void compute_unary(KernelCtx& k) {
  unary_ref(Op, k.inputs[0], k.outputs[0], k.threads);
}

template <UnaryOp Op>
OpDef unary(std::string_view name) {
  return OpDef{name, "", infer_unary<Op>, compute_unary<Op>};
}

}  // namespace

void register_ops_elementwise(std::vector<OpDef>& ops) {
  ops.push_back({"Add", "", infer_binary, compute_binary<BinaryOp::add>});
  ops.push_back({"Sub", "", infer_binary, compute_binary<BinaryOp::sub>});
  ops.push_back({"Mul", "", infer_binary, compute_binary<BinaryOp::mul>});
  ops.push_back({"Div", "", infer_binary, compute_binary<BinaryOp::div>});
  ops.push_back({"Pow", "", infer_pow, compute_pow});
  ops.push_back({"Min", "", infer_variadic<BinaryOp::min, false>, compute_variadic<BinaryOp::min, false>});
  ops.push_back({"Max", "", infer_variadic<BinaryOp::max, false>, compute_variadic<BinaryOp::max, false>});
  ops.push_back({"Sum", "", infer_variadic<BinaryOp::add, false>, compute_variadic<BinaryOp::add, false>});
  ops.push_back({"Mean", "", infer_variadic<BinaryOp::add, true>, compute_variadic<BinaryOp::add, true>});
  ops.push_back(unary<UnaryOp::sqrt>("Sqrt"));
  ops.push_back(unary<UnaryOp::exp>("Exp"));
  ops.push_back(unary<UnaryOp::log>("Log"));
  ops.push_back(unary<UnaryOp::neg>("Neg"));
  ops.push_back(unary<UnaryOp::abs>("Abs"));
  ops.push_back(unary<UnaryOp::reciprocal>("Reciprocal"));
  ops.push_back(unary<UnaryOp::erf>("Erf"));
  ops.push_back(unary<UnaryOp::floor>("Floor"));
  ops.push_back(unary<UnaryOp::ceil>("Ceil"));
  ops.push_back(unary<UnaryOp::round>("Round"));
  ops.push_back(unary<UnaryOp::sign>("Sign"));
  ops.push_back(unary<UnaryOp::sin>("Sin"));
  ops.push_back(unary<UnaryOp::cos>("Cos"));
  register_ops_compare(ops);
  register_ops_cast(ops);
}

}  // namespace qforge::runtime
