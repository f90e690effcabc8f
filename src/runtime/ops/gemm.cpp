// Gemm, MatMul (numpy semantics: 1-D operands, batch broadcasting) and qforge.MatMulBias (MatMul +
// Add of a per-column bias, created by the fuse_matmul_add pass). The reference runs at ISA level
// ref; otherwise the SGEMM table's kernel, with a constant B packed once in prepare.
#include <algorithm>
#include <memory>

#include "core/cpu.h"
#include "runtime/kernels/reference/gemm_ref.h"
#include "runtime/kernels/sgemm.h"
#include "runtime/ops/conv_attrs.h"
#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

namespace {

// B packed for one kernel, with alpha folded in.
struct PackedB {
  const SgemmKernel* kernel = nullptr;
  size_t K = 0, N = 0;
  float scale = 1.f;
  std::shared_ptr<std::byte> buf;
  const float* data() const { return reinterpret_cast<const float*>(buf.get()); }
};

std::shared_ptr<PackedB> pack_constant_b(size_t K, size_t N, const float* b, size_t rs, size_t cs, float scale) {
  const Isa isa = active_isa();
  if (isa == Isa::ref) return nullptr;
  auto p = std::make_shared<PackedB>();
  p->kernel = &sgemm_kernel(isa);
  p->K = K, p->N = N, p->scale = scale;
  const size_t floats = sgemm_packed_b_floats(*p->kernel, K, N);
  p->buf = alloc_aligned(std::max<size_t>(floats, 1) * sizeof(float));
  sgemm_pack_b(*p->kernel, K, N, b, rs, cs, scale, reinterpret_cast<float*>(p->buf.get()), 0,
               (N + p->kernel->nr - 1) / p->kernel->nr);
  return p;
}

// The packed B to use, or nullptr when it must be packed per call (kernel changed by set_isa).
const PackedB* usable(const void* state, const SgemmKernel& k, size_t K, size_t N, float scale) {
  const auto* p = static_cast<const PackedB*>(state);
  return p && p->kernel == &k && p->K == K && p->N == N && p->scale == scale ? p : nullptr;
}

void check_f32(const InferCtx& c, size_t i, const char* what) {
  if (c.has_input(i) && c.in(i).dtype != DType::f32 && c.in(i).dtype != DType::undefined)
    fail_node(c.node, "{} has dtype {}, only f32 is supported", what, dtype_name(c.in(i).dtype));
}

// ---- MatMul ---------------------------------------------------------------------------------

std::vector<TypeShape> infer_matmul(const InferCtx& c) {
  require_input(c, 0, "A");
  require_input(c, 1, "B");
  check_f32(c, 0, "A");
  check_f32(c, 1, "B");
  const TypeShape& a = c.in(0);
  const TypeShape& b = c.in(1);
  if (!a.has_shape || !b.has_shape) return {TypeShape::unknown_rank(DType::f32)};
  if (a.rank() == 0 || b.rank() == 0) fail_node(c.node, "MatMul operands must have rank >= 1");
  const ir::Dim ka = a.dims.back();
  const ir::Dim kb = b.rank() == 1 ? b.dims[0] : b.dims[b.rank() - 2];
  if (ka.is_known() && kb.is_known() && ka.value != kb.value)
    fail_node(c.node, "inner dimensions differ: A has {}, B has {}", ka.value, kb.value);
  TypeShape ab{DType::f32, true, {}}, bb{DType::f32, true, {}};
  if (a.rank() > 2) ab.dims.assign(a.dims.begin(), a.dims.end() - 2);
  if (b.rank() > 2) bb.dims.assign(b.dims.begin(), b.dims.end() - 2);
  TypeShape out = broadcast(c.node, {&ab, &bb}, DType::f32);
  if (a.rank() >= 2) out.dims.push_back(a.dims[a.rank() - 2]);
  if (b.rank() >= 2) out.dims.push_back(b.dims.back());
  if (c.has_input(2) && c.in(2).has_shape) {  // MatMulBias
    check_f32(c, 2, "bias");
    const TypeShape& bias = c.in(2);
    const ir::Dim n = b.rank() >= 2 ? b.dims.back() : ir::Dim::known(1);
    if (bias.rank() != 1 || (n.is_known() && bias.dims[0].is_known() && bias.dims[0].value != n.value))
      fail_node(c.node, "bias must be 1-D with one value per output column");
  }
  return {out};
}

struct MatMulDims {
  size_t M = 1, N = 1, K = 1;
  bool b_is_matrix = false;  // B has no batch axes: every batch shares it
  std::vector<std::pair<size_t, size_t>> offsets;  // per output batch: element offset of A, B
};

MatMulDims matmul_dims(const ir::Node& node, const Shape& as, const Shape& bs) {
  MatMulDims d;
  Shape a = as, b = bs;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  d.M = static_cast<size_t>(a[a.size() - 2]);
  d.K = static_cast<size_t>(a.back());
  d.N = static_cast<size_t>(b.back());
  d.b_is_matrix = b.size() == 2;
  const Shape abatch(a.begin(), a.end() - 2), bbatch(b.begin(), b.end() - 2);
  const Shape out = broadcast_shapes(node, abatch, bbatch);
  const size_t r = out.size();
  auto strides = [&](const Shape& s, size_t mat) {
    std::vector<size_t> st(r, 0);
    size_t acc = mat;
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t axis = r - 1 - i, src = s.size() - 1 - i;
      st[axis] = s[src] == 1 ? 0 : acc;
      acc *= static_cast<size_t>(s[src]);
    }
    return st;
  };
  const std::vector<size_t> sa = strides(abatch, d.M * d.K), sb = strides(bbatch, d.K * d.N);
  const size_t count = static_cast<size_t>(shape_numel(out));
  std::vector<int64_t> idx(r, 0);
  for (size_t t = 0; t < count; ++t) {
    size_t oa = 0, ob = 0;
    for (size_t i = 0; i < r; ++i) oa += static_cast<size_t>(idx[i]) * sa[i], ob += static_cast<size_t>(idx[i]) * sb[i];
    d.offsets.emplace_back(oa, ob);
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < out[i]) break;
      idx[i] = 0;
    }
  }
  return d;
}

std::shared_ptr<void> prepare_matmul(const ir::Node& node, std::span<const Tensor* const> consts) {
  const Tensor* b = consts.size() > 1 ? consts[1] : nullptr;
  if (!b || b->dtype() != DType::f32 || b->rank() != 2) return nullptr;
  const size_t K = static_cast<size_t>(b->dim(0)), N = static_cast<size_t>(b->dim(1));
  return pack_constant_b(K, N, b->data<float>(), N, 1, 1.f);
}

void compute_matmul(KernelCtx& ctx) {
  const Tensor& at = ctx.inputs[0];
  const Tensor& bt = ctx.inputs[1];
  Tensor& yt = ctx.outputs[0];
  const MatMulDims d = matmul_dims(ctx.node, at.shape(), bt.shape());
  const float* a = at.data<float>();
  const float* b = bt.data<float>();
  float* y = yt.data<float>();
  const float* bias = ctx.has_input(2) ? ctx.inputs[2].data<float>() : nullptr;
  const FusedActivation act = fused_activation_of(ctx.node);
  if (yt.numel() == 0) return;
  const size_t batches = d.offsets.size(), MN = d.M * d.N;
  const Isa isa = active_isa();
  if (isa == Isa::ref) {
    for (size_t t = 0; t < batches; ++t) {
      float* yb = y + t * MN;
      gemm_f32__ref(d.M, d.N, d.K, 1.f, a + d.offsets[t].first, d.K, 1, b + d.offsets[t].second, d.N, 1, 0.f, yb, d.N);
      for (size_t i = 0; i < MN; ++i) yb[i] = act.apply(bias ? yb[i] + bias[i % d.N] : yb[i]);
    }
    return;
  }
  const SgemmKernel& k = sgemm_kernel(isa);
  SgemmEpilogue ep;
  ep.bias = bias;
  ep.act = act;
  if (d.b_is_matrix) {
    // Every batch shares B: one product with all batches' rows stacked (A's rows are contiguous
    // when A's batch axes are not broadcast, which holds when B has none).
    const size_t rows = static_cast<size_t>(at.numel()) / d.K;
    if (const PackedB* p = usable(ctx.state, k, d.K, d.N, 1.f)) {
      sgemm_packed(k, rows, d.N, d.K, SgemmA{a, d.K, 1}, p->data(), y, d.N, false, ep, ctx.threads);
    } else {
      sgemm(k, rows, d.N, d.K, SgemmA{a, d.K, 1}, b, d.N, 1, y, d.N, false, ep, ctx.threads);
    }
    return;
  }
  if (batches >= static_cast<size_t>(ctx.threads) || MN * d.K < 65536) {
    const int nt = static_cast<int>(std::min<size_t>(ctx.threads, batches));
    const bool parallel = nt > 1 && batches * MN * d.K >= 65536;
#pragma omp parallel for num_threads(nt) schedule(static) if (parallel)
    for (int64_t t = 0; t < static_cast<int64_t>(batches); ++t) {
      const auto [oa, ob] = d.offsets[static_cast<size_t>(t)];
      float* bp = sgemm_scratch(sgemm_packed_b_floats(k, d.K, d.N), 1);
      sgemm_pack_b(k, d.K, d.N, b + ob, d.N, 1, 1.f, bp, 0, (d.N + k.nr - 1) / k.nr);
      sgemm_block(k, d.M, d.N, d.K, SgemmA{a + oa, d.K, 1}, bp, y + static_cast<size_t>(t) * MN, d.N, false, ep);
    }
  } else {
    for (size_t t = 0; t < batches; ++t)
      sgemm(k, d.M, d.N, d.K, SgemmA{a + d.offsets[t].first, d.K, 1}, b + d.offsets[t].second, d.N, 1,
            y + t * MN, d.N, false, ep, ctx.threads);
  }
}

// ---- Gemm -----------------------------------------------------------------------------------

struct GemmDims {
  size_t M, N, K;
  bool ta, tb;
};

GemmDims gemm_dims(const ir::Node& node, const Shape& a, const Shape& b) {
  GemmDims d;
  d.ta = node.attr_i("transA", 0) != 0;
  d.tb = node.attr_i("transB", 0) != 0;
  d.M = static_cast<size_t>(d.ta ? a[1] : a[0]);
  d.K = static_cast<size_t>(d.ta ? a[0] : a[1]);
  d.N = static_cast<size_t>(d.tb ? b[0] : b[1]);
  return d;
}

std::vector<TypeShape> infer_gemm(const InferCtx& c) {
  require_input(c, 0, "A");
  require_input(c, 1, "B");
  check_f32(c, 0, "A");
  check_f32(c, 1, "B");
  check_f32(c, 2, "C");
  const TypeShape& a = c.in(0);
  const TypeShape& b = c.in(1);
  const bool ta = c.node.attr_i("transA", 0) != 0, tb = c.node.attr_i("transB", 0) != 0;
  if (a.has_shape && a.rank() != 2) fail_node(c.node, "A has rank {}, expected 2", a.rank());
  if (b.has_shape && b.rank() != 2) fail_node(c.node, "B has rank {}, expected 2", b.rank());
  ir::Dim m, n;
  if (a.has_shape) m = a.dims[ta ? 1 : 0];
  if (b.has_shape) n = b.dims[tb ? 0 : 1];
  if (a.has_shape && b.has_shape) {
    const ir::Dim ka = a.dims[ta ? 0 : 1], kb = b.dims[tb ? 1 : 0];
    if (ka.is_known() && kb.is_known() && ka.value != kb.value)
      fail_node(c.node, "inner dimensions differ: A gives {}, B gives {}", ka.value, kb.value);
  }
  if (c.has_input(2) && c.in(2).has_shape) {
    const TypeShape& cc = c.in(2);
    if (cc.rank() > 2) fail_node(c.node, "C has rank {}, expected at most 2", cc.rank());
    const ir::Dim* want[2] = {&m, &n};
    for (int i = 0; i < cc.rank(); ++i) {
      const ir::Dim& d = cc.dims[i];
      const ir::Dim& t = *want[2 - cc.rank() + i];
      if (d.is_known() && d.value != 1 && t.is_known() && d.value != t.value)
        fail_node(c.node, "C cannot be broadcast to [M, N]: axis {} is {}, expected 1 or {}", i, d.value, t.value);
    }
  }
  return {TypeShape{DType::f32, true, {m, n}}};
}

std::shared_ptr<void> prepare_gemm(const ir::Node& node, std::span<const Tensor* const> consts) {
  const Tensor* b = consts.size() > 1 ? consts[1] : nullptr;
  if (!b || b->dtype() != DType::f32 || b->rank() != 2) return nullptr;
  const bool tb = node.attr_i("transB", 0) != 0;
  const size_t K = static_cast<size_t>(tb ? b->dim(1) : b->dim(0)), N = static_cast<size_t>(tb ? b->dim(0) : b->dim(1));
  const float alpha = node.attr_f("alpha", 1.f);
  return tb ? pack_constant_b(K, N, b->data<float>(), 1, K, alpha)
            : pack_constant_b(K, N, b->data<float>(), N, 1, alpha);
}

// y[m][n] = scale · C broadcast to [M, N].
void fill_broadcast_c(const Tensor& c, size_t M, size_t N, float scale, float* y) {
  const float* cv = c.data<float>();
  const size_t rows = c.rank() == 2 ? static_cast<size_t>(c.dim(0)) : 1;
  const size_t cols = c.rank() >= 1 ? static_cast<size_t>(c.dim(-1)) : 1;
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) y[m * N + n] = scale * cv[(rows == 1 ? 0 : m) * cols + (cols == 1 ? 0 : n)];
}

void compute_gemm(KernelCtx& ctx) {
  const Tensor& at = ctx.inputs[0];
  const Tensor& bt = ctx.inputs[1];
  Tensor& yt = ctx.outputs[0];
  const GemmDims d = gemm_dims(ctx.node, at.shape(), bt.shape());
  const float alpha = ctx.node.attr_f("alpha", 1.f), beta = ctx.node.attr_f("beta", 1.f);
  const bool has_c = ctx.has_input(2) && beta != 0.f;
  const FusedActivation act = fused_activation_of(ctx.node);
  const float* a = at.data<float>();
  const float* b = bt.data<float>();
  float* y = yt.data<float>();
  if (yt.numel() == 0) return;
  const size_t a_rs = d.ta ? 1 : d.K, a_cs = d.ta ? d.M : 1;
  const size_t b_rs = d.tb ? 1 : d.N, b_cs = d.tb ? d.K : 1;
  const Isa isa = active_isa();
  if (isa == Isa::ref) {
    if (has_c) fill_broadcast_c(ctx.inputs[2], d.M, d.N, 1.f, y);
    gemm_f32__ref(d.M, d.N, d.K, alpha, a, a_rs, a_cs, b, b_rs, b_cs, has_c ? beta : 0.f, y, d.N);
    act.apply(y, d.M * d.N);
    return;
  }
  const SgemmKernel& k = sgemm_kernel(isa);
  SgemmEpilogue ep;
  ep.act = act;
  bool accumulate = false;
  if (has_c) {
    const Tensor& c = ctx.inputs[2];
    const bool per_column = beta == 1.f && c.numel() == static_cast<int64_t>(d.N) && d.N > 1 &&
                            (c.rank() == 1 || (c.rank() == 2 && c.dim(0) == 1));
    if (per_column) {
      ep.bias = c.data<float>();
    } else {
      fill_broadcast_c(c, d.M, d.N, beta, y);
      accumulate = true;
    }
  }
  const PackedB* p = usable(ctx.state, k, d.K, d.N, alpha);
  const float* bp = p ? p->data() : nullptr;
  if (!p) {
    float* s = sgemm_scratch(sgemm_packed_b_floats(k, d.K, d.N), 0);
    sgemm_pack_b(k, d.K, d.N, b, b_rs, b_cs, alpha, s, 0, (d.N + k.nr - 1) / k.nr);
    bp = s;
  }
  sgemm_packed(k, d.M, d.N, d.K, SgemmA{a, a_rs, a_cs}, bp, y, d.N, accumulate, ep, ctx.threads);
}

}  // namespace

void register_ops_gemm(std::vector<OpDef>& ops) {
  ops.push_back({"Gemm", "", infer_gemm, compute_gemm, prepare_gemm});
  ops.push_back({"MatMul", "", infer_matmul, compute_matmul, prepare_matmul});
  ops.push_back({"MatMulBias", "qforge", infer_matmul, compute_matmul, prepare_matmul});
}

}  // namespace qforge::runtime
