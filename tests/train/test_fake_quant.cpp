// qforge.FakeQuant: the forward against the runtime's QuantizeLinear → DequantizeLinear (bit for bit,
// ties and saturation included), the backward (STE, LSQ) against finite differences of the LSQ
// surrogate y = s · (clamp(x/s + c + z, qmin, qmax) − z) with c = round(x0/s0) − x0/s0 held fixed
// (evaluated in double; by hand from Esser et al. 2020), and against the true function where it is
// differentiable (saturated elements).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "quant/pack.h"
#include "quant/quantize.h"
#include "runtime/op_registry.h"
#include "runtime/ops/fake_quant.h"
#include "runtime/session.h"
#include "train/backward_rules.h"
#include "train_test_util.h"

namespace qforge {
namespace {

using train_test::attr_i;

ir::Node make_node(const std::string& op, const std::string& domain, std::vector<ir::Attribute> attrs) {
  ir::Node n;
  n.name = "n";
  n.op_type = op;
  n.domain = domain;
  n.inputs = {"x", "s", "z"};
  n.outputs = {"y"};
  for (auto& a : attrs) n.set_attr(std::move(a));
  return n;
}

Tensor run_node(const ir::Node& n, std::vector<Tensor> in) {
  const runtime::OpDef* op = runtime::find_op(n.domain, n.op_type);
  EXPECT_NE(op, nullptr);
  return runtime::execute_node(n, *op, in, nullptr, 1)[0];
}

// Q → DQ with the runtime's ONNX ops vs FakeQuant with the storage range of zp's type.
void expect_bit_equal(const Tensor& x, const Tensor& s, const Tensor& zp, int64_t axis, int64_t block, int32_t qmin,
                      int32_t qmax) {
  std::vector<ir::Attribute> a;
  if (axis != 1) a.push_back(attr_i("axis", axis));
  if (block) a.push_back(attr_i("block_size", block));
  const Tensor q = run_node(make_node("QuantizeLinear", "", a), {x, s, zp});
  const Tensor dq = run_node(make_node("DequantizeLinear", "", a), {q, s, zp});
  a.push_back(attr_i("qmin", qmin));
  a.push_back(attr_i("qmax", qmax));
  const Tensor fq = run_node(make_node("FakeQuant", "qforge", a), {x, s, zp});
  ASSERT_EQ(fq.shape(), dq.shape());
  for (int64_t k = 0; k < x.numel(); ++k) {
    const float e = dq.data<float>()[k], g = fq.data<float>()[k];
    ASSERT_EQ(std::memcmp(&e, &g, sizeof(float)), 0)
        << "element " << k << ": x " << x.data<float>()[k] << " expected " << e << " got " << g;
  }
}

// Values at every tie (k + 1/2)·s, around it, across and far beyond the range, ±0, ±inf, NaN.
Tensor probe_values(float s, int32_t lo, int32_t hi, int64_t n_random, uint32_t seed) {
  std::vector<float> v;
  for (int32_t k = lo - 3; k <= hi + 3; ++k) {
    const float t = (static_cast<float>(k) + 0.5f) * s;
    v.insert(v.end(), {t, std::nextafter(t, -1e30f), std::nextafter(t, 1e30f), static_cast<float>(k) * s});
  }
  v.insert(v.end(), {0.f, -0.f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(static_cast<float>(lo - 20) * s, static_cast<float>(hi + 20) * s);
  for (int64_t k = 0; k < n_random; ++k) v.push_back(u(rng));
  Tensor t(DType::f32, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

TEST(FakeQuantForward, EqualsQuantizeDequantizePerTensorU8AndS8) {
  for (float s : {0.25f, 0.1f, 0.0037f, 3.f}) {
    for (int32_t z : {0, 7, 128, 255}) {
      Tensor zp(DType::u8, {});
      zp.data<uint8_t>()[0] = static_cast<uint8_t>(z);
      Tensor sc(DType::f32, {});
      sc.data<float>()[0] = s;
      expect_bit_equal(probe_values(s, -z, 255 - z, 300, 1), sc, zp, 1, 0, 0, 255);
    }
    for (int32_t z : {-128, -5, 0, 127}) {
      Tensor zp(DType::s8, {});
      zp.data<int8_t>()[0] = static_cast<int8_t>(z);
      Tensor sc(DType::f32, {});
      sc.data<float>()[0] = s;
      expect_bit_equal(probe_values(s, -128 - z, 127 - z, 300, 2), sc, zp, 1, 0, -128, 127);
    }
  }
}

TEST(FakeQuantForward, EqualsQuantizeDequantizePerAxisAndBlocked) {
  // per axis 0 of [5, 17] s8, and axis 1 (negative -1) of [3, 7]
  Tensor x = train_test::rand_tensor({5, 17}, 3, -2.f, 2.f);
  Tensor s(DType::f32, {5}), zp(DType::s8, {5});
  for (int k = 0; k < 5; ++k) s.data<float>()[k] = 0.003f + 0.004f * static_cast<float>(k), zp.data<int8_t>()[k] = static_cast<int8_t>(k - 2);
  expect_bit_equal(x, s, zp, 0, 0, -128, 127);
  Tensor x2 = train_test::rand_tensor({3, 7}, 4, -1.f, 1.f);
  Tensor s2(DType::f32, {7}), z2(DType::u8, {7});
  for (int k = 0; k < 7; ++k) s2.data<float>()[k] = 0.002f * static_cast<float>(k + 1), z2.data<uint8_t>()[k] = static_cast<uint8_t>(100 + k);
  expect_bit_equal(x2, s2, z2, -1, 0, 0, 255);
  // blocked: x [4, 10], axis 1, block 4 → scale [4, 3]
  Tensor x3 = train_test::rand_tensor({4, 10}, 5, -1.f, 1.f);
  Tensor s3(DType::f32, {4, 3}), z3(DType::s8, {4, 3});
  for (int k = 0; k < 12; ++k) s3.data<float>()[k] = 0.004f + 0.001f * static_cast<float>(k), z3.data<int8_t>()[k] = static_cast<int8_t>(k % 3);
  expect_bit_equal(x3, s3, z3, 1, 4, -128, 127);
  // s4 per axis: packed zero points
  Tensor x4 = train_test::rand_tensor({3, 6}, 6, -1.f, 1.f);
  Tensor s4(DType::f32, {3}), z4(DType::s4, {3});
  const int8_t zc[3] = {-3, 0, 5};
  quant::pack_4bit(zc, 3, static_cast<uint8_t*>(z4.raw()));
  for (int k = 0; k < 3; ++k) s4.data<float>()[k] = 0.05f * static_cast<float>(k + 1);
  expect_bit_equal(x4, s4, z4, 0, 0, -8, 7);
}

TEST(FakeQuantForward, NarrowRangeAndFloatZeroPoint) {
  // symmetric s8 [-127, 127]: values below -127 s clamp to -127 s (QuantizeLinear would give -128 s)
  Tensor x(DType::f32, {4});
  const float vals[] = {-1.f, -0.505f, 0.125f, 0.6f};
  std::copy(vals, vals + 4, x.data<float>());
  Tensor s(DType::f32, {});
  s.data<float>()[0] = 0.0025f;
  Tensor z(DType::f32, {});
  z.data<float>()[0] = 0.4f;  // rounds to 0
  const Tensor y = run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", -127), attr_i("qmax", 127)}), {x, s, z});
  EXPECT_EQ(y.data<float>()[0], -127 * 0.0025f);
  EXPECT_EQ(y.data<float>()[1], -127 * 0.0025f);  // -0.505 / 0.0025 = -202 → -127
  EXPECT_EQ(y.data<float>()[2], 50 * 0.0025f);
  EXPECT_EQ(y.data<float>()[3], 127 * 0.0025f);
  z.data<float>()[0] = 2.5f;  // half to even: 2; range of codes - z: [-129, 125]
  const Tensor y2 = run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", -127), attr_i("qmax", 127)}), {x, s, z});
  EXPECT_EQ(y2.data<float>()[0], -129 * 0.0025f);
  EXPECT_EQ(y2.data<float>()[3], 125 * 0.0025f);
}

TEST(FakeQuantForward, BadAttributesAndScalesAreInputErrors) {
  Tensor x(DType::f32, {2, 3}), s(DType::f32, {}), s4(DType::f32, {4});
  s.data<float>()[0] = 1.f;
  EXPECT_THROW(run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", 0)}), {x, s, Tensor()}), InputError);
  EXPECT_THROW(run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", 5), attr_i("qmax", 4)}), {x, s, Tensor()}),
               InputError);
  EXPECT_THROW(run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", 0), attr_i("qmax", 255)}), {x, s4, Tensor()}),
               InputError);
  s.data<float>()[0] = 0.f;
  EXPECT_THROW(run_node(make_node("FakeQuant", "qforge", {attr_i("qmin", 0), attr_i("qmax", 255)}), {x, s, Tensor()}),
               InputError);
}

// ---- backward ----

struct Case {
  Tensor x, s, z;  // z: f32
  int64_t axis = 1;
  int32_t qmin = 0, qmax = 255;
};

// The surrogate's L = Σ R·y in double, with c frozen at the base point; per-scale layout by axis
// (per tensor when s has one element).
double surrogate_loss(const Case& c, const std::vector<double>& frozen, const Tensor& r, const Tensor& x,
                      const Tensor& s, const Tensor& z) {
  const int64_t n = x.numel(), cols = x.shape().size() > 1 ? x.shape()[1] : n;
  double L = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t si = s.numel() == 1 ? 0 : (c.axis == 0 ? k / cols : k % cols);
    const double sv = s.data<float>()[si], zv = z.data<float>()[si];
    const double u = std::clamp(x.data<float>()[k] / sv + frozen[k] + zv, double(c.qmin), double(c.qmax));
    L += r.data<float>()[k] * sv * (u - zv);
  }
  return L;
}

struct Grads {
  Tensor dx, ds, dz;
};

Grads run_backward(const Case& c, const Tensor& r) {
  ir::Node n = make_node("FakeQuant", "qforge", {attr_i("qmin", c.qmin), attr_i("qmax", c.qmax), attr_i("axis", c.axis)});
  const Tensor y = run_node(n, {c.x, c.s, c.z});
  std::vector<Tensor> ins{c.x, c.s, c.z}, outs{y}, gouts{r}, saved, gins(3);
  std::vector<bool> need{true, true, true};
  train::BackwardCtx ctx{n, ins, outs, gouts, saved, need, gins, true, 1};
  const train::BackwardRule* rule = train::find_backward_rule("qforge", "FakeQuant");
  EXPECT_NE(rule, nullptr);
  rule->fn(ctx);
  return {gins[0], gins[1], gins[2]};
}

void check_against_surrogate(const Case& c, uint32_t seed) {
  const Tensor r = train_test::rand_tensor(c.x.shape(), seed);
  const Grads g = run_backward(c, r);
  const int64_t n = c.x.numel(), ns = c.s.numel();
  std::vector<double> frozen(static_cast<size_t>(n));
  const int64_t cols = c.x.shape().size() > 1 ? c.x.shape()[1] : n;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t si = ns == 1 ? 0 : (c.axis == 0 ? k / cols : k % cols);
    const float v = c.x.data<float>()[k] / c.s.data<float>()[si];
    frozen[static_cast<size_t>(k)] = std::nearbyint(v) - static_cast<double>(v);
  }
  const double gscale = 1.0 / std::sqrt(static_cast<double>(n) / static_cast<double>(ns) * c.qmax);
  Case m = c;  // perturbed copies
  m.x = c.x.clone(), m.s = c.s.clone(), m.z = c.z.clone();
  // Central difference over the step actually stored in float.
  auto fd = [&](Tensor& t, int64_t k, double h) {
    const float keep = t.data<float>()[k];
    const float up_v = static_cast<float>(keep + h), down_v = static_cast<float>(keep - h);
    t.data<float>()[k] = up_v;
    const double up = surrogate_loss(c, frozen, r, m.x, m.s, m.z);
    t.data<float>()[k] = down_v;
    const double down = surrogate_loss(c, frozen, r, m.x, m.s, m.z);
    t.data<float>()[k] = keep;
    return (up - down) / (static_cast<double>(up_v) - down_v);
  };
  for (int64_t k = 0; k < n; ++k) {
    const int64_t si = ns == 1 ? 0 : (c.axis == 0 ? k / cols : k % cols);
    EXPECT_NEAR(g.dx.data<float>()[k], fd(m.x, k, 0.01 * m.s.data<float>()[si]), 1e-3) << "dx[" << k << "]";
  }
  for (int64_t k = 0; k < ns; ++k) {
    EXPECT_NEAR(g.ds.data<float>()[k], gscale * fd(m.s, k, 1e-3 * m.s.data<float>()[k]), 1e-3) << "ds[" << k << "]";
    EXPECT_NEAR(g.dz.data<float>()[k], gscale * fd(m.z, k, 1e-2), 1e-3) << "dz[" << k << "]";
  }
}

// Values of x/s kept 0.55 code away from the clipping edges lo, hi: round(x/s) is then never an edge
// code, so the surrogate has no kink within the finite-difference steps.
Tensor x_away_from_edges(const Shape& shape, uint32_t seed, float s, float lo, float hi) {
  return train_test::rand_away_from(shape, seed, (lo - 6) * s, (hi + 6) * s, {lo * s, hi * s}, 0.55f * s);
}

TEST(BackwardFakeQuant, PerTensorMatchesSurrogateFiniteDifferences) {
  Case c;
  c.s = Tensor(DType::f32, {});
  c.s.data<float>()[0] = 0.05f;
  c.z = Tensor(DType::f32, {});
  c.z.data<float>()[0] = 3.f;
  c.qmin = 0, c.qmax = 15;  // u4-like: many elements saturate on both sides
  c.x = x_away_from_edges({7, 9}, 11, 0.05f, -3.f, 12.f);
  check_against_surrogate(c, 12);
}

TEST(BackwardFakeQuant, PerChannelMatchesSurrogateFiniteDifferences) {
  Case c;
  c.axis = 0, c.qmin = -7, c.qmax = 7;
  c.s = Tensor(DType::f32, {3});
  c.z = Tensor(DType::f32, {3});
  for (int k = 0; k < 3; ++k) c.s.data<float>()[k] = 0.1f * static_cast<float>(k + 1);
  c.x = Tensor(DType::f32, {3, 11});
  for (int row = 0; row < 3; ++row) {
    const float s = c.s.data<float>()[row];
    Tensor xr = x_away_from_edges({11}, 20 + row, s, -7.f, 7.f);
    std::copy(xr.data<float>(), xr.data<float>() + 11, c.x.data<float>() + row * 11);
  }
  check_against_surrogate(c, 21);
}

TEST(BackwardFakeQuant, SteZeroOutsideRangeAndTrueDerivativeWhenSaturated) {
  // x / s = [-20, -0.3, 0.3, 2.5, 40]; range [-2, 2] (z = 0): dx = dy inside, 0 outside; on saturated
  // elements the true function y = s·lo (or s·hi) has dy/ds = lo (hi), what LSQ gives there.
  Tensor x(DType::f32, {5});
  const float v[] = {-20.f, -0.3f, 0.3f, 2.5f, 40.f};
  Tensor s(DType::f32, {}), z(DType::f32, {});
  s.data<float>()[0] = 0.5f;
  for (int k = 0; k < 5; ++k) x.data<float>()[k] = v[k] * 0.5f;
  Case c{x, s, z, 1, -2, 2};
  Tensor r(DType::f32, {5});
  for (int k = 0; k < 5; ++k) r.data<float>()[k] = 0.f;
  for (int k : {0, 4}) {  // one saturated element at a time, true function by finite differences
    std::fill(r.span<float>().begin(), r.span<float>().end(), 0.f);
    r.data<float>()[k] = 1.f;
    const Grads g = run_backward(c, r);
    const double gscale = 1.0 / std::sqrt(5.0 * 2);
    auto f = [&](float sv) {
      return quant::fake_quantize_value(x.data<float>()[k], sv, 0, -2, 2);
    };
    const double h = 1e-3;
    const double true_ds = (f(0.5f + h) - f(0.5f - h)) / (2 * h);
    EXPECT_NEAR(g.ds.data<float>()[0], gscale * true_ds, 1e-5) << k;
    EXPECT_NEAR(true_ds, k == 0 ? -2.0 : 2.0, 1e-4);
  }
  std::fill(r.span<float>().begin(), r.span<float>().end(), 1.f);
  const Grads g = run_backward(c, r);
  const float expect_dx[] = {0.f, 1.f, 1.f, 0.f, 0.f};
  for (int k = 0; k < 5; ++k) EXPECT_EQ(g.dx.data<float>()[k], expect_dx[k]) << k;
  // ds = g · (lo + (round(-0.3) + 0.3) + (round(0.3) - 0.3) + hi + hi): v = 2.5 > hi = 2 saturates.
  EXPECT_NEAR(g.ds.data<float>()[0], (1.0 / std::sqrt(10.0)) * (-2 + 0.3 - 0.3 + 2 + 2), 1e-5);
  // dz = g · (-s) · (saturated count 3)
  EXPECT_NEAR(g.dz.data<float>()[0], (1.0 / std::sqrt(10.0)) * (-0.5 * 3), 1e-5);
}

TEST(BackwardFakeQuant, RuleIsRegisteredUnderTheQforgeDomainOnly) {
  EXPECT_NE(train::find_backward_rule("qforge", "FakeQuant"), nullptr);
  EXPECT_EQ(train::find_backward_rule("", "FakeQuant"), nullptr);
  EXPECT_NE(runtime::find_op("qforge", "FakeQuant"), nullptr);
  EXPECT_NE(train::find_backward_rule("ai.onnx", "Conv"), nullptr);
}

}  // namespace
}  // namespace qforge
