// Shape rules: Flatten / Reshape keep the element order, so dX is dY with X's shape; Concat
// splits dY along the axis back into the inputs' slices.
#include "runtime/ops/infer_util.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

void backward_reshape(BackwardCtx& c) {
  if (!c.wants(0)) return;
  c.grad_inputs[0] = c.grad_outputs[0].clone().reshaped(c.inputs[0].shape());
}

void backward_concat(BackwardCtx& c) {
  const Shape& out = c.grad_outputs[0].shape();
  const int axis = runtime::normalize_axis(c.node, c.node.attr_i("axis", 0), static_cast<int>(out.size()));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= out[i];
  for (size_t i = axis + 1; i < out.size(); ++i) inner *= out[i];
  const float* dy = c.grad_outputs[0].data<float>();
  int64_t at = 0;  // first index along the axis of input i
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const int64_t len = c.inputs[i].empty() ? 0 : c.inputs[i].dim(axis);
    if (c.wants(i) && c.inputs[i].dtype() == DType::f32) {
      Tensor d = zeros_like(c.inputs[i]);
      float* p = d.data<float>();
      for (int64_t o = 0; o < outer; ++o)
        std::copy(dy + (o * out[axis] + at) * inner, dy + (o * out[axis] + at + len) * inner,
                  p + o * len * inner);
      c.grad_inputs[i] = d;
    }
    at += len;
  }
}

}  // namespace qforge::train
