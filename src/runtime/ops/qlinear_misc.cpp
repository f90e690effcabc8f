// qforge.QLut, qforge.QAdd, qforge.QMul (qlinear.h), the helpers every qlinear op shares, and the
// registration of the whole family.
#include <algorithm>
#include <memory>

#include "core/cpu.h"
#include "quant/quantize.h"
#include "runtime/kernels/qbinary.h"
#include "runtime/kernels/qconv_layout.h"
#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/kernels/reference/quantize_ref.h"
#include "runtime/ops/ew_util.h"
#include "runtime/ops/infer_util.h"
#include "runtime/ops/qlinear.h"

namespace qforge::runtime {

bool is_q8(DType t) { return t == DType::u8 || t == DType::s8; }

void require_q8(const InferCtx& c, size_t i, const char* what) {
  if (!c.has_input(i)) fail_node(c.node, "input '{}' is missing", what);
  const DType t = c.in(i).dtype;
  if (t != DType::undefined && !is_q8(t)) fail_node(c.node, "{} has dtype {}, expected u8 or s8", what, dtype_name(t));
}

float q_scalar_f32(const ir::Node& node, const Tensor* t, const char* what) {
  if (!t || t->numel() != 1 || t->dtype() != DType::f32) fail_node(node, "{} must be one f32 value", what);
  return t->data<float>()[0];
}

int32_t q_scalar_zp(const ir::Node& node, const Tensor* t, const char* what) {
  if (!t || t->numel() != 1 || !is_q8(t->dtype())) fail_node(node, "{} must be one u8 or s8 value", what);
  return t->dtype() == DType::u8 ? t->data<uint8_t>()[0] : t->data<int8_t>()[0];
}

void q_clamp(const ir::Node& node, DType out, int32_t& qmin, int32_t& qmax) {
  const int32_t lo = quant_min(out), hi = quant_max(out);
  qmin = static_cast<int32_t>(node.attr_i("qforge.qmin", lo));
  qmax = static_cast<int32_t>(node.attr_i("qforge.qmax", hi));
  if (qmin < lo || qmax > hi || qmin > qmax)
    fail_node(node, "clamp [{}, {}] is not within the {} range", qmin, qmax, dtype_name(out));
}

const uint8_t* q_as_u8(const Tensor& x, std::vector<uint8_t>& tmp, int32_t& zp, int threads) {
  if (x.dtype() == DType::u8) return x.data<uint8_t>();
  const int64_t n = x.numel();
  if (tmp.size() < static_cast<size_t>(n)) tmp.resize(static_cast<size_t>(n));
  const auto* src = x.data<uint8_t>();
  uint8_t* dst = tmp.data();
  parallel_chunks(n, n > (1 << 18) ? threads : 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) dst[i] = static_cast<uint8_t>(src[i] ^ 0x80u);
  });
  zp += 128;
  return dst;
}

bool q_nhwc_in(const ir::Node& node) { return node.attr_i("qforge.nhwc_in", 0) != 0; }
bool q_nhwc_out(const ir::Node& node) { return node.attr_i("qforge.nhwc_out", 0) != 0; }

TypeShape q_dims_nchw(const ir::Node& node, const TypeShape& t, const char* what) {
  if (!t.has_shape) return t;
  if (t.rank() != 4) fail_node(node, "{} needs rank 4, got rank {}", what, t.rank());
  TypeShape r = t;
  r.dims = {t.dims[0], t.dims[3], t.dims[1], t.dims[2]};
  return r;
}

TypeShape q_dims_nhwc(const ir::Node& node, const TypeShape& t, const char* what) {
  if (!t.has_shape) return t;
  if (t.rank() != 4) fail_node(node, "{} needs rank 4, got rank {}", what, t.rank());
  TypeShape r = t;
  r.dims = {t.dims[0], t.dims[2], t.dims[3], t.dims[1]};
  return r;
}

Shape q_shape_nchw(const Shape& s) {
  QF_CHECK(s.size() == 4);
  return {s[0], s[3], s[1], s[2]};
}

// transpose(src, src_stride, dst, dst_stride, rows, cols): dst[j][i] = src[i][j], per image.
void q_to_nhwc(const uint8_t* x, uint8_t* y, int64_t n, int64_t c, int64_t p, int threads) {
  const TransposeU8Fn t = transpose_u8_kernel(active_isa());
  const auto z = [](int64_t v) { return static_cast<size_t>(v); };
  parallel_tasks(n, n * c * p > 65536 ? threads : 1,
                 [&](int64_t i) { t(x + i * c * p, z(p), y + i * c * p, z(c), z(c), z(p)); });
}

void q_to_nchw(const uint8_t* x, uint8_t* y, int64_t n, int64_t c, int64_t p, int threads) {
  const TransposeU8Fn t = transpose_u8_kernel(active_isa());
  const auto z = [](int64_t v) { return static_cast<size_t>(v); };
  parallel_tasks(n, n * c * p > 65536 ? threads : 1,
                 [&](int64_t i) { t(x + i * c * p, z(c), y + i * c * p, z(p), z(p), z(c)); });
}

namespace {

// ---- QLut ----

std::vector<TypeShape> infer_qlut(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  require_q8(c, 0, "x");
  require_q8(c, 1, "table");
  return shape_of_input(c, 0, c.in(1).dtype);
}

// The table loops take every pointer by value: inside an OpenMP region the shared pointers are read
// through the region's context, and each byte store (which may alias anything) would reload them.
constexpr int64_t kLutChunk = 16384;

void lut1(const uint8_t* x, const uint8_t* tab, unsigned flip, uint8_t* y, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) y[i] = tab[x[i] ^ flip];
}

void lut2(const uint8_t* a, const uint8_t* b, const uint8_t* tab, unsigned fa, unsigned fb, uint8_t* y, int64_t i0,
          int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) y[i] = tab[(a[i] ^ fa) << 8 | (b[i] ^ fb)];
}

void compute_qlut(KernelCtx& k) {
  const Tensor& x = k.inputs[0];
  const Tensor& t = k.inputs[1];
  if (t.numel() != 256) fail_node(k.node, "table must have 256 entries, got {}", t.numel());
  const auto* xs = x.data<uint8_t>();
  const auto* tab = t.data<uint8_t>();
  auto* y = k.outputs[0].data<uint8_t>();
  const uint8_t flip = x.dtype() == DType::s8 ? 0x80 : 0;
  const int64_t n = x.numel();
  const int64_t chunks = (n + kLutChunk - 1) / kLutChunk;
  const bool vbmi = active_isa() >= Isa::avx512 && cpu_features().avx512vbmi;
  parallel_tasks(chunks, n > (1 << 18) ? k.threads : 1, [&](int64_t c) {
    const int64_t i0 = c * kLutChunk, i1 = std::min(n, (c + 1) * kLutChunk);
    if (vbmi) qlut_8__avx512vbmi(tab, flip, xs + i0, y + i0, i1 - i0);
    else lut1(xs, tab, flip, y, i0, i1);
  });
}

// ---- QAdd / QMul ----

std::vector<TypeShape> infer_qbinary(const InferCtx& c) {
  if (c.num_inputs() != 8) fail_node(c.node, "expects 8 inputs, got {}", c.num_inputs());
  require_q8(c, 0, "a");
  require_q8(c, 3, "b");
  require_q8(c, 7, "y_zero_point");
  return {broadcast(c.node, {&c.in(0), &c.in(3)}, c.in(7).dtype)};
}

// The whole op as one table: y = table[code_a][code_b] (codes as u8 indices, s8 + 128), each entry
// quantize(DQ(a) ∘ DQ(b)) computed once with the float ops of the unlowered graph (64 KiB, stays in L2).
// Same-shape inputs on AVX-512 skip the table: the vector kernel computes the same formula
// (kernels/qbinary.h), enabled only after it reproduced all 65536 entries.
struct QBinaryState {
  std::vector<uint8_t> table;  // [256][256], bytes of y's dtype
  QBinaryParams params;
  bool vector_exact = false;
};

void dq_table(const Tensor& x_zp, float scale, int32_t zp, float* t) {
  for (int v = 0; v < 256; ++v) {
    const int32_t q = x_zp.dtype() == DType::s8 ? v - 128 : v;
    t[v] = quant::dequantize_value(q, scale, zp);  // index: the code as u8 (s8: code + 128)
  }
}

template <bool kMul>
std::shared_ptr<void> prepare_qbinary(const ir::Node& node, std::span<const Tensor* const> k) {
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (i >= k.size() || !k[i]) fail_node(node, "input {} must be a constant", i);
  float ta[256], tb[256];
  dq_table(*k[2], q_scalar_f32(node, k[1], "a_scale"), q_scalar_zp(node, k[2], "a_zero_point"), ta);
  dq_table(*k[5], q_scalar_f32(node, k[4], "b_scale"), q_scalar_zp(node, k[5], "b_zero_point"), tb);
  const float ys = q_scalar_f32(node, k[6], "y_scale");
  const int32_t yz = q_scalar_zp(node, k[7], "y_zero_point");
  int32_t qmin = 0, qmax = 0;
  q_clamp(node, k[7]->dtype(), qmin, qmax);
  auto s = std::make_shared<QBinaryState>();
  s->table.resize(256 * 256);
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      const float v = kMul ? ta[a] * tb[b] : ta[a] + tb[b];
      s->table[a * 256 + b] = static_cast<uint8_t>(quant::quantize_value(v, ys, yz, qmin, qmax));
    }
  if (active_isa() >= Isa::avx512) {
    QBinaryParams& p = s->params;
    p.sa = q_scalar_f32(node, k[1], "a_scale"), p.sb = q_scalar_f32(node, k[4], "b_scale"), p.ys = ys;
    p.za = q_scalar_zp(node, k[2], "a_zero_point"), p.zb = q_scalar_zp(node, k[5], "b_zero_point");
    p.yz = yz, p.qmin = qmin, p.qmax = qmax, p.mul = kMul;
    p.a_s8 = k[2]->dtype() == DType::s8, p.b_s8 = k[5]->dtype() == DType::s8;
    // Every code pair, as the kernel reads them: a byte is the table index (s8: code + 128) ^ flip.
    std::vector<uint8_t> ca(256 * 256), cb(256 * 256), got(256 * 256);
    for (int a = 0; a < 256; ++a)
      for (int b = 0; b < 256; ++b) {
        ca[a * 256 + b] = static_cast<uint8_t>(p.a_s8 ? a ^ 0x80 : a);
        cb[a * 256 + b] = static_cast<uint8_t>(p.b_s8 ? b ^ 0x80 : b);
      }
    qbinary_8__avx512(p, ca.data(), cb.data(), got.data(), 256 * 256);
    s->vector_exact = got == s->table;
  }
  return s;
}

// Row-major strides of x broadcast to `out` (0 along broadcast dims).
std::vector<int64_t> bcast_strides(const Shape& x, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t s = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t d = x.size() - 1 - i, o = out.size() - 1 - i;
    st[o] = x[d] == 1 ? 0 : s;
    s *= x[d];
  }
  return st;
}

void compute_qbinary(KernelCtx& k) {
  const auto& s = *static_cast<const QBinaryState*>(k.state);
  const Tensor& a = k.inputs[0];
  const Tensor& b = k.inputs[3];
  Tensor& y = k.outputs[0];
  const unsigned fa = a.dtype() == DType::s8 ? 0x80 : 0, fb = b.dtype() == DType::s8 ? 0x80 : 0;
  const auto* pa = a.data<uint8_t>();
  const auto* pb = b.data<uint8_t>();
  const uint8_t* tab = s.table.data();
  auto* py = y.data<uint8_t>();
  const int64_t n = y.numel();
  if (a.shape() == b.shape()) {
    const int64_t chunks = (n + kLutChunk - 1) / kLutChunk;
    const bool vec = s.vector_exact && active_isa() >= Isa::avx512;
    parallel_tasks(chunks, n > (1 << 16) ? k.threads : 1, [&](int64_t c) {
      const int64_t i0 = c * kLutChunk, i1 = std::min(n, i0 + kLutChunk);
      if (vec) qbinary_8__avx512(s.params, pa + i0, pb + i0, py + i0, i1 - i0);
      else lut2(pa, pb, tab, fa, fb, py, i0, i1);
    });
    return;
  }
  const Shape& out = y.shape();
  const std::vector<int64_t> sa = bcast_strides(a.shape(), out), sb = bcast_strides(b.shape(), out);
  std::vector<int64_t> idx(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < out.size(); ++d) ia += idx[d] * sa[d], ib += idx[d] * sb[d];
    py[i] = tab[(pa[ia] ^ fa) << 8 | (pb[ib] ^ fb)];
    for (size_t d = out.size(); d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

void register_ops_qlinear_misc(std::vector<OpDef>& ops) {
  ops.push_back({"QLut", "qforge", infer_qlut, compute_qlut, nullptr});
  ops.push_back({"QAdd", "qforge", infer_qbinary, compute_qbinary, prepare_qbinary<false>});
  ops.push_back({"QMul", "qforge", infer_qbinary, compute_qbinary, prepare_qbinary<true>});
}

void register_ops_qlinear(std::vector<OpDef>& ops) {
  register_ops_qlinear_conv(ops);
  register_ops_qlinear_gemm(ops);
  register_ops_qlinear_misc(ops);
  register_ops_qlinear_pool(ops);
}

}  // namespace qforge::runtime
