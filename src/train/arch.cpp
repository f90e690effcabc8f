// The bundled architectures (arch.h). A small builder appends ONNX nodes and initializers to an
// ir::Model; every layer draws its weights from one seeded generator in construction order.
#include "train/arch.h"

#include <cmath>
#include <random>

#include "core/error.h"

namespace qforge::train {

namespace {

ir::Attribute ints_attr(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name, a.kind = ir::AttrKind::ints, a.ints = std::move(v);
  return a;
}
ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name, a.kind = ir::AttrKind::i, a.i = v;
  return a;
}
ir::Attribute float_attr(const std::string& name, float v) {
  ir::Attribute a;
  a.name = name, a.kind = ir::AttrKind::f, a.f = v;
  return a;
}

Tensor scalar_f32(float v) {
  Tensor t(DType::f32, {});
  t.data<float>()[0] = v;
  return t;
}

class Builder {
 public:
  Builder(const ArchOptions& o) : rng_(o.seed) {
    m_.opsets = {{"", 17}};
    m_.producer_name = "qforge";
    m_.graph.name = "qforge_arch";
  }

  // Kaiming-uniform with a = √5 (PyTorch's default for Conv and Linear): bound 1/√fan_in.
  Tensor uniform(const Shape& shape, int64_t fan_in) {
    Tensor t(DType::f32, shape);
    const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
    std::uniform_real_distribution<float> u(-bound, bound);
    for (auto& v : t.span<float>()) v = u(rng_);
    return t;
  }
  Tensor filled(const Shape& shape, float v) {
    Tensor t(DType::f32, shape);
    for (auto& x : t.span<float>()) x = v;
    return t;
  }

  std::string add(const std::string& name, const std::string& op, std::vector<std::string> in,
                   std::vector<ir::Attribute> attrs = {}) {
    ir::Node n;
    n.name = name, n.op_type = op, n.inputs = std::move(in), n.outputs = {name + "_out"}, n.attrs = std::move(attrs);
    m_.graph.nodes.push_back(std::move(n));
    return name + "_out";
  }
  std::string init(const std::string& name, Tensor t) {
    m_.graph.add_initializer(name, std::move(t));
    return name;
  }

  // Conv (no bias when followed by BatchNormalization, as in PyTorch exports) + BN.
  std::string conv_bn(const std::string& name, const std::string& x, int64_t cin, int64_t cout, int64_t k,
                      int64_t stride, int64_t group = 1) {
    const int64_t fan_in = cin / group * k * k;
    const std::string w = init(name + ".weight", uniform({cout, cin / group, k, k}, fan_in));
    const int64_t p = k / 2;
    std::vector<ir::Attribute> attrs = {ints_attr("kernel_shape", {k, k}), ints_attr("pads", {p, p, p, p}),
                                        ints_attr("strides", {stride, stride})};
    if (group != 1) attrs.push_back(int_attr("group", group));
    const std::string c = add(name, "Conv", {x, w}, std::move(attrs));
    const std::string bn = name + "_bn";
    const std::string g = init(bn + ".weight", filled({cout}, 1.f));
    const std::string b = init(bn + ".bias", filled({cout}, 0.f));
    const std::string mean = init(bn + ".running_mean", filled({cout}, 0.f));
    const std::string var = init(bn + ".running_var", filled({cout}, 1.f));
    return add(bn, "BatchNormalization", {c, g, b, mean, var},
               {float_attr("epsilon", 1e-5f), float_attr("momentum", 0.9f)});
  }
  std::string relu(const std::string& name, const std::string& x) { return add(name, "Relu", {x}); }
  std::string relu6(const std::string& name, const std::string& x) {
    return add(name, "Clip", {x, init(name + ".min", scalar_f32(0.f)), init(name + ".max", scalar_f32(6.f))});
  }
  std::string linear(const std::string& name, const std::string& x, int64_t in, int64_t out) {
    const std::string w = init(name + ".weight", uniform({out, in}, in));
    const std::string b = init(name + ".bias", uniform({out}, in));
    return add(name, "Gemm", {x, w, b}, {int_attr("transB", 1)});
  }

  std::string normalize(const ArchOptions& o) {
    const std::string s = add("normalize_sub", "Sub", {"input", init("normalize.mean", scalar_f32(o.mean))});
    return add("normalize_mul", "Mul", {s, init("normalize.inv_std", scalar_f32(1.f / o.std))});
  }

  ir::Model finish(const ArchOptions& o, const std::string& logits) {
    // The last node writes "logits".
    m_.graph.nodes.back().outputs[0] = "logits";
    (void)logits;
    ir::ValueInfo in{"input", DType::f32, true,
                     {ir::Dim::symbol("N"), ir::Dim::known(o.channels), ir::Dim::known(o.height),
                      ir::Dim::known(o.width)},
                     {}};
    ir::ValueInfo out{"logits", DType::f32, true, {ir::Dim::symbol("N"), ir::Dim::known(o.classes)}, {}};
    m_.graph.inputs = {in};
    m_.graph.outputs = {out};
    return std::move(m_);
  }

 private:
  ir::Model m_;
  std::mt19937_64 rng_;
};


void check_size(const std::string& arch, const ArchOptions& o, int halvings) {
  if (o.channels < 1 || o.classes < 2)
    fail_input("--arch {}: needs at least 1 input channel and 2 classes, got {} and {}", arch, o.channels, o.classes);
  int64_t h = o.height, w = o.width;
  for (int i = 0; i < halvings; ++i) h /= 2, w /= 2;
  if (h < 1 || w < 1 || o.height > 4096 || o.width > 4096)
    fail_input("--arch {}: input size {}x{} does not fit ({} halvings must leave at least 1x1)", arch, o.height,
               o.width, halvings);
}

ir::Model build_cnn(const ArchOptions& o) {
  check_size("cnn", o, 2);
  Builder b(o);
  std::string x = b.normalize(o);
  int64_t cin = o.channels, h = o.height, w = o.width;
  const int64_t widths[] = {32, 64};
  for (int s = 0; s < 2; ++s) {
    const std::string p = "stage" + std::to_string(s + 1);
    x = b.relu(p + ".relu1", b.conv_bn(p + ".conv1", x, cin, widths[s], 3, 1));
    x = b.relu(p + ".relu2", b.conv_bn(p + ".conv2", x, widths[s], widths[s], 3, 1));
    x = b.add(p + ".pool", "MaxPool", {x}, {ints_attr("kernel_shape", {2, 2}), ints_attr("strides", {2, 2})});
    cin = widths[s], h /= 2, w /= 2;
  }
  x = b.add("flatten", "Flatten", {x}, {int_attr("axis", 1)});
  x = b.relu("fc1.relu", b.linear("fc1", x, cin * h * w, 64));
  b.linear("fc2", x, 64, o.classes);
  return b.finish(o, "logits");
}

ir::Model build_mobilenet(const ArchOptions& o) {
  check_size("mobilenet", o, 2);
  Builder b(o);
  std::string x = b.normalize(o);
  x = b.relu6("stem.relu6", b.conv_bn("stem.conv", x, o.channels, 32, 3, 1));
  struct Block {
    int64_t in, out, stride;
  };
  const Block blocks[] = {{32, 64, 1}, {64, 128, 2}, {128, 128, 1}, {128, 256, 2}, {256, 256, 1}};
  int i = 0;
  for (const Block& blk : blocks) {
    const std::string p = "block" + std::to_string(++i);
    x = b.relu6(p + ".dw.relu6", b.conv_bn(p + ".dw", x, blk.in, blk.in, 3, blk.stride, blk.in));
    x = b.relu6(p + ".pw.relu6", b.conv_bn(p + ".pw", x, blk.in, blk.out, 1, 1));
  }
  x = b.add("pool", "GlobalAveragePool", {x});
  x = b.add("flatten", "Flatten", {x}, {int_attr("axis", 1)});
  b.linear("fc", x, 256, o.classes);
  return b.finish(o, "logits");
}

ir::Model build_resnet(const ArchOptions& o) {
  check_size("resnet", o, 2);
  Builder b(o);
  std::string x = b.normalize(o);
  const int64_t w0 = 32;
  x = b.relu("stem.relu", b.conv_bn("stem.conv", x, o.channels, w0, 3, 1));
  struct Block {
    int64_t in, out, stride;
  };
  const Block blocks[] = {{w0, w0, 1}, {w0, 2 * w0, 2}, {2 * w0, 4 * w0, 2}};
  int i = 0;
  for (const Block& blk : blocks) {
    const std::string p = "layer" + std::to_string(++i);
    std::string y = b.relu(p + ".relu1", b.conv_bn(p + ".conv1", x, blk.in, blk.out, 3, blk.stride));
    y = b.conv_bn(p + ".conv2", y, blk.out, blk.out, 3, 1);
    const std::string shortcut =
        blk.in == blk.out && blk.stride == 1 ? x : b.conv_bn(p + ".downsample", x, blk.in, blk.out, 1, blk.stride);
    x = b.relu(p + ".relu2", b.add(p + ".add", "Add", {y, shortcut}));
  }
  x = b.add("pool", "GlobalAveragePool", {x});
  x = b.add("flatten", "Flatten", {x}, {int_attr("axis", 1)});
  b.linear("fc", x, 4 * w0, o.classes);
  return b.finish(o, "logits");
}

}  // namespace

std::vector<std::string> arch_names() { return {"cnn", "mobilenet", "resnet"}; }

ir::Model build_arch(const std::string& arch, const ArchOptions& opts) {
  if (arch == "cnn") return build_cnn(opts);
  if (arch == "mobilenet") return build_mobilenet(opts);
  if (arch == "resnet") return build_resnet(opts);
  fail_input("--arch: unknown architecture '{}' (cnn, mobilenet, resnet)", arch);
}

}  // namespace qforge::train
