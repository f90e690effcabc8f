// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool through the op registry. Expected values
// are worked by hand from the ONNX formulas (output size, ceil_mode dropping windows that start in
// the end padding, auto_pad pad split, count_include_pad divisors, Indices in both storage orders).
#include <gtest/gtest.h>

#include <random>

#include "linear_test_util.h"

using namespace qforge;
using namespace qforge::linear_test;

namespace {

void expect_values(const Tensor& got, const Shape& shape, const std::vector<float>& want, const std::string& what) {
  EXPECT_EQ(got.shape(), shape) << what;
  if (got.shape() != shape) return;
  const std::vector<float> g = values(got);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-6f) << what << " [" << i << "]";
}

std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return v;
}

const std::vector<ir::Attribute> k2s2 = {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})};

}  // namespace

TEST(OpsPool, MaxPoolHandWorked) {
  const Tensor x = f32({1, 1, 4, 4}, iota(16));
  expect_values(run_op("MaxPool", {x}, k2s2)[0], {1, 1, 2, 2}, {6, 8, 14, 16}, "2x2/2");
  auto outs = run_op("MaxPool", {x}, k2s2, 2);
  EXPECT_EQ(outs[1].dtype(), DType::s64);
  EXPECT_EQ(outs[1].to_i64_vector(), (std::vector<int64_t>{5, 7, 13, 15}));
  auto attrs = k2s2;
  attrs.push_back(attr_i("storage_order", 1));  // column-major: index = w*H + h
  EXPECT_EQ(run_op("MaxPool", {x}, attrs, 2)[1].to_i64_vector(), (std::vector<int64_t>{5, 13, 7, 15}));
  // Indices count the batch and channel planes too.
  const Tensor x2 = f32({2, 1, 1, 2}, {3, 1, 0, 4});
  EXPECT_EQ(run_op("MaxPool", {x2}, {attr_ints("kernel_shape", {1, 2})}, 2)[1].to_i64_vector(),
            (std::vector<int64_t>{0, 3}));
}

TEST(OpsPool, MaxPoolCeilModeAndPads) {
  const Tensor x = f32({1, 1, 5, 5}, iota(25));
  expect_values(run_op("MaxPool", {x}, k2s2)[0], {1, 1, 2, 2}, {7, 9, 17, 19}, "floor");
  auto attrs = k2s2;
  attrs.push_back(attr_i("ceil_mode", 1));
  expect_values(run_op("MaxPool", {x}, attrs)[0], {1, 1, 3, 3}, {7, 9, 10, 17, 19, 20, 22, 24, 25}, "ceil");
  // 1-D, in 4, pads [0, 1]: ceil gives 3 windows but the third would start in the end padding.
  const Tensor x4 = f32({1, 1, 4}, {1, 2, 3, 4});
  expect_values(run_op("MaxPool", {x4}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}),
                                         attr_ints("pads", {0, 1}), attr_i("ceil_mode", 1)})[0],
                {1, 1, 2}, {2, 4}, "ceil drops window in padding");
  const Tensor x5 = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  expect_values(run_op("MaxPool", {x5}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}),
                                         attr_ints("pads", {0, 1}), attr_i("ceil_mode", 1)})[0],
                {1, 1, 3}, {2, 4, 5}, "ceil keeps window starting inside");
  // Padding never wins a max, even against negative values.
  expect_values(run_op("MaxPool", {f32({1, 1, 2}, {-5, -7})}, {attr_ints("kernel_shape", {2}), attr_ints("pads", {1, 1})})[0],
                {1, 1, 3}, {-5, -5, -7}, "negative with pads");
}

TEST(OpsPool, MaxPoolDilationAutoPad) {
  expect_values(run_op("MaxPool", {f32({1, 1, 5}, {1, 5, 2, 4, 3})},
                       {attr_ints("kernel_shape", {2}), attr_ints("dilations", {2})})[0],
                {1, 1, 3}, {2, 5, 3}, "dilation");
  const Tensor x = f32({1, 1, 4}, {1, 3, 2, 5});
  expect_values(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {3}), attr_s("auto_pad", "SAME_UPPER")})[0], {1, 1, 4},
                {3, 3, 5, 5}, "SAME_UPPER k3");
  expect_values(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {2}), attr_s("auto_pad", "SAME_UPPER")})[0], {1, 1, 4},
                {3, 3, 5, 5}, "SAME_UPPER k2");
  expect_values(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {2}), attr_s("auto_pad", "SAME_LOWER")})[0], {1, 1, 4},
                {1, 3, 3, 5}, "SAME_LOWER k2");
  expect_values(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}),
                                        attr_s("auto_pad", "SAME_UPPER")})[0],
                {1, 1, 2}, {3, 5}, "SAME_UPPER s2");
  expect_values(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {3}), attr_s("auto_pad", "VALID")})[0], {1, 1, 2},
                {3, 5}, "VALID");
}

TEST(OpsPool, MaxPool3DAndInt8) {
  expect_values(run_op("MaxPool", {f32({1, 1, 2, 2, 2}, iota(8))}, {attr_ints("kernel_shape", {2, 2, 2})})[0],
                {1, 1, 1, 1, 1}, {8}, "3-D");
  const Tensor q = Tensor::from_vector<int8_t>(DType::s8, {1, 1, 4}, {-128, 5, -3, 7});
  const Tensor y = run_op("MaxPool", {q}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})})[0];
  EXPECT_EQ(y.dtype(), DType::s8);
  EXPECT_EQ(y.to_i64_vector(), (std::vector<int64_t>{5, 7}));
}

TEST(OpsPool, AveragePoolCountIncludePad) {
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const std::vector<ir::Attribute> a = {attr_ints("kernel_shape", {2, 2}), attr_ints("pads", {1, 1, 1, 1})};
  expect_values(run_op("AveragePool", {x}, a)[0], {1, 1, 3, 3}, {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, "exclude pad");
  auto b = a;
  b.push_back(attr_i("count_include_pad", 1));
  expect_values(run_op("AveragePool", {x}, b)[0], {1, 1, 3, 3}, {0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1},
                "include pad");
}

TEST(OpsPool, AveragePoolCeilModeDilation) {
  const Tensor x = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  const std::vector<ir::Attribute> c = {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}), attr_i("ceil_mode", 1)};
  // The last window [4, 5] pokes past the input and past the (zero) end padding: divisor 1 both ways.
  expect_values(run_op("AveragePool", {x}, c)[0], {1, 1, 3}, {1.5f, 3.5f, 5}, "ceil");
  auto ci = c;
  ci.push_back(attr_i("count_include_pad", 1));
  expect_values(run_op("AveragePool", {x}, ci)[0], {1, 1, 3}, {1.5f, 3.5f, 5}, "ceil include pad");
  // With end padding 1, position 5 lies inside the padded extent: counted when including pads.
  auto cp = ci;
  cp.push_back(attr_ints("pads", {0, 1}));
  expect_values(run_op("AveragePool", {x}, cp)[0], {1, 1, 3}, {1.5f, 3.5f, 2.5f}, "ceil include end pad");
  expect_values(run_op("AveragePool", {x}, {attr_ints("kernel_shape", {2}), attr_ints("dilations", {2})})[0], {1, 1, 3},
                {2, 3, 4}, "dilation");
  expect_values(run_op("AveragePool", {f32({1, 1, 2, 2, 2}, iota(8))}, {attr_ints("kernel_shape", {2, 2, 2})})[0],
                {1, 1, 1, 1, 1}, {4.5f}, "3-D");
}

TEST(OpsPool, GlobalPools) {
  const Tensor x = f32({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -8});
  expect_values(run_op("GlobalAveragePool", {x})[0], {1, 2, 1, 1}, {2.5f, -3.5f}, "avg");
  expect_values(run_op("GlobalMaxPool", {x})[0], {1, 2, 1, 1}, {4, -1}, "max");
  expect_values(run_op("GlobalAveragePool", {f32({1, 1, 3}, {1, 2, 6})})[0], {1, 1, 1}, {3}, "1-D");
}

TEST(OpsPool, ThreadedChunksEqualSingleThread) {
  const Tensor x = rand_tensor({4, 17, 31, 33}, 9);
  const std::vector<std::pair<std::string, std::vector<ir::Attribute>>> cases = {
      {"MaxPool", {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_ints("pads", {1, 1, 1, 1})}},
      {"AveragePool", {attr_ints("kernel_shape", {3, 2}), attr_i("count_include_pad", 1), attr_i("ceil_mode", 1),
                       attr_ints("strides", {2, 2})}},
      {"GlobalAveragePool", {}},
      {"GlobalMaxPool", {}},
  };
  for (const auto& [op, attrs] : cases) {
    const Tensor one = run_op(op, {x}, attrs, 1, true, "", 1)[0];
    const Tensor two = run_op(op, {x}, attrs, 1, true, "", 2)[0];
    EXPECT_TRUE(one.bit_equal(two)) << op;
  }
}

TEST(OpsPool, RejectsBadAttributes) {
  const Tensor x = f32({1, 1, 4, 4}, iota(16));
  EXPECT_THROW(run_op("MaxPool", {x}, {}), InputError);  // kernel_shape required
  EXPECT_THROW(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {2})}), InputError);
  EXPECT_THROW(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {5, 5})}), InputError);
  EXPECT_THROW(run_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_i("storage_order", 2)}), InputError);
  EXPECT_THROW(run_op("AveragePool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_ints("pads", {1, 1})}), InputError);
  EXPECT_THROW(run_op("GlobalAveragePool", {f32({4}, {1, 2, 3, 4})}), InputError);
}

TEST(OpsPool, SimdMatchesReferenceSweep) {
  // The SIMD plane kernels (kernels/pool2d.h) against the reference level, over a seeded sweep of
  // windows. Max pooling must match exactly; average within 1e-6 relative (summation order).
  std::mt19937 rng(7);
  auto pick = [&](std::initializer_list<int64_t> v) { return *(v.begin() + rng() % v.size()); };
  int done = 0;
  for (int iter = 0; done < 150 && iter < 3000; ++iter) {
    const int nd = static_cast<int>(pick({1, 2, 2}));
    Shape xs{pick({1, 2}), pick({1, 3, 8})};
    std::vector<int64_t> k, s, d, pads_b, pads_e;
    for (int i = 0; i < nd; ++i) {
      xs.push_back(pick({1, 2, 5, 16, 17, 33, 63}));
      k.push_back(pick({1, 2, 3, 5}));
      s.push_back(pick({1, 2, 2, 3}));
      d.push_back(pick({1, 1, 2}));
      pads_b.push_back(pick({0, 0, 1, 2}));
      pads_e.push_back(pick({0, 1, 2}));
    }
    std::vector<ir::Attribute> attrs{attr_ints("kernel_shape", k), attr_ints("strides", s), attr_ints("dilations", d),
                                     attr_i("ceil_mode", pick({0, 1}))};
    const int64_t ap = pick({0, 0, 0, 1, 2, 3});
    if (ap == 0) {
      std::vector<int64_t> pads = pads_b;
      pads.insert(pads.end(), pads_e.begin(), pads_e.end());
      attrs.push_back(attr_ints("pads", pads));
    } else {
      attrs.push_back(attr_s("auto_pad", ap == 1 ? "SAME_UPPER" : ap == 2 ? "SAME_LOWER" : "VALID"));
      attrs[3] = attr_i("ceil_mode", 0);
    }
    const bool is_max = iter % 2;
    if (!is_max) attrs.push_back(attr_i("count_include_pad", pick({0, 1})));
    const std::string op = is_max ? "MaxPool" : "AveragePool";
    const Tensor x = rand_tensor(xs, static_cast<uint32_t>(iter));
    Tensor want;
    try {
      IsaScope sc(Isa::ref);
      want = run_op(op, {x}, attrs)[0];
    } catch (const InputError&) {
      continue;  // window larger than the padded input
    }
    for (Isa isa : simd_levels()) {
      IsaScope sc(isa);
      const Tensor got = run_op(op, {x}, attrs)[0];
      const std::string what = op + " case " + std::to_string(iter) + " x" + shape_str(xs) + " @" + std::string(isa_name(isa));
      if (is_max) {
        EXPECT_TRUE(got.bit_equal(want)) << what;
      } else {
        const Diff df = diff(got, want);
        EXPECT_LE(df.max_rel, 1e-5) << what;
      }
    }
    ++done;
  }
  EXPECT_GE(done, 140);
}

TEST(OpsPool, SimdInPlaceNoPaddingMatchesReference) {
  // Without begin padding and with every window inside x, the SIMD driver reads the planes in place
  // (all but the last few, whose vector over-read would leave x, go through the padded copy). Max must
  // match the reference exactly, average within 1e-5 relative; 1 and 2 threads; tiny planes (all
  // copied) and convnet-like ones (in place), odd sizes whose last window ends before the row does.
  const std::vector<Shape> shapes = {{1, 1, 4, 4}, {1, 32, 28, 28}, {2, 64, 14, 14}, {3, 5, 17, 33}, {1, 3, 7, 40}};
  const std::vector<std::vector<ir::Attribute>> windows = {
      {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})},
      {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {1, 1})},
      {attr_ints("kernel_shape", {3, 2}), attr_ints("strides", {2, 1}), attr_ints("dilations", {1, 2})},
      {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2}), attr_ints("pads", {0, 0, 1, 1})},
  };
  uint32_t seed = 100;
  for (const Shape& xs : shapes)
    for (const auto& attrs : windows)
      for (const std::string op : {"MaxPool", "AveragePool"}) {
        const Tensor x = rand_tensor(xs, ++seed);
        Tensor want;
        {
          IsaScope sc(Isa::ref);
          want = run_op(op, {x}, attrs)[0];
        }
        for (Isa isa : simd_levels())
          for (int threads : {1, 2}) {
            IsaScope sc(isa);
            const Tensor got = run_op(op, {x}, attrs, 1, true, "", threads)[0];
            const std::string what = op + " x" + shape_str(xs) + " seed " + std::to_string(seed) + " @" +
                                     std::string(isa_name(isa)) + " threads " + std::to_string(threads);
            if (op == "MaxPool") EXPECT_TRUE(got.bit_equal(want)) << what;
            else EXPECT_LE(diff(got, want).max_rel, 1e-5) << what;
          }
      }
}
