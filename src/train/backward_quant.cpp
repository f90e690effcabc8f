// Backward of qforge.FakeQuant (runtime/ops/fake_quant.h). Per element with its scale s, zero point z
// (the integer the forward used) and v = x / s (the forward's float32 division), lo = qmin - z,
// hi = qmax - z; the forward is y = s · clamp(round(v), lo, hi):
//   dx = dy · [lo <= v <= hi]                  straight-through estimator, zero where the forward
//                                              saturates (there y does not depend on x at all)
//   ds = g · Σ dy · (round(v) - v   if lo <= v <= hi      LSQ (Esser et al. 2020, eq. 3)
//                    lo             if v < lo
//                    hi             if v > hi)
//   dz = g · Σ dy · (0 inside, -s where saturated)        the zero point's gradient through
//                                                          y = s · (clamp(round(v) + z, qmin, qmax) - z)
//                                                          with round(z) passed straight through (LSQ+)
// Sums run over the elements that share the scale. g is the LSQ gradient scale: attribute grad_scale
// when present and > 0, else 1 / sqrt(n · qmax) with n = elements per scale (x.numel() / scale.numel(),
// the batch included for activations) and qmax the upper code (Q_P; at least 1).
// The derivatives in s and z are those of the surrogate where round(v) - v is held constant; the
// tests check them (and dx) against finite differences of that surrogate, and against the true
// function where it is differentiable (the saturated regions).
#include <cmath>

#include "runtime/ops/fake_quant.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

void backward_fake_quant(BackwardCtx& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& scale = c.inputs[1];
  const Tensor zp = c.has_input(2) ? c.inputs[2] : Tensor();
  const Tensor& dy = c.grad_outputs[0];
  const runtime::FakeQuantSpec s =
      runtime::fake_quant_spec(c.node, x.shape(), scale.shape(), zp.empty() ? nullptr : &zp.shape());
  const runtime::FakeQuantLayout& l = s.layout;
  const bool want_x = c.wants(0), want_s = c.wants(1), want_z = c.wants(2) && !zp.empty();
  if (want_z && zp.dtype() != DType::f32)
    fail_input("{}: a trained zero point must be float32, got {}", c.node.describe(), dtype_name(zp.dtype()));
  Tensor dx = want_x ? zeros_like(x) : Tensor();
  std::vector<double> ds(static_cast<size_t>(scale.numel()), 0.0), dz(ds.size(), 0.0);
  const float* xs = x.data<float>();
  const float* g = dy.data<float>();
  const float* sc = scale.data<float>();
  float* gx = want_x ? dx.data<float>() : nullptr;
  // One run of `len` elements starting at k that share scale si.
  auto run = [&](int64_t k, int64_t len, int64_t si) {
    const int32_t z = runtime::fake_quant_zero_point(zp, si, s.qmin, s.qmax);
    const float lo = static_cast<float>(s.qmin - z), hi = static_cast<float>(s.qmax - z), sv = sc[si];
    double acc_s = 0, acc_z = 0;
    for (int64_t e = k; e < k + len; ++e) {
      const float v = xs[e] / sv;
      const bool inside = v >= lo && v <= hi;
      if (gx) gx[e] = inside ? g[e] : 0.f;
      if (want_s) acc_s += static_cast<double>(g[e]) * (inside ? std::nearbyint(v) - v : v < lo ? lo : hi);
      if (want_z && !inside) acc_z -= static_cast<double>(g[e]) * sv;
    }
    ds[si] += acc_s;
    dz[si] += acc_z;
  };
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t a = 0; a < l.axis_len; ++a) {
      const int64_t base = (o * l.axis_len + a) * l.inner;
      if (l.block == 0) {
        run(base, l.inner, l.scale_index(o, a, 0));
      } else {
        for (int64_t i = 0; i < l.inner; ++i) run(base + i, 1, l.scale_index(o, a, i));
      }
    }
  if (want_x) c.grad_inputs[0] = dx;
  if (!want_s && !want_z) return;
  double gs = c.node.attr_f("grad_scale", 0.f);
  if (!(gs > 0)) {
    const double n = static_cast<double>(x.numel()) / static_cast<double>(scale.numel());
    gs = 1.0 / std::sqrt(n * std::max(1, s.qmax));
  }
  auto write = [&](const std::vector<double>& v) {
    Tensor t = zeros_like(scale);
    for (size_t k = 0; k < v.size(); ++k) t.data<float>()[k] = static_cast<float>(gs * v[k]);
    return t;
  };
  if (want_s) c.grad_inputs[1] = write(ds);
  if (want_z) c.grad_inputs[2] = write(dz);
}

}  // namespace qforge::train
