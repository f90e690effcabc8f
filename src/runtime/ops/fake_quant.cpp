// qforge.FakeQuant (fake_quant.h): shape inference and the forward kernel.
#include "runtime/ops/fake_quant.h"

#include <algorithm>
#include <cmath>

#include "quant/pack.h"
#include "quant/quantize.h"
#include "runtime/op_registry.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {

FakeQuantSpec fake_quant_spec(const ir::Node& node, const Shape& x, const Shape& scale, const Shape* zero_point) {
  FakeQuantSpec s;
  if (!node.has_attr("qmin") || !node.has_attr("qmax")) fail_node(node, "attributes 'qmin' and 'qmax' are required");
  const int64_t qmin = attr_int(node, "qmin", 0), qmax = attr_int(node, "qmax", 0);
  if (qmin > qmax || qmin < -(int64_t{1} << 21) || qmax > (int64_t{1} << 21))
    fail_node(node, "clipping range [{}, {}] is empty or wider than 2^22 codes", qmin, qmax);
  s.qmin = static_cast<int32_t>(qmin);
  s.qmax = static_cast<int32_t>(qmax);
  if (zero_point && *zero_point != scale)
    fail_node(node, "zero_point shape {} differs from scale shape {}", shape_str(*zero_point), shape_str(scale));
  FakeQuantLayout& l = s.layout;
  if (scale.size() <= 1 && shape_numel(scale) == 1) {
    l.inner = shape_numel(x);
    return s;
  }
  const int rank = static_cast<int>(x.size());
  const int axis = normalize_axis(node, attr_int(node, "axis", 1), rank);
  for (int d = 0; d < rank; ++d) (d < axis ? l.outer : d > axis ? l.inner : l.axis_len) *= x[d];
  l.per_tensor = false;
  l.block = attr_int(node, "block_size", 0);
  if (l.block < 0) fail_node(node, "attribute 'block_size' must not be negative, got {}", l.block);
  bool ok;
  if (l.block == 0) {
    ok = scale.size() == 1 && scale[0] == x[axis];
  } else {
    ok = static_cast<int>(scale.size()) == rank;
    for (int d = 0; ok && d < rank; ++d) ok = scale[d] == (d == axis ? (x[d] + l.block - 1) / l.block : x[d]);
  }
  if (!ok)
    fail_node(node, "scale shape {} does not fit x {} with axis {} and block_size {}", shape_str(scale), shape_str(x),
              axis, l.block);
  return s;
}

int32_t fake_quant_zero_point(const Tensor& zp, int64_t k, int32_t qmin, int32_t qmax) {
  if (zp.empty()) return 0;
  int64_t z = 0;
  switch (zp.dtype()) {
    case DType::f32: {
      const float v = zp.data<float>()[k];
      z = std::isfinite(v) ? static_cast<int64_t>(std::fmax(std::fmin(quant::round_half_even(v), 1e9f), -1e9f)) : 0;
      break;
    }
    case DType::u8: z = zp.data<uint8_t>()[k]; break;
    case DType::s8: z = zp.data<int8_t>()[k]; break;
    case DType::s32: z = zp.data<int32_t>()[k]; break;
    case DType::s4: z = quant::unpack_s4(static_cast<const uint8_t*>(zp.raw()), k); break;
    case DType::u4: z = quant::unpack_u4(static_cast<const uint8_t*>(zp.raw()), k); break;
    default: QF_CHECK(false, "FakeQuant zero point dtype");
  }
  return static_cast<int32_t>(std::clamp<int64_t>(z, qmin, qmax));
}

void fake_quant_forward(const ir::Node& node, const Tensor& x, const Tensor& scale, const Tensor& zp, Tensor& y) {
  const FakeQuantSpec s = fake_quant_spec(node, x.shape(), scale.shape(), zp.empty() ? nullptr : &zp.shape());
  const float* sc = scale.data<float>();
  for (int64_t k = 0; k < scale.numel(); ++k)
    if (!(sc[k] > 0) || !std::isfinite(sc[k])) fail_node(node, "scale[{}] = {} is not a positive number", k, sc[k]);
  const FakeQuantLayout& l = s.layout;
  const float* in = x.data<float>();
  float* out = y.data<float>();
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t a = 0; a < l.axis_len; ++a) {
      const int64_t base = (o * l.axis_len + a) * l.inner;
      if (l.block == 0) {  // one scale for the whole row
        const int64_t si = l.scale_index(o, a, 0);
        const float sv = sc[si];
        const int32_t z = fake_quant_zero_point(zp, si, s.qmin, s.qmax);
        for (int64_t i = 0; i < l.inner; ++i) out[base + i] = quant::fake_quantize_value(in[base + i], sv, z, s.qmin, s.qmax);
        continue;
      }
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t si = l.scale_index(o, a, i);
        out[base + i] = quant::fake_quantize_value(in[base + i], sc[si], fake_quant_zero_point(zp, si, s.qmin, s.qmax),
                                                   s.qmin, s.qmax);
      }
    }
}

namespace {

bool is_f32(DType d) { return d == DType::f32; }
bool zero_point_dtype(DType d) {
  return d == DType::f32 || d == DType::u8 || d == DType::s8 || d == DType::s32 || d == DType::s4 || d == DType::u4;
}

std::vector<TypeShape> infer_fake_quant(const InferCtx& c) {
  if (c.num_inputs() < 2 || c.num_inputs() > 3) fail_node(c.node, "expects 2 or 3 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "x", is_f32);
  require_dtype(c, 1, "scale", is_f32);
  if (c.has_input(2)) require_dtype(c, 2, "zero_point", zero_point_dtype);
  if (c.in(0).fully_known() && c.in(1).fully_known()) {
    Shape zp;
    const bool has_zp = c.has_input(2) && c.in(2).fully_known();
    if (has_zp) zp = c.in(2).concrete();
    fake_quant_spec(c.node, c.in(0).concrete(), c.in(1).concrete(), has_zp ? &zp : nullptr);
  }
  return shape_of_input(c, 0, DType::f32);
}

void compute_fake_quant(KernelCtx& k) {
  fake_quant_forward(k.node, k.inputs[0], k.inputs[1], k.has_input(2) ? k.inputs[2] : Tensor(), k.outputs[0]);
}

}  // namespace

void register_ops_fake_quant(std::vector<OpDef>& ops) {
  ops.push_back({kFakeQuantOp, kFakeQuantDomain, infer_fake_quant, compute_fake_quant});
}

}  // namespace qforge::runtime
