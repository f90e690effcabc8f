// Elementwise rules. Binary ops broadcast (numpy rules), so each input's gradient is the output
// gradient summed over the dims that input was broadcast along:
//   Add: dA = Σ dY, dB = Σ dY     Sub: dA = Σ dY, dB = -Σ dY     Mul: dA = Σ dY·B, dB = Σ dY·A
//   Div: dA = Σ dY·(1/B), dB = -(Σ dY·Y) / B   (Y = A/B; B is constant along the dims it is summed over)
// Unary activations: dX = dY · f'(x):
//   Relu       f' = [x > 0]
//   Clip       f' = [min < x < max]   (PyTorch hardtanh; ReLU6 is Clip(0, 6))
//   HardSwish  f' = 0 (x < -3), x/3 + 1/2 (-3 <= x <= 3), 1 (x > 3)   (ONNX alpha 1/6, beta 1/2)
//   Sigmoid    f' = y (1 - y)
//   Sqrt       f' = 1 / (2 y)
#include <limits>

#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

namespace {

// dst = Σ_broadcast sign · dY · (other or 1), for input i of a binary op.
Tensor binary_input_grad(const BackwardCtx& c, size_t i, float sign, const Tensor* other) {
  const Tensor& dy = c.grad_outputs[0];
  const Shape& out = dy.shape();
  const bool same = c.inputs[i].shape() == out && (!other || other->shape() == out);
  Tensor g = same ? uninit_f32(out) : zeros_like(c.inputs[i]);  // same shape: every element written
  std::vector<int64_t> os;
  if (other) os = broadcast_strides(other->shape(), out);
  if (same) {  // no broadcasting
    const float* d = dy.data<float>();
    const float* f = other ? other->data<float>() : nullptr;
    float* p = g.data<float>();
    for (int64_t k = 0, n = dy.numel(); k < n; ++k) p[k] = d[k] * (f ? f[k] : 1.f);
  } else {
    reduce_broadcast_f32(out, dy.data<float>(), other ? other->data<float>() : nullptr, os,
                         c.inputs[i].shape(), g.data<float>());
  }
  if (sign != 1.f)
    for (float& v : g.span<float>()) v *= sign;
  return g;
}

void require_f32(const BackwardCtx& c) {
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.wants(i) && c.inputs[i].dtype() != DType::f32)
      fail_input("{}: training needs float32 inputs, input {} is {}", c.node.describe(), i,
                 dtype_name(c.inputs[i].dtype()));
}

template <class Deriv>
void unary_grad(BackwardCtx& c, Deriv&& deriv) {
  if (!c.wants(0)) return;
  require_f32(c);
  const Tensor& x = c.inputs[0];
  const float* xp = x.data<float>();
  const float* yp = c.outputs[0].data<float>();
  const float* d = c.grad_outputs[0].data<float>();
  Tensor g = uninit_f32(x.shape());  // every element written below
  float* p = g.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for num_threads(c.threads) if (n > 65536)
  for (int64_t k = 0; k < n; ++k) p[k] = d[k] * deriv(xp[k], yp[k]);
  c.grad_inputs[0] = g;
}

}  // namespace

void backward_add(BackwardCtx& c) {
  require_f32(c);
  if (c.wants(0)) c.grad_inputs[0] = binary_input_grad(c, 0, 1.f, nullptr);
  if (c.wants(1)) c.grad_inputs[1] = binary_input_grad(c, 1, 1.f, nullptr);
}

void backward_sub(BackwardCtx& c) {
  require_f32(c);
  if (c.wants(0)) c.grad_inputs[0] = binary_input_grad(c, 0, 1.f, nullptr);
  if (c.wants(1)) c.grad_inputs[1] = binary_input_grad(c, 1, -1.f, nullptr);
}

void backward_mul(BackwardCtx& c) {
  require_f32(c);
  if (c.wants(0)) c.grad_inputs[0] = binary_input_grad(c, 0, 1.f, &c.inputs[1]);
  if (c.wants(1)) c.grad_inputs[1] = binary_input_grad(c, 1, 1.f, &c.inputs[0]);
}

void backward_div(BackwardCtx& c) {
  require_f32(c);
  const Tensor& b = c.inputs[1];
  if (c.wants(0)) {
    Tensor inv = uninit_f32(b.shape());  // every element written
    const float* bp = b.data<float>();
    float* ip = inv.data<float>();
    for (int64_t k = 0, n = b.numel(); k < n; ++k) ip[k] = 1.f / bp[k];
    c.grad_inputs[0] = binary_input_grad(c, 0, 1.f, &inv);
  }
  if (c.wants(1)) {
    Tensor g = binary_input_grad(c, 1, -1.f, &c.outputs[0]);
    const float* bp = b.data<float>();
    float* gp = g.data<float>();
    for (int64_t k = 0, n = g.numel(); k < n; ++k) gp[k] /= bp[k];
    c.grad_inputs[1] = g;
  }
}

void backward_relu(BackwardCtx& c) {
  unary_grad(c, [](float x, float) { return x > 0.f ? 1.f : 0.f; });
}

void backward_clip(BackwardCtx& c) {
  const float lo = c.has_input(1) ? static_cast<float>(c.inputs[1].at_f64(0))
                                  : -std::numeric_limits<float>::infinity();
  const float hi = c.has_input(2) ? static_cast<float>(c.inputs[2].at_f64(0))
                                  : std::numeric_limits<float>::infinity();
  std::vector<bool> need0(c.need.size(), false);
  if (!need0.empty()) need0[0] = c.wants(0);  // min / max are constants: no gradient
  BackwardCtx c0{c.node, c.inputs, c.outputs, c.grad_outputs, c.saved, need0, c.grad_inputs,
                 c.training, c.threads};
  unary_grad(c0, [lo, hi](float x, float) { return x > lo && x < hi ? 1.f : 0.f; });
}

void backward_hardswish(BackwardCtx& c) {
  unary_grad(c, [](float x, float) { return x < -3.f ? 0.f : (x > 3.f ? 1.f : x / 3.f + 0.5f); });
}

void backward_sigmoid(BackwardCtx& c) {
  unary_grad(c, [](float, float y) { return y * (1.f - y); });
}

void backward_sqrt(BackwardCtx& c) {
  unary_grad(c, [](float, float y) { return 0.5f / y; });
}

}  // namespace qforge::train
