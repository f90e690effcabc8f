// BatchNormalization forward (training mode) and backward. With M = N·spatial elements per channel:
//   training: dX = scale·inv/M · (M·dY - Σ dY - x̂·Σ dY·x̂)      (batch statistics depend on X)
//   inference (running statistics): dX = dY·scale·inv
//   both: dscale = Σ dY·x̂, dB = Σ dY
#include "train/batch_norm_train.h"

#include <cmath>

#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

namespace {

struct BnDims {
  int64_t n = 0, c = 0, sp = 0;
};

BnDims bn_dims(const ir::Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  if (x.rank() < 2) fail_input("{}: input rank {} is below 2", node.describe(), x.rank());
  for (size_t i = 0; i < 5; ++i)
    if (i >= in.size() || in[i].empty() || in[i].dtype() != DType::f32)
      fail_input("{}: training needs five float32 inputs", node.describe());
  BnDims d{x.dim(0), x.dim(1), 1};
  for (int i = 2; i < x.rank(); ++i) d.sp *= x.dim(i);
  for (size_t i = 1; i < 5; ++i)
    if (in[i].numel() != d.c) fail_input("{}: input {} has {} elements, expected {}", node.describe(), i, in[i].numel(), d.c);
  return d;
}

}  // namespace

Tensor batch_norm_train_forward(const ir::Node& node, std::span<const Tensor> inputs,
                                std::vector<Tensor>& saved) {
  const BnDims d = bn_dims(node, inputs);
  const float eps = node.attr_f("epsilon", 1e-5f), mom = node.attr_f("momentum", 0.9f);
  const float* x = inputs[0].data<float>();
  const float* scale = inputs[1].data<float>();
  const float* bias = inputs[2].data<float>();
  float* rmean = const_cast<Tensor&>(inputs[3]).data<float>();
  float* rvar = const_cast<Tensor&>(inputs[4]).data<float>();
  Tensor y(DType::f32, inputs[0].shape());
  Tensor mean(DType::f32, {d.c}), inv(DType::f32, {d.c});
  const double cnt = static_cast<double>(d.n * d.sp);
  for (int64_t c = 0; c < d.c; ++c) {
    double s = 0, s2 = 0;
    for (int64_t n = 0; n < d.n; ++n) {
      const float* p = x + (n * d.c + c) * d.sp;
      for (int64_t i = 0; i < d.sp; ++i) s += p[i];
    }
    const double mu = cnt > 0 ? s / cnt : 0;
    for (int64_t n = 0; n < d.n; ++n) {
      const float* p = x + (n * d.c + c) * d.sp;
      for (int64_t i = 0; i < d.sp; ++i) s2 += (p[i] - mu) * (p[i] - mu);
    }
    const double var = cnt > 0 ? s2 / cnt : 0;
    const double is = 1.0 / std::sqrt(var + eps);
    mean.data<float>()[c] = static_cast<float>(mu);
    inv.data<float>()[c] = static_cast<float>(is);
    rmean[c] = static_cast<float>(rmean[c] * mom + mu * (1 - mom));
    rvar[c] = static_cast<float>(rvar[c] * mom + var * (1 - mom));
    const float a = static_cast<float>(scale[c] * is), b = static_cast<float>(bias[c] - mu * scale[c] * is);
    for (int64_t n = 0; n < d.n; ++n) {
      const float* p = x + (n * d.c + c) * d.sp;
      float* q = y.data<float>() + (n * d.c + c) * d.sp;
      for (int64_t i = 0; i < d.sp; ++i) q[i] = a * p[i] + b;
    }
  }
  saved = {mean, inv};
  return y;
}

void backward_batch_norm(BackwardCtx& c) {
  const BnDims d = bn_dims(c.node, c.inputs);
  const bool batch_stats = c.saved.size() == 2;
  const float eps = c.node.attr_f("epsilon", 1e-5f);
  const float* x = c.inputs[0].data<float>();
  const float* scale = c.inputs[1].data<float>();
  const float* dy = c.grad_outputs[0].data<float>();
  Tensor dx = c.wants(0) ? zeros_like(c.inputs[0]) : Tensor();
  Tensor ds = c.wants(1) ? zeros_like(c.inputs[1]) : Tensor();
  Tensor db = c.wants(2) ? zeros_like(c.inputs[2]) : Tensor();
  const double M = static_cast<double>(d.n * d.sp);
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const double mu = batch_stats ? c.saved[0].data<float>()[ch] : c.inputs[3].data<float>()[ch];
    const double is = batch_stats ? c.saved[1].data<float>()[ch]
                                  : 1.0 / std::sqrt(c.inputs[4].data<float>()[ch] + eps);
    double sdy = 0, sdyx = 0;
    for (int64_t n = 0; n < d.n; ++n) {
      const float* p = x + (n * d.c + ch) * d.sp;
      const float* g = dy + (n * d.c + ch) * d.sp;
      for (int64_t i = 0; i < d.sp; ++i) {
        sdy += g[i];
        sdyx += g[i] * (p[i] - mu) * is;
      }
    }
    if (ds.raw()) ds.data<float>()[ch] = static_cast<float>(sdyx);
    if (db.raw()) db.data<float>()[ch] = static_cast<float>(sdy);
    if (!dx.raw()) continue;
    const double k = scale[ch] * is;
    for (int64_t n = 0; n < d.n; ++n) {
      const float* p = x + (n * d.c + ch) * d.sp;
      const float* g = dy + (n * d.c + ch) * d.sp;
      float* q = dx.data<float>() + (n * d.c + ch) * d.sp;
      for (int64_t i = 0; i < d.sp; ++i)
        q[i] = batch_stats && M > 0
                   ? static_cast<float>(k / M * (M * g[i] - sdy - (p[i] - mu) * is * sdyx))
                   : static_cast<float>(k * g[i]);
    }
  }
  if (c.wants(0)) c.grad_inputs[0] = dx;
  if (c.wants(1)) c.grad_inputs[1] = ds;
  if (c.wants(2)) c.grad_inputs[2] = db;
}

}  // namespace qforge::train
