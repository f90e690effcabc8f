// The bundled architectures (train/arch.h): structure as documented, parameter counts worked out by
// hand from the layer list, seeded initialisation within PyTorch's Kaiming-uniform bound, and sizes
// the architectures cannot take refused.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "ir/shape_inference.h"
#include "train/arch.h"

namespace qforge {
namespace {

std::map<std::string, int> op_histogram(const ir::Model& m) {
  std::map<std::string, int> h;
  for (const auto& n : m.graph.nodes) ++h[n.op_type];
  return h;
}

// Trainable parameters: every float initializer except BN running statistics and the two
// normalisation scalars.
int64_t trainable(const ir::Model& m) {
  int64_t n = 0;
  for (const auto& [name, t] : m.graph.initializers)
    if (name.find("running_") == std::string::npos && name.rfind("normalize.", 0) != 0 &&
        name.find(".min") == std::string::npos && name.find(".max") == std::string::npos)
      n += t.numel();
  return n;
}

TEST(Arch, CnnLayersAndParameters) {
  const ir::Model m = train::build_arch("cnn");
  auto h = op_histogram(m);
  EXPECT_EQ(h["Conv"], 4);
  EXPECT_EQ(h["BatchNormalization"], 4);
  EXPECT_EQ(h["Relu"], 5);
  EXPECT_EQ(h["MaxPool"], 2);
  EXPECT_EQ(h["Gemm"], 2);
  // convs 1·32·9 + 32·32·9 + 32·64·9 + 64·64·9, BN 2·(32+32+64+64), fc 3136·64+64, 64·10+10
  EXPECT_EQ(trainable(m), 288 + 9216 + 18432 + 36864 + 2 * 192 + 3136 * 64 + 64 + 640 + 10);
}

TEST(Arch, MobilenetIsDepthwiseSeparable) {
  const ir::Model m = train::build_arch("mobilenet");
  int depthwise = 0, pointwise = 0;
  for (const auto& n : m.graph.nodes) {
    if (n.op_type != "Conv") continue;
    const Tensor* w = m.graph.initializer(n.inputs[1]);
    ASSERT_NE(w, nullptr);
    const int64_t group = n.attr_i("group", 1);
    if (group > 1) {
      ++depthwise;
      EXPECT_EQ(group, w->shape()[0]) << n.name;
      EXPECT_EQ(w->shape()[1], 1) << n.name;
    } else if (w->shape()[2] == 1) {
      ++pointwise;
    }
  }
  EXPECT_EQ(depthwise, 5);
  EXPECT_EQ(pointwise, 5);
  EXPECT_EQ(op_histogram(m)["Clip"], 11);  // ReLU6 after the stem and after every dw and pw conv
}

TEST(Arch, ResnetHasResidualAdds) {
  const ir::Model m = train::build_arch("resnet");
  auto h = op_histogram(m);
  EXPECT_EQ(h["Add"], 3);
  EXPECT_EQ(h["GlobalAveragePool"], 1);
  // stem + 2 per block + 2 downsample shortcuts
  EXPECT_EQ(h["Conv"], 1 + 6 + 2);
  for (const auto& n : m.graph.nodes)
    if (n.op_type == "Add") {
      // Both operands are computed (not initializers): a real residual join.
      EXPECT_EQ(m.graph.initializer(n.inputs[0]), nullptr);
      EXPECT_EQ(m.graph.initializer(n.inputs[1]), nullptr);
    }
}

TEST(Arch, ShapesInferToLogits) {
  for (const std::string& a : train::arch_names()) {
    train::ArchOptions o;
    o.classes = 7, o.channels = 3, o.height = 20, o.width = 24;
    ir::Model m = train::build_arch(a, o);
    ir::infer_shapes(m);
    const auto& out = m.graph.outputs.at(0);
    ASSERT_EQ(out.dims.size(), 2u) << a;
    EXPECT_EQ(out.dims[0].param, "N") << a;
    EXPECT_EQ(out.dims[1].value, 7) << a;
  }
}

TEST(Arch, SeededKaimingUniformInitialisation) {
  train::ArchOptions o;
  o.seed = 11;
  const ir::Model a = train::build_arch("resnet", o), b = train::build_arch("resnet", o);
  o.seed = 12;
  const ir::Model c = train::build_arch("resnet", o);
  const Tensor& wa = *a.graph.initializer("layer2.conv1.weight");
  const Tensor& wb = *b.graph.initializer("layer2.conv1.weight");
  const Tensor& wc = *c.graph.initializer("layer2.conv1.weight");
  const float bound = 1.f / std::sqrt(32.f * 9.f);  // fan_in = 32 input channels · 3·3
  float max_abs = 0;
  for (int64_t i = 0; i < wa.numel(); ++i) {
    EXPECT_EQ(wa.data<float>()[i], wb.data<float>()[i]);
    max_abs = std::max(max_abs, std::fabs(wa.data<float>()[i]));
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.9f * bound);  // 18432 uniform draws reach close to the bound
  EXPECT_NE(wa.data<float>()[0], wc.data<float>()[0]);
  EXPECT_EQ(a.graph.initializer("layer1.conv1_bn.weight")->data<float>()[0], 1.f);
}

TEST(Arch, RefusesWhatItCannotBuild) {
  EXPECT_THROW(train::build_arch("vgg"), InputError);
  train::ArchOptions o;
  o.height = 3;
  EXPECT_THROW(train::build_arch("cnn", o), InputError);
  o = {};
  o.classes = 1;
  EXPECT_THROW(train::build_arch("mobilenet", o), InputError);
}

}  // namespace
}  // namespace qforge
