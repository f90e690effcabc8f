// The quantized ops qforge's exports use besides QuantizeLinear / DequantizeLinear (quant/quantizer.h):
// DynamicQuantizeLinear and MatMulInteger (int8-dynamic preset, ONNX Runtime's quantize_dynamic form)
// and com.microsoft.MatMulBnb4 (nf4 preset, NF4 only; on the 4-bit kernels of kernels/w4gemm.h).
// Math: kernels/reference/quant_ext_ref.h.
#include <algorithm>
#include <memory>
#include <optional>

#include "quant/pack.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/quant_ext_ref.h"
#include "runtime/kernels/w4gemm.h"
#include "runtime/ops/ew_util.h"
#include "runtime/ops/qlinear.h"

namespace qforge::runtime {
namespace {

bool is_u8_or_s8(DType d) { return d == DType::u8 || d == DType::s8; }
bool is_f32(DType d) { return d == DType::f32; }

// ---- DynamicQuantizeLinear ------------------------------------------------------------------

std::vector<TypeShape> infer_dynamic_quantize(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  require_dtype(c, 0, "x", is_f32);
  TypeShape y = shape_of_input(c, 0, DType::u8)[0];
  return {y, TypeShape::of(DType::f32, {}), TypeShape::of(DType::u8, {})};
}

void compute_dynamic_quantize(KernelCtx& k) {
  dynamic_quantize_linear_ref(k.inputs[0], k.outputs[0], k.outputs[1], k.outputs[2]);
}

// ---- MatMulInteger --------------------------------------------------------------------------
// A [..., M, K] (or [K]) and B [K, N], or A and B with the same batch dims.

std::vector<TypeShape> infer_matmul_integer(const InferCtx& c) {
  if (c.num_inputs() < 2 || c.num_inputs() > 4) fail_node(c.node, "expects 2 to 4 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "A", is_u8_or_s8);
  require_dtype(c, 1, "B", is_u8_or_s8);
  if (c.has_input(2)) require_same_dtype(c, 0, 2);
  if (c.has_input(3)) require_same_dtype(c, 1, 3);
  const TypeShape& a = c.in(0);
  const TypeShape& b = c.in(1);
  if (!a.has_shape || !b.has_shape) return {TypeShape::unknown_rank(DType::s32)};
  if (a.rank() == 0 || b.rank() < 2) fail_node(c.node, "A must have rank >= 1 and B rank >= 2");
  const ir::Dim ka = a.dims.back(), kb = b.dims[b.rank() - 2];
  if (ka.is_known() && kb.is_known() && ka.value != kb.value)
    fail_node(c.node, "inner dimensions differ: A has {}, B has {}", ka.value, kb.value);
  if (b.rank() > 2 && a.rank() != b.rank())
    fail_node(c.node, "a batched B needs A of the same rank (A rank {}, B rank {})", a.rank(), b.rank());
  TypeShape y{DType::s32, true, std::vector<ir::Dim>(a.dims.begin(), a.dims.end() - 1)};
  y.dims.push_back(b.dims.back());
  return {y};
}

std::vector<int32_t> zero_points(const Tensor& z, const ir::Node& node, const char* what, int64_t allowed) {
  if (z.empty()) return {};
  if (!(z.numel() == 1 || (z.rank() == 1 && z.dim(0) == allowed)))
    fail_node(node, "{} must be a scalar or 1-D of length {}, got shape {}", what, allowed, shape_str(z.shape()));
  std::vector<int32_t> v;
  for (int64_t i = 0; i < z.numel(); ++i) v.push_back(static_cast<int32_t>(z.at_i64(i)));
  return v;
}

// A constant 2-D s8 B whose zero point is absent or all zeros (what quantize_dynamic writes) is packed
// once for the int8 GEMM (kernels/qgemm.h): the product is exact int32, so equal to the reference.
struct MatMulIntegerState {
  QgemmPackedB packed;
  const QgemmKernel* kernel = nullptr;
};

std::shared_ptr<void> prepare_matmul_integer(const ir::Node&, std::span<const Tensor* const> consts) {
  if (consts.size() < 2 || !consts[1]) return nullptr;
  const Tensor& b = *consts[1];
  if (b.dtype() != DType::s8 || b.rank() != 2 || b.dim(0) > static_cast<int64_t>(kQgemmMaxK) || b.numel() == 0)
    return nullptr;
  if (consts.size() > 3 && consts[3]) {
    const Tensor& zb = *consts[3];
    for (int64_t i = 0; i < zb.numel(); ++i)
      if (zb.at_i64(i) != 0) return nullptr;
  } else if (consts.size() > 3) {
    return nullptr;  // a runtime b_zero_point: the reference handles it
  }
  auto st = std::make_shared<MatMulIntegerState>();
  const size_t K = static_cast<size_t>(b.dim(0)), N = static_cast<size_t>(b.dim(1));
  st->kernel = &qgemm_kernel(active_isa(), N);
  st->packed = pack_weights_s8(*st->kernel, K, N, b.data<int8_t>(), N, 1);
  return st;
}

// The packed path: A [..., K] with one scalar zero point (u8, or s8 shifted to u8).
bool matmul_integer_packed(KernelCtx& k) {
  const auto* st = static_cast<const MatMulIntegerState*>(k.state);
  const Tensor& a = k.inputs[0];
  if (!st || a.rank() == 0 || a.dim(-1) != static_cast<int64_t>(st->packed.K)) return false;
  int32_t zp = 0;
  if (k.has_input(2)) {
    if (k.inputs[2].numel() != 1) return false;
    zp = static_cast<int32_t>(k.inputs[2].at_i64(0));
  }
  static thread_local std::vector<uint8_t> tmp;
  const uint8_t* au = q_as_u8(a, tmp, zp, k.threads);
  const size_t rows = static_cast<size_t>(a.numel()) / st->packed.K;
  QgemmOutputStage out;  // s32, no bias
  qgemm_u8s8(*st->kernel, rows, au, st->packed.K, static_cast<uint8_t>(zp), st->packed, out,
             k.outputs[0].data<int32_t>(), st->packed.N, k.threads);
  return true;
}

void compute_matmul_integer(KernelCtx& k) {
  if (matmul_integer_packed(k)) return;
  const Tensor& a = k.inputs[0];
  const Tensor& b = k.inputs[1];
  const int64_t K = b.dim(-2), N = b.dim(-1);
  const int64_t M = a.rank() >= 2 ? a.dim(-2) : 1;
  if (b.rank() > 2) {
    for (int d = 0; d < a.rank() - 2; ++d)
      if (a.dim(d) != b.dim(d))
        fail_node(k.node, "batch dims of A {} and B {} differ", shape_str(a.shape()), shape_str(b.shape()));
  }
  const int64_t rows = b.rank() > 2 ? M : a.numel() / K;  // B shared: every row of A at once
  const int64_t batches = b.rank() > 2 ? a.numel() / (M * K) : 1;
  const std::vector<int32_t> za = zero_points(k.has_input(2) ? k.inputs[2] : Tensor{}, k.node, "a_zero_point",
                                              a.rank() == 2 ? M : 1);
  const std::vector<int32_t> zb = zero_points(k.has_input(3) ? k.inputs[3] : Tensor{}, k.node, "b_zero_point", N);
  const size_t ea = 1, eb = 1;  // bytes per element
  for (int64_t t = 0; t < batches; ++t)
    matmul_integer_ref(static_cast<const uint8_t*>(a.raw()) + t * rows * K * ea, a.dtype() == DType::s8,
                       static_cast<const uint8_t*>(b.raw()) + t * K * N * eb, b.dtype() == DType::s8, rows, N, K,
                       za.empty() ? nullptr : za.data(), static_cast<int64_t>(za.size()),
                       zb.empty() ? nullptr : zb.data(), static_cast<int64_t>(zb.size()),
                       k.outputs[0].data<int32_t>() + t * rows * N);
}

// ---- qforge.QDynGemm (runtime/lower/lower_dynamic.h) ---------------------------------------
// QDynGemm(a [..., K] u8/s8, a_scale f32 scalar, a_zp scalar (a's dtype), W s8 [K][N] const,
//          w_scale f32 [N] or scalar const [, bias f32 [N] const]) → y f32 [..., N]
//   y[m, n] = float(Σ_k (a − a_zp)·W[k, n]) · (a_scale · w_scale[n]) [+ bias[n]]

std::vector<TypeShape> infer_qdyngemm(const InferCtx& c) {
  if (c.num_inputs() < 5 || c.num_inputs() > 6) fail_node(c.node, "expects 5 or 6 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "a", is_u8_or_s8);
  require_dtype(c, 1, "a_scale", is_f32);
  require_same_dtype(c, 0, 2);
  require_dtype(c, 3, "W", [](DType d) { return d == DType::s8; });
  require_dtype(c, 4, "w_scale", is_f32);
  if (c.has_input(5)) require_dtype(c, 5, "bias", is_f32);
  const TypeShape& a = c.in(0);
  const TypeShape& w = c.in(3);
  if (!a.has_shape || !w.has_shape) return {TypeShape::unknown_rank(DType::f32)};
  if (a.rank() == 0 || w.rank() != 2) fail_node(c.node, "a must have rank >= 1 and W rank 2");
  if (a.dims.back().is_known() && w.dims[0].is_known() && a.dims.back().value != w.dims[0].value)
    fail_node(c.node, "inner dimensions differ: a has {}, W has {}", a.dims.back().value, w.dims[0].value);
  TypeShape y{DType::f32, true, std::vector<ir::Dim>(a.dims.begin(), a.dims.end() - 1)};
  y.dims.push_back(w.dims[1]);
  return {y};
}

struct QDynGemmState {
  MatMulIntegerState gemm;
  std::vector<float> w_scale, bias;  // [N]; bias empty when absent
};

std::shared_ptr<void> prepare_qdyngemm(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i = 3; i < k.size(); ++i)
    if (!k[i]) fail_node(node, "input {} must be a constant", i);
  const Tensor& w = *k[3];
  if (w.dim(0) > static_cast<int64_t>(kQgemmMaxK)) fail_node(node, "K = {} exceeds {}", w.dim(0), kQgemmMaxK);
  auto st = std::make_shared<QDynGemmState>();
  const size_t K = static_cast<size_t>(w.dim(0)), N = static_cast<size_t>(w.dim(1));
  st->gemm.kernel = &qgemm_kernel(active_isa(), N);
  st->gemm.packed = pack_weights_s8(*st->gemm.kernel, K, N, w.data<int8_t>(), N, 1);
  const Tensor& ws = *k[4];
  if (ws.numel() != 1 && ws.numel() != static_cast<int64_t>(N))
    fail_node(node, "w_scale has {} values, expected 1 or {}", ws.numel(), N);
  for (size_t n = 0; n < N; ++n) st->w_scale.push_back(ws.data<float>()[ws.numel() == 1 ? 0 : n]);
  if (k.size() > 5 && k[5]) {
    if (k[5]->numel() != static_cast<int64_t>(N)) fail_node(node, "bias has {} values, expected {}", k[5]->numel(), N);
    st->bias.assign(k[5]->data<float>(), k[5]->data<float>() + N);
  }
  return st;
}

void compute_qdyngemm(KernelCtx& k) {
  const auto& st = *static_cast<const QDynGemmState*>(k.state);
  const Tensor& a = k.inputs[0];
  const size_t K = st.gemm.packed.K, N = st.gemm.packed.N;
  if (k.inputs[1].numel() != 1 || k.inputs[2].numel() != 1) fail_node(k.node, "a_scale and a_zp must be scalars");
  const float a_scale = k.inputs[1].data<float>()[0];
  static thread_local std::vector<float> scale;
  scale.resize(N);
  for (size_t n = 0; n < N; ++n) scale[n] = a_scale * st.w_scale[n];  // Mul(a_scale, w_scale)
  int32_t zp = static_cast<int32_t>(k.inputs[2].at_i64(0));
  static thread_local std::vector<uint8_t> tmp;
  const uint8_t* au = q_as_u8(a, tmp, zp, k.threads);
  QgemmOutputStage out;
  out.type = QgemmOut::f32;
  out.scale = scale.data();
  out.bias_f32 = st.bias.empty() ? nullptr : st.bias.data();
  qgemm_u8s8(*st.gemm.kernel, static_cast<size_t>(a.numel()) / K, au, K, static_cast<uint8_t>(zp), st.gemm.packed, out,
             k.outputs[0].data<float>(), N, k.threads);
}

// ---- qforge.W4MatMul (runtime/lower/lower_weight_only.h) -----------------------------------
// W4MatMul(x f32 [..., K], W_q s4/u4 2-D const, scale f32 const, [zero_point const], [C f32 const])
// attributes trans_b (W_q [N][K] when 1, [K][N] when 0), block_size (along K), beta (C's factor).

struct W4Dims {
  int64_t K, N, block, blocks;
  bool trans_b;
};

W4Dims w4_dims(const ir::Node& node, const Shape& w) {
  if (w.size() != 2) fail_node(node, "W must be 2-D, got {}", shape_str(w));
  W4Dims d;
  d.trans_b = attr_int(node, "trans_b", 0) != 0;
  d.K = w[d.trans_b ? 1 : 0];
  d.N = w[d.trans_b ? 0 : 1];
  d.block = attr_int(node, "block_size", 0);
  if (d.block <= 0 || d.block % 8 != 0) fail_node(node, "block_size {} is not a positive multiple of 8", d.block);
  d.blocks = (d.K + d.block - 1) / d.block;
  return d;
}

std::vector<TypeShape> infer_w4matmul(const InferCtx& c) {
  if (c.num_inputs() < 3 || c.num_inputs() > 5) fail_node(c.node, "expects 3 to 5 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "x", is_f32);
  require_dtype(c, 1, "W", [](DType d) { return d == DType::s4 || d == DType::u4; });
  require_dtype(c, 2, "scale", is_f32);
  const TypeShape& x = c.in(0);
  const TypeShape& w = c.in(1);
  if (!x.has_shape || !w.fully_known()) return {TypeShape::unknown_rank(DType::f32)};
  const W4Dims d = w4_dims(c.node, w.concrete());
  if (x.rank() == 0) fail_node(c.node, "x must have rank >= 1");
  if (x.dims.back().is_known() && x.dims.back().value != d.K)
    fail_node(c.node, "x's last dimension {} differs from K {}", x.dims.back().value, d.K);
  TypeShape y{DType::f32, true, std::vector<ir::Dim>(x.dims.begin(), x.dims.end() - 1)};
  y.dims.push_back(ir::Dim::known(d.N));
  return {y};
}

struct W4MatMulState {
  W4Packed packed;
  std::vector<float> bias;  // beta · C per column; empty without C
};

std::shared_ptr<void> prepare_w4matmul(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i = 1; i < k.size(); ++i)
    if (!k[i] && !node.input(i).empty()) fail_node(node, "input {} must be a constant", i);
  const Tensor& w = *k[1];
  const Tensor& scale = *k[2];
  const Tensor* zp = k.size() > 3 ? k[3] : nullptr;
  const W4Dims d = w4_dims(node, w.shape());
  if (scale.numel() != d.N * d.blocks || (zp && zp->numel() != d.N * d.blocks))
    fail_node(node, "scale / zero point have {} / {} values, expected {} (N {} x {} blocks)", scale.numel(),
              zp ? zp->numel() : 0, d.N * d.blocks, d.N, d.blocks);
  if (zp && zp->dtype() != w.dtype()) fail_node(node, "zero point dtype differs from W's");
  const bool s4 = w.dtype() == DType::s4;
  float lut[16];
  if (s4) w4_lut_s4(lut);
  else w4_lut_u4(lut);
  const auto* codes = w.data<uint8_t>();
  const float* sc = scale.data<float>();
  auto index = [&](int64_t k, int64_t n) { return d.trans_b ? n * d.K + k : k * d.N + n; };
  auto param = [&](int64_t b, int64_t n) { return d.trans_b ? n * d.blocks + b : b * d.N + n; };
  auto st = std::make_shared<W4MatMulState>();
  st->packed = pack_w4(
      d.K, d.N, d.block, lut, [&](int64_t k, int64_t n) { return quant::unpack_u4(codes, index(k, n)); },
      [&](int64_t b, int64_t n) { return sc[param(b, n)]; },
      [&](int64_t b, int64_t n) -> float {
        if (!zp) return 0.f;
        const auto* z = zp->data<uint8_t>();
        return static_cast<float>(s4 ? quant::unpack_s4(z, param(b, n)) : quant::unpack_u4(z, param(b, n)));
      });
  if (k.size() > 4 && k[4]) {
    const Tensor& c = *k[4];
    if (c.dtype() != DType::f32 || (c.numel() != 1 && c.numel() != d.N))
      fail_node(node, "C must be f32 with 1 or {} values", d.N);
    const float beta = node.attr_f("beta", 1.0f);
    for (int64_t n = 0; n < d.N; ++n) st->bias.push_back(beta * c.data<float>()[c.numel() == 1 ? 0 : n]);
  }
  return st;
}

void compute_w4matmul(KernelCtx& k) {
  const auto& st = *static_cast<const W4MatMulState*>(k.state);
  const Tensor& x = k.inputs[0];
  const int64_t rows = x.numel() / st.packed.K, N = st.packed.N;
  float* y = k.outputs[0].data<float>();
  w4gemm_f32(w4gemm_kernel(), st.packed, x.data<float>(), rows, y, k.threads);
  if (st.bias.empty()) return;
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < N; ++n) y[m * N + n] += st.bias[n];
}

// ---- com.microsoft.MatMulBnb4 ---------------------------------------------------------------

struct Bnb4Attrs {
  int64_t K, N, block;
};

Bnb4Attrs bnb4_attrs(const ir::Node& n) {
  Bnb4Attrs a{attr_int(n, "K", -1), attr_int(n, "N", -1), attr_int(n, "block_size", -1)};
  if (a.K <= 0 || a.N <= 0) fail_node(n, "attributes K and N must be positive (K {}, N {})", a.K, a.N);
  if (a.block < 16 || (a.block & (a.block - 1))) fail_node(n, "block_size {} is not a power of two >= 16", a.block);
  if (attr_int(n, "quant_type", 1) != 1) fail_node(n, "quant_type {} is not supported (1 = NF4 only)", attr_int(n, "quant_type", 1));
  return a;
}

void check_bnb4_inputs(const ir::Node& n, const Bnb4Attrs& at, const Shape& b, const Shape& absmax) {
  const int64_t numel = at.K * at.N;
  if (b.size() != 1 || b[0] != (numel + 1) / 2)
    fail_node(n, "B must be 1-D of {} bytes for K {} x N {}, got shape {}", (numel + 1) / 2, at.K, at.N, shape_str(b));
  if (absmax.size() != 1 || absmax[0] != (numel + at.block - 1) / at.block)
    fail_node(n, "absmax must be 1-D of {} values, got shape {}", (numel + at.block - 1) / at.block, shape_str(absmax));
}

std::vector<TypeShape> infer_matmul_bnb4(const InferCtx& c) {
  if (c.num_inputs() != 3) fail_node(c.node, "expects 3 inputs, got {}", c.num_inputs());
  require_dtype(c, 0, "A", is_f32);
  require_dtype(c, 1, "B", [](DType d) { return d == DType::u8; });
  require_dtype(c, 2, "absmax", is_f32);
  const Bnb4Attrs at = bnb4_attrs(c.node);
  if (c.in(1).fully_known() && c.in(2).fully_known())
    check_bnb4_inputs(c.node, at, c.in(1).concrete(), c.in(2).concrete());
  const TypeShape& a = c.in(0);
  if (!a.has_shape) return {TypeShape::unknown_rank(DType::f32)};
  if (a.rank() == 0) fail_node(c.node, "A must have rank >= 1");
  if (a.dims.back().is_known() && a.dims.back().value != at.K)
    fail_node(c.node, "A's last dimension {} differs from K {}", a.dims.back().value, at.K);
  TypeShape y{DType::f32, true, std::vector<ir::Dim>(a.dims.begin(), a.dims.end() - 1)};
  y.dims.push_back(ir::Dim::known(at.N));
  return {y};
}

// Pre-packed for the 4-bit kernels (kernels/w4gemm.h) when every block lies inside one column of W
// (K a multiple of block_size); otherwise the dequantized float weight.
struct Bnb4State {
  std::optional<W4Packed> packed;
  Tensor w;
};

Bnb4State bnb4_state(const ir::Node& n, const Tensor& b, const Tensor& absmax) {
  const Bnb4Attrs at = bnb4_attrs(n);
  check_bnb4_inputs(n, at, b.shape(), absmax.shape());
  Bnb4State st;
  if (at.K % at.block != 0) {
    st.w = dequantize_bnb4_nf4_ref(b.data<uint8_t>(), absmax.data<float>(), at.K, at.N, at.block);
    return st;
  }
  const uint8_t* codes = b.data<uint8_t>();
  const float* am = absmax.data<float>();
  const int64_t per_column = at.K / at.block;
  float lut[16];
  w4_lut_nf4(lut);
  st.packed = pack_w4(
      at.K, at.N, at.block, lut,
      [&](int64_t k, int64_t n) {  // element i = n·K + k; element 2j in the high nibble of byte j
        const int64_t i = n * at.K + k;
        return (codes[i / 2] >> (i % 2 ? 0 : 4)) & 0xF;
      },
      [&](int64_t blk, int64_t n) { return am[n * per_column + blk]; }, [](int64_t, int64_t) { return 0.f; });
  return st;
}

std::shared_ptr<void> prepare_matmul_bnb4(const ir::Node& n, std::span<const Tensor* const> consts) {
  if (consts.size() < 3 || !consts[1] || !consts[2]) return nullptr;
  return std::make_shared<Bnb4State>(bnb4_state(n, *consts[1], *consts[2]));
}

void compute_matmul_bnb4(KernelCtx& k) {
  std::optional<Bnb4State> local;
  if (!k.state) local = bnb4_state(k.node, k.inputs[1], k.inputs[2]);
  const Bnb4State& st = k.state ? *static_cast<const Bnb4State*>(k.state) : *local;
  const float* a = k.inputs[0].data<float>();
  float* y = k.outputs[0].data<float>();
  if (st.packed) {
    w4gemm_f32(w4gemm_kernel(), *st.packed, a, k.inputs[0].numel() / st.packed->K, y, k.threads);
    return;
  }
  const int64_t K = st.w.dim(0), N = st.w.dim(1);
  const int64_t rows = k.inputs[0].numel() / K;
  const float* wd = st.w.data<float>();
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float acc = 0;
      for (int64_t kk = 0; kk < K; ++kk) acc += a[m * K + kk] * wd[kk * N + n];
      y[m * N + n] = acc;
    }
}

}  // namespace

void register_ops_quant_ext(std::vector<OpDef>& ops) {
  ops.push_back({"DynamicQuantizeLinear", "", infer_dynamic_quantize, compute_dynamic_quantize});
  ops.push_back({"MatMulInteger", "", infer_matmul_integer, compute_matmul_integer, prepare_matmul_integer});
  ops.push_back({"QDynGemm", "qforge", infer_qdyngemm, compute_qdyngemm, prepare_qdyngemm});
  ops.push_back({"W4MatMul", "qforge", infer_w4matmul, compute_w4matmul, prepare_w4matmul});
  ops.push_back({"MatMulBnb4", "com.microsoft", infer_matmul_bnb4, compute_matmul_bnb4, prepare_matmul_bnb4});
}

}  // namespace qforge::runtime
