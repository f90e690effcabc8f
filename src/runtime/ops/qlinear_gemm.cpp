// qforge.QGemm (qlinear.h): the lowered QDQ Gemm / MatMul with a constant weight — y[r][n] =
// requantize(Σ_k (a[r][k] − a_zp) · B(k, n) + bias[n]) over the rows r of a viewed as [rows][K].
// Weights are packed once at prepare for the qgemm kernel of the active ISA; at ISA ref the
// reference GEMM reads them in place.
#include <memory>

#include "core/cpu.h"
#include "runtime/kernels/qgemm.h"
#include "runtime/kernels/reference/qgemm_ref.h"
#include "runtime/ops/infer_util.h"
#include "runtime/ops/qlinear.h"

namespace qforge::runtime {

namespace {

std::vector<TypeShape> infer_qgemm(const InferCtx& c) {
  if (c.num_inputs() < 7 || c.num_inputs() > 8) fail_node(c.node, "expects 7 or 8 inputs, got {}", c.num_inputs());
  require_q8(c, 0, "a");
  require_q8(c, 6, "y_zero_point");
  if (c.in(3).dtype != DType::s8) fail_node(c.node, "b must be s8");
  const DType out_t = c.in(6).dtype;
  const TypeShape& a = c.in(0);
  const TypeShape& b = c.in(3);
  if (!a.has_shape || !b.has_shape) return {TypeShape::unknown_rank(out_t)};
  if (a.rank() < 1 || b.rank() != 2) fail_node(c.node, "a must have rank >= 1 and b rank 2");
  const bool tb = c.node.attr_i("transB", 0) != 0;
  const ir::Dim& bk = b.dims[tb ? 1 : 0];
  const ir::Dim& ak = a.dims.back();
  if (ak.is_known() && bk.is_known() && ak.value != bk.value)
    fail_node(c.node, "a has K = {} but b has K = {}", ak.value, bk.value);
  TypeShape out{out_t, true, std::vector<ir::Dim>(a.dims.begin(), a.dims.end() - 1)};
  out.dims.push_back(b.dims[tb ? 0 : 1]);
  return {out};
}

struct QGemmState {
  Tensor b;
  size_t K = 0, N = 0, b_rs = 0, b_cs = 0;
  std::vector<float> scale;
  std::vector<int32_t> bias;
  QgemmOutputStage out;
  Isa isa = Isa::ref;
  const QgemmKernel* gemm = nullptr;
  QgemmPackedB packed;
};

std::shared_ptr<void> prepare_qgemm(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i = 1; i < k.size(); ++i)
    if (!k[i]) fail_node(node, "input {} must be a constant", i);
  auto s = std::make_shared<QGemmState>();
  s->b = *k[3];
  const bool tb = node.attr_i("transB", 0) != 0;
  s->K = static_cast<size_t>(s->b.dim(tb ? 1 : 0));
  s->N = static_cast<size_t>(s->b.dim(tb ? 0 : 1));
  s->b_rs = tb ? 1 : s->N;
  s->b_cs = tb ? s->K : 1;
  if (s->K == 0) fail_node(node, "K is 0");
  if (s->K > kQgemmMaxK) fail_node(node, "K = {} exceeds {}", s->K, kQgemmMaxK);
  const float as = q_scalar_f32(node, k[1], "a_scale"), ys = q_scalar_f32(node, k[5], "y_scale");
  const Tensor& bs = *k[4];
  if (bs.numel() != static_cast<int64_t>(s->N)) fail_node(node, "b_scale has {} values, expected {}", bs.numel(), s->N);
  for (size_t n = 0; n < s->N; ++n)
    s->scale.push_back(static_cast<float>(static_cast<double>(as) * bs.data<float>()[n] / ys));
  s->bias.assign(s->N, 0);
  if (k.size() > 7 && k[7]) {
    if (k[7]->dtype() != DType::s32 || k[7]->numel() != static_cast<int64_t>(s->N))
      fail_node(node, "bias must be s32 [{}]", s->N);
    for (size_t n = 0; n < s->N; ++n) s->bias[n] = k[7]->data<int32_t>()[n];
  }
  const DType out_t = k[6]->dtype();
  s->out.type = out_t == DType::u8 ? QgemmOut::u8 : QgemmOut::s8;
  s->out.zero_point = q_scalar_zp(node, k[6], "y_zero_point");
  q_clamp(node, out_t, s->out.qmin, s->out.qmax);
  s->out.scale = s->scale.data();
  s->out.bias = s->bias.data();
  s->isa = active_isa();
  s->gemm = &qgemm_kernel(s->isa, s->N);  // the tile that wastes the fewest columns
  if (s->isa != Isa::ref) s->packed = pack_weights_s8(*s->gemm, s->K, s->N, s->b.data<int8_t>(), s->b_rs, s->b_cs);
  return s;
}

void compute_qgemm(KernelCtx& k) {
  const auto& s = *static_cast<const QGemmState*>(k.state);
  const Tensor& a = k.inputs[0];
  static thread_local std::vector<uint8_t> tmp;
  int32_t a_zp = q_scalar_zp(k.node, &k.inputs[2], "a_zero_point");
  const uint8_t* au = q_as_u8(a, tmp, a_zp, k.threads);
  const size_t rows = static_cast<size_t>(a.numel()) / s.K;
  void* y = k.outputs[0].raw();
  if (rows == 0 || s.N == 0) return;
  if (s.isa == Isa::ref)
    qgemm_u8s8_s32__ref(rows, s.N, s.K, au, s.K, static_cast<uint8_t>(a_zp), s.b.data<int8_t>(), s.b_rs, s.b_cs,
                        s.out, y, s.N);
  else
    qgemm_u8s8(*s.gemm, rows, au, s.K, static_cast<uint8_t>(a_zp), s.packed, s.out, y, s.N, k.threads);
}

}  // namespace

void register_ops_qlinear_gemm(std::vector<OpDef>& ops) {
  ops.push_back({"QGemm", "qforge", infer_qgemm, compute_qgemm, prepare_qgemm});
}

}  // namespace qforge::runtime
