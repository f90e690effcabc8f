#include "runtime/kernels/reference/reduce_ref.h"

#include <cmath>
#include <limits>

namespace qforge::runtime {

namespace {

// Calls f(out_index, x) for every element of src in memory order. Size-1 axes are dropped and
// neighbouring axes of the same kind merged; out_index walks the kept axes densely.
template <typename T, typename F>
void visit_reduce(const T* src, const Shape& shape, const std::vector<bool>& reduce, F&& f) {
  std::vector<int64_t> m;
  std::vector<bool> red;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!m.empty() && red.back() == reduce[d]) m.back() *= shape[d];
    else { m.push_back(shape[d]); red.push_back(reduce[d]); }
  }
  const int g = static_cast<int>(m.size());
  std::vector<int64_t> ostride(g, 0);
  int64_t s = 1;
  for (int i = g - 1; i >= 0; --i)
    if (!red[i]) { ostride[i] = s; s *= m[i]; }
  const int64_t total = shape_numel(shape);
  std::vector<int64_t> idx(g, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < total; ++i) {
    f(o, src[i]);
    for (int d = g - 1; d >= 0; --d) {
      o += ostride[d];
      if (++idx[d] < m[d]) break;
      o -= ostride[d] * m[d];
      idx[d] = 0;
    }
  }
}

int64_t reduced_count(const Shape& shape, const std::vector<bool>& reduce) {
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d)
    if (reduce[d]) n *= shape[d];
  return n;
}

int64_t kept_count(const Shape& shape, const std::vector<bool>& reduce) {
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduce[d]) n *= shape[d];
  return n;
}

template <typename Acc>
Acc reduce_init(ReduceKind kind) {
  switch (kind) {
    case ReduceKind::prod: return Acc(1);
    case ReduceKind::max:
      return std::numeric_limits<Acc>::has_infinity ? -std::numeric_limits<Acc>::infinity()
                                                    : std::numeric_limits<Acc>::lowest();
    case ReduceKind::min:
      return std::numeric_limits<Acc>::has_infinity ? std::numeric_limits<Acc>::infinity()
                                                    : std::numeric_limits<Acc>::max();
    default: return Acc(0);
  }
}

template <typename Acc, typename T>
void reduce_accumulate(const T* src, const Shape& shape, const std::vector<bool>& reduce, std::vector<Acc>& acc,
                       ReduceKind kind, const std::vector<Acc>* shift) {
  switch (kind) {
    case ReduceKind::sum: case ReduceKind::mean: case ReduceKind::log_sum:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] += static_cast<Acc>(x); });
      break;
    case ReduceKind::l1:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] += static_cast<Acc>(x < T(0) ? T(-x) : x); });
      break;
    case ReduceKind::l2: case ReduceKind::sum_square:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] += static_cast<Acc>(x) * static_cast<Acc>(x); });
      break;
    case ReduceKind::prod:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] *= static_cast<Acc>(x); });
      break;
    case ReduceKind::max:  // NaN propagates: once acc is NaN no comparison replaces it
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) {
        Acc v = static_cast<Acc>(x);
        if (v > acc[o] || v != v) acc[o] = v;
      });
      break;
    case ReduceKind::min:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) {
        Acc v = static_cast<Acc>(x);
        if (v < acc[o] || v != v) acc[o] = v;
      });
      break;
    case ReduceKind::log_sum_exp:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) {
        if constexpr (std::is_floating_point_v<Acc>) acc[o] += std::exp(static_cast<Acc>(x) - (*shift)[o]);
      });
      break;
  }
}

}  // namespace

void reduce_f32__ref(const float* src, const Shape& shape, const std::vector<bool>& reduce, float* dst, ReduceKind kind) {
  const int64_t out_n = kept_count(shape, reduce);
  const int64_t count = reduced_count(shape, reduce);
  std::vector<double> shift;
  if (kind == ReduceKind::log_sum_exp) {
    // log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max, finite for finite inputs.
    shift.assign(out_n, reduce_init<double>(ReduceKind::max));
    reduce_accumulate<double>(src, shape, reduce, shift, ReduceKind::max, nullptr);
    for (double& m : shift)
      if (!std::isfinite(m)) m = 0;
  }
  std::vector<double> acc(out_n, reduce_init<double>(kind));
  reduce_accumulate<double>(src, shape, reduce, acc, kind, &shift);
  for (int64_t o = 0; o < out_n; ++o) {
    double a = acc[o];
    switch (kind) {
      case ReduceKind::mean: a = a / static_cast<double>(count); break;
      case ReduceKind::l2: a = std::sqrt(a); break;
      case ReduceKind::log_sum: a = std::log(a); break;
      case ReduceKind::log_sum_exp: a = std::log(a) + shift[o]; break;
      default: break;
    }
    dst[o] = static_cast<float>(a);
  }
}

template <typename T>
void reduce_int(const T* src, const Shape& shape, const std::vector<bool>& reduce, T* dst, ReduceKind kind) {
  QF_CHECK(kind == ReduceKind::sum || kind == ReduceKind::max || kind == ReduceKind::min || kind == ReduceKind::prod ||
           kind == ReduceKind::l1 || kind == ReduceKind::sum_square);
  const int64_t out_n = kept_count(shape, reduce);
  // Accumulate in the element type through unsigned arithmetic (wraps like ONNX Runtime's loops).
  using U = std::make_unsigned_t<T>;
  std::vector<T> acc(out_n, reduce_init<T>(kind));
  switch (kind) {
    case ReduceKind::sum:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] = static_cast<T>(static_cast<U>(acc[o]) + static_cast<U>(x)); });
      break;
    case ReduceKind::l1:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) {
        U ax = x < 0 ? U(0) - static_cast<U>(x) : static_cast<U>(x);
        acc[o] = static_cast<T>(static_cast<U>(acc[o]) + ax);
      });
      break;
    case ReduceKind::sum_square:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) {
        acc[o] = static_cast<T>(static_cast<U>(acc[o]) + static_cast<U>(x) * static_cast<U>(x));
      });
      break;
    case ReduceKind::prod:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { acc[o] = static_cast<T>(static_cast<U>(acc[o]) * static_cast<U>(x)); });
      break;
    case ReduceKind::max:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { if (x > acc[o]) acc[o] = x; });
      break;
    case ReduceKind::min:
      visit_reduce(src, shape, reduce, [&](int64_t o, T x) { if (x < acc[o]) acc[o] = x; });
      break;
    default: break;
  }
  std::copy(acc.begin(), acc.end(), dst);
}

void reduce_s32__ref(const int32_t* src, const Shape& shape, const std::vector<bool>& reduce, int32_t* dst, ReduceKind kind) {
  reduce_int(src, shape, reduce, dst, kind);
}

void reduce_s64__ref(const int64_t* src, const Shape& shape, const std::vector<bool>& reduce, int64_t* dst, ReduceKind kind) {
  reduce_int(src, shape, reduce, dst, kind);
}

template <typename T>
void argmax_s64__ref(const T* src, int64_t outer, int64_t n, int64_t inner, int64_t* dst, bool is_min, bool select_last) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = src + o * n * inner + i;
      T best = p[0];
      int64_t best_j = 0;
      for (int64_t j = 1; j < n; ++j) {
        T v = p[j * inner];
        bool better = is_min ? (select_last ? v <= best : v < best) : (select_last ? v >= best : v > best);
        if (better) { best = v; best_j = j; }
      }
      dst[o * inner + i] = best_j;
    }
  }
}

template void argmax_s64__ref<float>(const float*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
template void argmax_s64__ref<int32_t>(const int32_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
template void argmax_s64__ref<int64_t>(const int64_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
template void argmax_s64__ref<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);
template void argmax_s64__ref<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t*, bool, bool);

}  // namespace qforge::runtime
