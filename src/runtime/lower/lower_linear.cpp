// Conv → qforge.QConv and Gemm / MatMul → qforge.QGemm (lower_qdq.h): weights s8 per output
// channel with the zero point folded in, bias to int32 at scale x_scale · w_scale[m], the int32
// overflow check, the fused clamp.
#include <cfloat>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "quant/quantize.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/lower/qdq_match.h"

namespace qforge::runtime::lower {

namespace {

// int32 bias [M] at scale x_s · w_scale[m]: from DQ(B s32) — taken as is when its scale is exactly
// that product (what quantizers write), else rescaled — or from an f32 initializer. nullopt + why
// when the bias is something else.
std::optional<std::vector<int32_t>> bias_s32(const Ctx& c, const ir::Node& node, const std::string& v, float x_s,
                                             const std::vector<float>& w_s, std::string& why) {
  const size_t M = w_s.size();
  std::vector<int32_t> out(M, 0);
  if (v.empty()) return out;
  for (size_t m = 0; m < M; ++m) {
    const float s = x_s * w_s[m];
    if (!(s >= FLT_MIN && s <= FLT_MAX)) {  // denormal, 0 or inf in float32: no int32 bias at that scale
      why = "the bias scale x_scale · w_scale is not a normal float32";
      return std::nullopt;
    }
  }
  auto expand = [&](const Tensor& t, size_t m) { return t.numel() == 1 ? 0 : static_cast<int64_t>(m); };
  auto fits = [&](const Tensor& t) {
    return t.numel() == 1 || t.numel() == static_cast<int64_t>(M);
  };
  auto put = [&](size_t m, float b) {
    const quant::BiasS32 q = quant::quantize_bias_s32(b, x_s * w_s[m]);
    if (q.saturated) fail_input("{}: bias {} does not fit int32 at scale {}", node.describe(), b, x_s * w_s[m]);
    out[m] = q.value;
  };
  if (const Tensor* f = c.init(v)) {
    if (f->dtype() != DType::f32 || !fits(*f)) {
      why = "bias is not an f32 vector";
      return std::nullopt;
    }
    for (size_t m = 0; m < M; ++m) put(m, f->data<float>()[expand(*f, m)]);
    return out;
  }
  const int p = c.producer(v);
  const ir::Node* dq = p >= 0 ? &c.g.nodes[p] : nullptr;
  const Tensor* b = dq && dq->op_type == "DequantizeLinear" ? c.init(dq->input(0)) : nullptr;
  const Tensor* s = b ? c.init(dq->input(1)) : nullptr;
  const Tensor* z = b ? c.init(dq->input(2)) : nullptr;
  if (!b || !s || b->dtype() != DType::s32 || !fits(*b) || !fits(*s) || (!dq->input(2).empty() && (!z || !fits(*z)))) {
    why = "bias is not a constant (s32 dequantized or f32)";
    return std::nullopt;
  }
  for (size_t m = 0; m < M; ++m) {
    const int64_t q = static_cast<int64_t>(b->data<int32_t>()[expand(*b, m)]) -
                      (z ? z->data<int32_t>()[expand(*z, m)] : 0);
    const float bs = s->data<float>()[expand(*s, m)];
    if (bs == x_s * w_s[m] && q >= INT32_MIN && q <= INT32_MAX) out[m] = static_cast<int32_t>(q);
    else put(m, quant::dequantize_value(q, bs, 0));
  }
  return out;
}

// Worst case of |Σ_k (x − zp) · w[k, m] + bias[m]| per output channel must stay below 2^31.
// w viewed as [M][K] (rs / cs strides as in pack_weights_s8, with n = m).
void check_overflow(const ir::Node& node, const ActQ& x, const int8_t* w, size_t K, size_t M, size_t rs, size_t cs,
                    const std::vector<int32_t>& bias) {
  if (K > kQgemmMaxK) fail_input("{}: reduction length {} exceeds {} (int32 accumulation could overflow)",
                                 node.describe(), K, kQgemmMaxK);
  const int64_t xmax = std::max(x.z - quant_min(x.dtype), quant_max(x.dtype) - x.z);
  for (size_t m = 0; m < M; ++m) {
    int64_t sum = 0;
    for (size_t k = 0; k < K; ++k) sum += std::abs(static_cast<int32_t>(w[k * rs + m * cs]));
    const int64_t bound = sum * xmax + std::llabs(static_cast<int64_t>(bias[m]));
    if (bound > INT32_MAX)
      fail_input("{}: integer accumulation could overflow int32 (output channel {}: bound {})", node.describe(), m,
                 bound);
  }
}

}  // namespace

bool lower_conv(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  ActQ x;
  OutQ o;
  WeightQ w;
  if (!c.act_input(n.input(0), x, why) || !c.quantized_output(i, true, o, why)) return false;
  if (!c.weight(n.input(1), 0, w, why)) return false;
  if (w.w.rank() < 3 || w.w.rank() > 5) {
    why = "weight rank is not 3 to 5";
    return false;
  }
  auto bias = bias_s32(c, n, n.input(2), x.s, w.scale, why);
  if (!bias) return false;
  const size_t M = static_cast<size_t>(w.w.dim(0)), K = static_cast<size_t>(w.w.numel() / w.w.dim(0));
  check_overflow(n, x, w.w.data<int8_t>(), K, M, 1, K, *bias);
  ir::Node q;
  q.name = n.name;
  q.op_type = "QConv";
  q.domain = "qforge";
  for (const auto& a : n.attrs)
    if (a.name.rfind("qforge.", 0) != 0) q.attrs.push_back(a);
  set_clamp(q, o);
  const std::string wname = w.modified ? c.new_init(n.name + "_w_s8", w.w) : w.name;
  const std::string sname = c.new_init(n.name + "_w_scale", Tensor::from_vector(DType::f32, {static_cast<int64_t>(M)}, w.scale));
  const std::string bname = c.new_init(n.name + "_bias_s32", Tensor::from_vector(DType::s32, {static_cast<int64_t>(M)}, *bias));
  q.inputs = {x.q, x.scale, x.zp, wname, sname, o.y.scale, o.y.zp, bname};
  q.outputs = {o.y.q};
  c.add(i, std::move(q));
  c.replace(i, o);
  return true;
}

bool lower_gemm(Ctx& c, int i, std::string& why) {
  const ir::Node& n = c.g.nodes[i];
  const bool matmul = n.op_type == "MatMul";
  if (!matmul) {
    if (n.attr_i("transA", 0) != 0) return why = "Gemm with transA", false;
    if (n.attr_f("alpha", 1.f) != 1.f || (!n.input(2).empty() && n.attr_f("beta", 1.f) != 1.f))
      return why = "Gemm with alpha or beta other than 1", false;
  }
  ActQ a;
  OutQ o;
  WeightQ w;
  if (!c.act_input(n.input(0), a, why) || !c.quantized_output(i, true, o, why)) return false;
  const bool tb = !matmul && n.attr_i("transB", 0) != 0;
  const int rank = [&] {
    const int p = c.producer(n.input(1));
    const Tensor* t = p >= 0 ? c.init(c.g.nodes[p].input(0)) : nullptr;
    return t ? t->rank() : 0;
  }();
  if (rank != 2) return why = "weight is not a 2-D dequantized constant", false;
  if (!c.weight(n.input(1), tb ? 0 : 1, w, why)) return false;
  auto bias = bias_s32(c, n, matmul ? std::string() : n.input(2), a.s, w.scale, why);
  if (!bias) return false;
  const size_t K = static_cast<size_t>(w.w.dim(tb ? 1 : 0)), N = static_cast<size_t>(w.w.dim(tb ? 0 : 1));
  check_overflow(n, a, w.w.data<int8_t>(), K, N, tb ? 1 : N, tb ? K : 1, *bias);
  ir::Node q;
  q.name = n.name;
  q.op_type = "QGemm";
  q.domain = "qforge";
  q.set_attr(int_attr("transB", tb ? 1 : 0));
  set_clamp(q, o);
  const std::string wname = w.modified ? c.new_init(n.name + "_w_s8", w.w) : w.name;
  const std::string sname = c.new_init(n.name + "_w_scale", Tensor::from_vector(DType::f32, {static_cast<int64_t>(N)}, w.scale));
  const std::string bname = c.new_init(n.name + "_bias_s32", Tensor::from_vector(DType::s32, {static_cast<int64_t>(N)}, *bias));
  q.inputs = {a.q, a.scale, a.zp, wname, sname, o.y.scale, o.y.zp, bname};
  q.outputs = {o.y.q};
  c.add(i, std::move(q));
  c.replace(i, o);
  return true;
}

}  // namespace qforge::runtime::lower
