// BatchNormalization forward (training mode) and backward, on the channel loops of
// kernels/bn_train.h (channels in parallel). With M = N·spatial elements per channel:
//   forward: μ = k + Σ(x-k)/M, σ² = Σ(x-k)²/M - (Σ(x-k)/M)² for a shift k = one sample of the channel
//   training: dX = scale·inv/M · (M·dY - Σ dY - x̂·Σ dY·x̂)      (batch statistics depend on X)
//   inference (running statistics): dX = dY·scale·inv
//   both: dscale = Σ dY·x̂, dB = Σ dY
#include "train/batch_norm_train.h"

#include <algorithm>
#include <cmath>

#include "core/cpu.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"
#include "train/kernels/bn_train.h"

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

bool parallel_worth(const BnDims& d) { return d.n * d.c * d.sp > 32768; }

}  // namespace

Tensor batch_norm_train_forward(const ir::Node& node, std::span<const Tensor> inputs,
                                std::vector<Tensor>& saved, int threads) {
  const BnDims d = bn_dims(node, inputs);
  const float eps = node.attr_f("epsilon", 1e-5f), mom = node.attr_f("momentum", 0.9f);
  const float* x = inputs[0].data<float>();
  const float* scale = inputs[1].data<float>();
  const float* bias = inputs[2].data<float>();
  float* rmean = const_cast<Tensor&>(inputs[3]).data<float>();
  float* rvar = const_cast<Tensor&>(inputs[4]).data<float>();
  Tensor y = uninit_f32(inputs[0].shape());  // affine writes all
  Tensor mean(DType::f32, {d.c}), inv(DType::f32, {d.c});
  float* yp = y.data<float>();
  float* meanp = mean.data<float>();
  float* invp = inv.data<float>();
  const double cnt = static_cast<double>(d.n * d.sp);
  const BnTrainKernel& k = bn_train_kernel(active_isa());
  const BnChannel ch{d.n, d.sp, d.c * d.sp};
#pragma omp parallel for num_threads(threads) schedule(static) if (parallel_worth(d))
  for (int64_t c = 0; c < d.c; ++c) {
    double s1 = 0, s2 = 0;
    const float shift = cnt > 0 ? x[c * d.sp] : 0.f;  // one sample of the channel, near its mean
    if (cnt > 0) k.stats(ch, x + c * d.sp, shift, &s1, &s2);
    const double mu = cnt > 0 ? shift + s1 / cnt : 0;
    const double var = cnt > 0 ? std::max(0.0, (s2 - s1 * s1 / cnt) / cnt) : 0;
    const double is = 1.0 / std::sqrt(var + eps);
    meanp[c] = static_cast<float>(mu);
    invp[c] = static_cast<float>(is);
    rmean[c] = static_cast<float>(rmean[c] * mom + mu * (1 - mom));
    rvar[c] = static_cast<float>(rvar[c] * mom + var * (1 - mom));
    const float a = static_cast<float>(scale[c] * is), b = static_cast<float>(bias[c] - mu * scale[c] * is);
    k.affine(ch, x + c * d.sp, a, b, yp + c * d.sp);
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
  Tensor dx = c.wants(0) ? uninit_f32(c.inputs[0].shape()) : Tensor();  // grad_x writes all
  Tensor ds = c.wants(1) ? zeros_like(c.inputs[1]) : Tensor();
  Tensor db = c.wants(2) ? zeros_like(c.inputs[2]) : Tensor();
  float* dxp = dx.empty() ? nullptr : dx.data<float>();
  float* dsp = ds.empty() ? nullptr : ds.data<float>();
  float* dbp = db.empty() ? nullptr : db.data<float>();
  const double M = static_cast<double>(d.n * d.sp);
  const BnTrainKernel& k = bn_train_kernel(active_isa());
  const BnChannel chn{d.n, d.sp, d.c * d.sp};
#pragma omp parallel for num_threads(c.threads) schedule(static) if (parallel_worth(d))
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const double mu = batch_stats ? c.saved[0].data<float>()[ch] : c.inputs[3].data<float>()[ch];
    const double is = batch_stats ? c.saved[1].data<float>()[ch]
                                  : 1.0 / std::sqrt(c.inputs[4].data<float>()[ch] + eps);
    const float muf = static_cast<float>(mu);
    double sdy = 0, sdyxc = 0;
    k.grad_sums(chn, x + ch * d.sp, dy + ch * d.sp, muf, &sdy, &sdyxc);
    const double sdyx = is * sdyxc;  // Σ dY·x̂
    if (dsp) dsp[ch] = static_cast<float>(sdyx);
    if (dbp) dbp[ch] = static_cast<float>(sdy);
    if (!dxp) continue;
    // training: dX = k·dY - k·is/M·(Σ dY·x̂)·(x - μ) - k/M·(Σ dY)     inference: dX = k·dY
    const double kk = scale[ch] * is;
    const bool stats = batch_stats && M > 0;
    const float fa = static_cast<float>(kk);
    const float fb = stats ? static_cast<float>(-kk * is * sdyx / M) : 0.f;
    const float fc = stats ? static_cast<float>(-kk * sdy / M) : 0.f;
    k.grad_x(chn, x + ch * d.sp, dy + ch * d.sp, muf, fa, fb, fc, dxp + ch * d.sp);
  }
  if (c.wants(0)) c.grad_inputs[0] = dx;
  if (c.wants(1)) c.grad_inputs[1] = ds;
  if (c.wants(2)) c.grad_inputs[2] = db;
}

}  // namespace qforge::train
