// Gemm and MatMul backward.
//   Gemm  Y = α·A'·B' + β·C  (A' = transA ? Aᵀ : A, B' likewise; C broadcast to [M, N]):
//     dA' = α·dY·B'ᵀ   dB' = α·A'ᵀ·dY   dC = β·Σ_broadcast dY
//   MatMul Y[b] = A[b]·B[b] over broadcast batch dims (1-D A is [1, K], 1-D B is [K, 1]):
//     dA[b_A] += dY[b]·B[b]ᵀ   dB[b_B] += A[b]ᵀ·dY[b]   (summed over the batches broadcast onto one)
#include "runtime/ops/infer_util.h"
#include "train/backward_rules.h"
#include "train/grad_util.h"

namespace qforge::train {

namespace {

void require_f32(const BackwardCtx& c, size_t n) {
  for (size_t i = 0; i < n && i < c.inputs.size(); ++i)
    if (c.has_input(i) && c.inputs[i].dtype() != DType::f32)
      fail_input("{}: training needs float32 inputs, input {} is {}", c.node.describe(), i,
                 dtype_name(c.inputs[i].dtype()));
}

void scale(Tensor& t, float s) {
  if (s != 1.f)
    for (float& v : t.span<float>()) v *= s;
}

}  // namespace

void backward_gemm(BackwardCtx& c) {
  require_f32(c, 3);
  const Tensor& a = c.inputs[0];
  const Tensor& b = c.inputs[1];
  const Tensor& dy = c.grad_outputs[0];
  const bool ta = c.node.attr_i("transA", 0) != 0, tb = c.node.attr_i("transB", 0) != 0;
  const float alpha = c.node.attr_f("alpha", 1.f), beta = c.node.attr_f("beta", 1.f);
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1);
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  const float* d = dy.data<float>();
  const MatView a_(ta ? MatView{ap, 1, M} : MatView{ap, K, 1});   // A'  [M×K]
  const MatView b_(tb ? MatView{bp, 1, K} : MatView{bp, N, 1});   // B'  [K×N]
  if (c.wants(0)) {
    Tensor da = zeros_like(a);
    if (!ta) matmul_f32(M, K, N, {d, N, 1}, {b_.p, b_.cs, b_.rs}, da.data<float>(), false, c.threads);
    else matmul_f32(K, M, N, b_, {d, 1, N}, da.data<float>(), false, c.threads);
    scale(da, alpha);
    c.grad_inputs[0] = da;
  }
  if (c.wants(1)) {
    Tensor db = zeros_like(b);
    if (!tb) matmul_f32(K, N, M, {a_.p, a_.cs, a_.rs}, {d, N, 1}, db.data<float>(), false, c.threads);
    else matmul_f32(N, K, M, {d, 1, N}, a_, db.data<float>(), false, c.threads);
    scale(db, alpha);
    c.grad_inputs[1] = db;
  }
  if (c.wants(2) && c.has_input(2)) {
    Tensor dc = zeros_like(c.inputs[2]);
    reduce_broadcast_f32(dy.shape(), d, nullptr, {}, c.inputs[2].shape(), dc.data<float>());
    scale(dc, beta);
    c.grad_inputs[2] = dc;
  }
}

void backward_matmul(BackwardCtx& c) {
  require_f32(c, 2);
  const Tensor& a = c.inputs[0];
  const Tensor& b = c.inputs[1];
  Shape sa = a.shape(), sb = b.shape();
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  const Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  const Shape bo = runtime::broadcast_shapes(c.node, ba, bb);
  const std::vector<int64_t> as = broadcast_strides(ba, bo), bs = broadcast_strides(bb, bo);
  const int64_t batches = shape_numel(bo);
  Tensor da = c.wants(0) ? zeros_like(a) : Tensor();
  Tensor db = c.wants(1) ? zeros_like(b) : Tensor();
  const float* d = c.grad_outputs[0].data<float>();
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t ao = 0, bo_ = 0, rem = bi;
    for (size_t k = bo.size(); k-- > 0;) {
      const int64_t ix = rem % bo[k];
      rem /= bo[k];
      ao += ix * as[k];
      bo_ += ix * bs[k];
    }
    const float* dyb = d + bi * M * N;
    const float* ap = a.data<float>() + ao * M * K;
    const float* bp = b.data<float>() + bo_ * K * N;
    if (c.wants(0)) matmul_f32(M, K, N, {dyb, N, 1}, {bp, 1, N}, da.data<float>() + ao * M * K, true, c.threads);
    if (c.wants(1)) matmul_f32(K, N, M, {ap, 1, K}, {dyb, N, 1}, db.data<float>() + bo_ * K * N, true, c.threads);
  }
  if (c.wants(0)) c.grad_inputs[0] = da;
  if (c.wants(1)) c.grad_inputs[1] = db;
}

}  // namespace qforge::train
