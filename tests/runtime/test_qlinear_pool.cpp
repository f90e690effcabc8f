// qforge.QMaxPool (ops/qlinear_pool.cpp) against the reference maxpool_{u8,s8}__ref, byte for byte:
// the 2×2 stride-2 path (even and odd planes, one and many rows per block), windows inside the row
// and windows that touch padding, u8 and s8, threads 1 and 2.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/reference/pool_ref.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

struct Case {
  int64_t n, c, h, w, k, s, p;
};

template <class T>
void check(const Case& q, DType dt, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor x(dt, {q.n, q.c, q.h, q.w});
  for (auto& v : x.span<T>()) v = static_cast<T>(rng());
  PoolGeom g;
  g.batch = q.n, g.channels = q.c;
  g.in[1] = q.h, g.in[2] = q.w, g.kernel[1] = q.k, g.kernel[2] = q.k, g.stride[1] = q.s, g.stride[2] = q.s;
  for (int i = 1; i < 3; ++i) g.pad_begin[i] = g.pad_end[i] = q.p;
  for (int i = 1; i < 3; ++i) g.out[i] = (g.in[i] + 2 * q.p - q.k) / q.s + 1;
  std::vector<T> want(static_cast<size_t>(q.n * q.c * g.out_plane()));
  if constexpr (std::is_same_v<T, uint8_t>) maxpool_u8__ref(g, x.data<T>(), want.data(), nullptr, 0);
  else maxpool_s8__ref(g, x.data<T>(), want.data(), nullptr, 0);
  const std::vector<ir::Attribute> attrs = {linear_test::attr_ints("kernel_shape", {q.k, q.k}),
                                            linear_test::attr_ints("strides", {q.s, q.s}),
                                            linear_test::attr_ints("pads", {q.p, q.p, q.p, q.p})};
  for (int threads : {1, 2}) {
    const auto y = linear_test::run_op("QMaxPool", {x}, attrs, 1, true, "qforge", threads);
    ASSERT_EQ(y[0].numel(), static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(y[0].data<T>()[i], want[i]) << "n=" << q.n << " c=" << q.c << " h=" << q.h << " w=" << q.w << " k="
                                            << q.k << " s=" << q.s << " p=" << q.p << " threads=" << threads
                                            << " at " << i;
  }
}

TEST(QlinearMaxPool, EqualsReference) {
  const Case cases[] = {
      {1, 1, 2, 2, 2, 2, 0},    {2, 3, 28, 28, 2, 2, 0},  {32, 5, 14, 14, 2, 2, 0}, {1, 70, 4, 6, 2, 2, 0},
      {1, 2, 7, 9, 2, 2, 0},    {2, 3, 9, 11, 3, 2, 0},   {1, 4, 15, 13, 3, 2, 1},  {1, 2, 8, 8, 3, 1, 1},
      {1, 3, 6, 10, 2, 1, 0},
  };
  uint32_t seed = 1;
  for (const Case& q : cases) {
    check<uint8_t>(q, DType::u8, seed++);
    check<int8_t>(q, DType::s8, seed++);
  }
}

}  // namespace
