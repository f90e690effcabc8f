// Byte transposes of the INT8 convolution (runtime/kernels/qconv_layout.h): every version against
// the definition dst[j][i] = src[i][j] written here, over shapes by rule (below, at and around the
// 16×16 block, tails that make the last block overlap, strides wider than the matrix), and the
// bytes around the destination left untouched.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "linear_test_util.h"
#include "runtime/kernels/qconv_layout.h"

using namespace qforge;
using namespace qforge::runtime;

namespace {

TEST(QconvLayout, TransposeEveryVersionEqualsDefinition) {
  const size_t sizes[] = {1, 2, 7, 15, 16, 17, 28, 31, 32, 33, 49, 64, 100};
  struct Version {
    const char* name;
    TransposeU8Fn fn;
    Isa isa;
  };
  const Version versions[] = {{"ref", transpose_u8__ref, Isa::ref},
                              {"avx2", transpose_u8__avx2, Isa::avx2},
                              {"avx512", transpose_u8__avx512, Isa::avx512}};
  std::mt19937 rng(7);
  for (const Version& v : versions) {
    linear_test::IsaScope s(v.isa);
    if (s.got() != v.isa) continue;
    EXPECT_EQ(transpose_u8_kernel(v.isa), v.fn);
    for (size_t rows : sizes)
      for (size_t cols : sizes) {
        const size_t ss = cols + rows % 3, ds = rows + cols % 5;  // strides past the matrix
        std::vector<uint8_t> src(rows * ss);
        for (auto& b : src) b = static_cast<uint8_t>(rng());
        std::vector<uint8_t> dst(cols * ds, 0xA5);
        v.fn(src.data(), ss, dst.data(), ds, rows, cols);
        for (size_t j = 0; j < cols; ++j)
          for (size_t i = 0; i < ds; ++i) {
            const uint8_t want = i < rows ? src[i * ss + j] : 0xA5;
            ASSERT_EQ(dst[j * ds + i], want) << v.name << " rows=" << rows << " cols=" << cols << " at (" << j
                                             << ", " << i << ")";
          }
      }
  }
}

}  // namespace
