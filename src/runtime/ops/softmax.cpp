// Softmax / LogSoftmax over one axis (attribute `axis`, default -1, opset 13 form). Models from
// opset < 13 are imported with `qforge.coerce_2d` = 1: the input is then treated as 2-D
// [prod(dims[:axis]), prod(dims[axis:])] and `axis` defaults to 1.
#include "core/cpu.h"
#include "runtime/kernels/reference/softmax_ref.h"
#include "runtime/kernels/vmath.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

bool coerce_2d(const ir::Node& n) { return attr_int(n, "qforge.coerce_2d", 0) != 0; }

int softmax_axis(const ir::Node& n, int rank) {
  return normalize_axis(n, attr_int(n, "axis", coerce_2d(n) ? 1 : -1), rank);
}

std::vector<TypeShape> infer_softmax(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  require_dtype(c, 0, "input", [](DType d) { return d == DType::f32; });
  if (c.in(0).has_shape) softmax_axis(c.node, c.in(0).rank());
  return shape_of_input(c, 0, DType::f32);
}

template <bool kLog>
void compute_softmax(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  const int axis = softmax_axis(k.node, x.rank());
  int64_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < x.rank(); ++d) {
    if (d < axis)
      outer *= x.dim(d);
    else if (d == axis || coerce_2d(k.node))
      n *= x.dim(d);
    else
      inner *= x.dim(d);
  }
  if (inner == 1 && active_isa() >= Isa::avx2) {
    softmax_rows_f32__avx2(x.data<float>(), k.outputs[0].data<float>(), outer, n, kLog, k.threads);
    return;
  }
  softmax_f32__ref(x.data<float>(), k.outputs[0].data<float>(), outer, n, inner, kLog, k.threads);
}

}  // namespace

void register_ops_softmax(std::vector<OpDef>& ops) {
  ops.push_back({"Softmax", "", infer_softmax, compute_softmax<false>});
  ops.push_back({"LogSoftmax", "", infer_softmax, compute_softmax<true>});
}

}  // namespace qforge::runtime
