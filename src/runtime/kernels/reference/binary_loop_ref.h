// The broadcasting loop of every two-input elementwise kernel: y[i] = op(a[ia], b[ib]) over a
// BroadcastPlan. The four row cases (vector/vector, scalar/vector, vector/scalar, scalar/scalar)
// are separate loops so that each one vectorises; op is a functor inlined into them.
#pragma once
#include "runtime/kernels/reference/broadcast_ref.h"

namespace qforge::runtime {

template <class TA, class TB, class TY, class Op>
void binary_broadcast_loop(const BroadcastPlan& p, const TA* a, const TB* b, TY* y, int threads, Op op) {
  broadcast_for_each_row<2>(p, threads, [&](int64_t o, const auto& off, const auto& st, int64_t n) {
    const TA* __restrict pa = a + off[0];
    const TB* __restrict pb = b + off[1];
    TY* __restrict py = y + o;
    if (st[0] && st[1]) {
      for (int64_t i = 0; i < n; ++i) py[i] = op(pa[i], pb[i]);
    } else if (st[1]) {
      const TA av = pa[0];
      for (int64_t i = 0; i < n; ++i) py[i] = op(av, pb[i]);
    } else if (st[0]) {
      const TB bv = pb[0];
      for (int64_t i = 0; i < n; ++i) py[i] = op(pa[i], bv);
    } else {
      const TY v = op(pa[0], pb[0]);
      for (int64_t i = 0; i < n; ++i) py[i] = v;
    }
  });
}

// Convenience over tensors: plans the broadcast of a and b onto y's shape.
template <class TA, class TB, class TY, class Op>
void binary_broadcast(const Tensor& a, const Tensor& b, Tensor& y, int threads, Op op) {
  const BroadcastPlan p = make_broadcast_plan(y.shape(), {&a.shape(), &b.shape()});
  binary_broadcast_loop(p, a.data<TA>(), b.data<TB>(), y.data<TY>(), threads, op);
}

}  // namespace qforge::runtime
