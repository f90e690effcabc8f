// Pointwise activations on f32 / f64, formulas as in the ONNX operator docs:
//   relu max(0,x)                 leaky_relu x<0 ? alpha*x : x       sigmoid 1/(1+e^-x)
//   tanh                          hard_sigmoid max(0,min(1,alpha*x+beta))
//   hard_swish x*max(0,min(1,x/6+1/2))                               softsign x/(1+|x|)
//   gelu 0.5x(1+erf(x/sqrt2))     gelu_tanh 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))
//   elu x<0 ? alpha(e^x-1) : x    selu x<=0 ? gamma(alpha e^x-alpha) : gamma x
//   celu max(0,x)+min(0,alpha(e^(x/alpha)-1))                         softplus ln(e^x+1)
//   thresholded_relu x>alpha ? x : 0                                  mish x*tanh(softplus(x))
// Sigmoid and softplus use the overflow-free forms of the same functions.
// Clip and PRelu (which take tensors as bounds / slopes) also cover integer types.
#pragma once
#include "core/tensor.h"

namespace qforge::runtime {

enum class ActivationKind {
  relu,
  leaky_relu,
  sigmoid,
  tanh,
  hard_sigmoid,
  hard_swish,
  gelu,
  gelu_tanh,
  elu,
  selu,
  celu,
  softplus,
  softsign,
  thresholded_relu,
  mish
};

struct ActivationParams {
  float alpha = 0;
  float beta = 0;
  float gamma = 0;
};

// f32 and f64 for every kind; relu also s8 s16 s32 s64.
bool activation_supports(ActivationKind kind, DType t);
// y has x's shape and dtype.
void activation_ref(ActivationKind kind, const ActivationParams& p, const Tensor& x, Tensor& y, int threads);

// y = min(max(x, lo), hi); lo / hi are one-element tensors of x's dtype or nullptr (no bound).
// lo > hi gives hi everywhere (as ONNX specifies). Any real dtype.
bool clip_supports(DType t);
void clip_ref(const Tensor& x, const Tensor* lo, const Tensor* hi, Tensor& y, int threads);

// y = x < 0 ? slope * x : x, slope broadcast to x's shape. f32 f64 s32 s64 u32 u64.
bool prelu_supports(DType t);
void prelu_ref(const Tensor& x, const Tensor& slope, Tensor& y, int threads);

}  // namespace qforge::runtime
