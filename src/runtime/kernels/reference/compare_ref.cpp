#include "runtime/kernels/reference/compare_ref.h"

#include "runtime/kernels/reference/binary_loop_ref.h"
#include "runtime/kernels/reference/dtype_visit_ref.h"

namespace qforge::runtime {
namespace {

template <class T>
void compare_typed(CompareOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  using B = uint8_t;
  switch (op) {
    case CompareOp::equal: binary_broadcast<T, T, B>(a, b, y, threads, [](T u, T v) { return B(u == v); }); return;
    case CompareOp::less: binary_broadcast<T, T, B>(a, b, y, threads, [](T u, T v) { return B(u < v); }); return;
    case CompareOp::less_equal: binary_broadcast<T, T, B>(a, b, y, threads, [](T u, T v) { return B(u <= v); }); return;
    case CompareOp::greater: binary_broadcast<T, T, B>(a, b, y, threads, [](T u, T v) { return B(u > v); }); return;
    case CompareOp::greater_equal:
      binary_broadcast<T, T, B>(a, b, y, threads, [](T u, T v) { return B(u >= v); });
      return;
  }
}

}  // namespace

bool compare_supports(CompareOp op, DType t) {
  if (t == DType::boolean) return op == CompareOp::equal;
  return visit_real_dtype(t, [](auto) {});
}

void compare_ref(CompareOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  QF_CHECK(a.dtype() == b.dtype() && y.dtype() == DType::boolean);
  if (a.dtype() == DType::boolean) {
    QF_CHECK(op == CompareOp::equal);
    binary_broadcast<uint8_t, uint8_t, uint8_t>(a, b, y, threads,
                                                [](uint8_t u, uint8_t v) { return uint8_t((u != 0) == (v != 0)); });
    return;
  }
  const bool ok =
      visit_real_dtype(a.dtype(), [&](auto tag) { compare_typed<typename decltype(tag)::type>(op, a, b, y, threads); });
  QF_CHECK(ok, "compare_ref: unsupported dtype");
}

void logical_ref(LogicalOp op, const Tensor& a, const Tensor& b, Tensor& y, int threads) {
  QF_CHECK(a.dtype() == DType::boolean && b.dtype() == DType::boolean && y.dtype() == DType::boolean);
  using B = uint8_t;
  switch (op) {
    case LogicalOp::and_:
      binary_broadcast<B, B, B>(a, b, y, threads, [](B u, B v) { return B(u != 0 && v != 0); });
      return;
    case LogicalOp::or_:
      binary_broadcast<B, B, B>(a, b, y, threads, [](B u, B v) { return B(u != 0 || v != 0); });
      return;
    case LogicalOp::xor_:
      binary_broadcast<B, B, B>(a, b, y, threads, [](B u, B v) { return B((u != 0) != (v != 0)); });
      return;
  }
}

bool where_supports(DType t) {
  return visit_by_size(t, [](auto) {});
}

void where_ref(const Tensor& cond, const Tensor& x, const Tensor& other, Tensor& y, int threads) {
  QF_CHECK(cond.dtype() == DType::boolean && x.dtype() == other.dtype() && x.dtype() == y.dtype());
  const BroadcastPlan p = make_broadcast_plan(y.shape(), {&cond.shape(), &x.shape(), &other.shape()});
  const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const uint8_t* c = cond.data<uint8_t>();
    const T* a = x.data<T>();
    const T* b = other.data<T>();
    T* out = y.data<T>();
    broadcast_for_each_row<3>(p, threads, [&](int64_t o, const auto& off, const auto& st, int64_t n) {
      const uint8_t* __restrict pc = c + off[0];
      const T* __restrict pa = a + off[1];
      const T* __restrict pb = b + off[2];
      T* __restrict py = out + o;
      if (st[0] && st[1] && st[2]) {
        for (int64_t i = 0; i < n; ++i) py[i] = pc[i] ? pa[i] : pb[i];
      } else {
        const int64_t sc = st[0], sa = st[1], sb = st[2];
        for (int64_t i = 0; i < n; ++i) py[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
      }
    });
  });
  QF_CHECK(ok, "where_ref: unsupported dtype");
}

}  // namespace qforge::runtime
