// The channels-last pass on the bundled models quantized as `qforge quantize MODEL --calib
// fashion-mnist:train --calib-size 64` does (preset int8): the lowered session's outputs with the pass
// equal those without it, bit for bit, under ref, AVX2 and AVX-512, at batch 1 and 5; the pass makes
// values channels-last in every model and changes neither the lowered node count nor the fallbacks.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "data/dataset.h"
#include "ir/onnx_io.h"
#include "linear_test_util.h"
#include "quant/quantize_pipeline.h"
#include "runtime/session.h"

using namespace qforge;

namespace {

constexpr const char* kModels[] = {"fmnist_cnn", "fmnist_mobilenet", "fmnist_resnet"};

bool have_fashion_mnist() {
  return std::filesystem::exists(std::filesystem::path(data::fashion_mnist_dir()) / "train-images-idx3-ubyte.gz");
}

class LowerLayoutModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The test command installs dataset-fashion-mnist (scripts/deps.sh); its absence is a failure.
    if (!have_fashion_mnist()) return;
    std::unique_ptr<data::Dataset> calib = data::open_dataset("fashion-mnist:train");
    const quant::BatchSourceFactory batches = [&]() -> quant::BatchSource {
      auto done = std::make_shared<bool>(false);
      return [&calib, done]() -> std::vector<Tensor> {
        if (*done) return {};
        *done = true;
        return {calib->read(0, 64).x};
      };
    };
    for (const char* name : kModels) {
      const ir::Model fp32 = ir::load_onnx(std::string(QFORGE_SOURCE_DIR) + "/models/" + name + ".onnx");
      models_[name] = quant::quantize_pipeline(fp32, quant::recipe_from_preset("int8"), &batches, nullptr, 2).result.model;
    }
    images_ = data::open_dataset("fashion-mnist:test")->read(0, 6).x;
  }
  static void TearDownTestSuite() { models_.clear(); }

  static std::map<std::string, ir::Model> models_;
  static Tensor images_;
};
std::map<std::string, ir::Model> LowerLayoutModels::models_;
Tensor LowerLayoutModels::images_;

runtime::SessionOptions opts(bool channels_last) {
  runtime::SessionOptions o;
  o.threads = 2;
  o.channels_last = channels_last;
  return o;
}

// Images [first, first + n) of x.
Tensor slice(const Tensor& x, int64_t first, int64_t n) {
  Shape s = x.shape();
  s[0] = n;
  const int64_t per = x.numel() / x.dim(0);
  Tensor t(DType::f32, s);
  std::copy_n(x.data<float>() + first * per, n * per, t.data<float>());
  return t;
}

TEST_F(LowerLayoutModels, OutputsEqualWithoutThePassUnderEveryIsa) {
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist";
  std::vector<Isa> isas = {Isa::ref};
  for (Isa i : linear_test::simd_levels()) isas.push_back(i);
  for (const auto& [name, m] : models_) {
    for (Isa isa : isas) {
      linear_test::IsaScope scope(isa);
      runtime::Session on(m, opts(true)), off(m, opts(false));
      EXPECT_EQ(on.lowered_nodes(), off.lowered_nodes()) << name;
      EXPECT_EQ(on.fallbacks().size(), off.fallbacks().size()) << name;
      int nhwc = 0;
      for (const auto& n : on.graph().nodes) nhwc += n.attr_i("qforge.nhwc_out", 0) != 0;
      EXPECT_GT(nhwc, 0) << name << ": no node writes channels-last";
      for (auto [first, n] : {std::pair<int64_t, int64_t>{0, 1}, {1, 5}}) {
        const Tensor x = slice(images_, first, n);
        const auto a = on.run({x}), b = off.run({x});
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i)
          EXPECT_TRUE(a[i].bit_equal(b[i])) << name << " isa " << isa_name(isa) << " batch " << n;
      }
    }
  }
}

}  // namespace
