#include <cstring>

#include "runtime/ops/shape_common.h"
#include "runtime/ops/shape_ops.h"

namespace qforge::runtime {

void compute_copy_input(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  Tensor& y = k.outputs[0];
  QF_CHECK(x.numel() == y.numel() && x.dtype() == y.dtype(), k.node.describe());
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

TypeShape typed_like_input(const InferCtx& c, std::vector<ir::Dim> dims) {
  DType t = c.in(0).dtype;
  if (t != DType::undefined) element_bytes(c.node, t);
  return TypeShape{t, true, std::move(dims)};
}

void register_ops_shape(std::vector<OpDef>& ops) {
  register_ops_shape_reshape(ops);
  register_ops_shape_slice(ops);
  register_ops_shape_const(ops);
}

}  // namespace qforge::runtime
