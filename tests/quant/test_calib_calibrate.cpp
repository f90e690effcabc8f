// calibrate() on a tiny Conv → Relu → Flatten → Gemm model built here. The expected ranges are the
// min / max of values computed independently in this file (direct loops over the definitions of Conv,
// Relu and Gemm), never by the runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "quant/calibrate.h"

namespace qforge::quant {
namespace {

ir::ValueInfo value(const std::string& name, std::vector<int64_t> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  for (int64_t d : dims) v.dims.push_back(ir::Dim::known(d));
  return v;
}

ir::Attribute ints_attr(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::ints;
  a.ints = std::move(v);
  return a;
}

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

ir::Node node(const std::string& name, const std::string& op, std::vector<std::string> in,
              std::vector<std::string> out, std::vector<ir::Attribute> attrs = {}) {
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  return n;
}

// Weights by formula so the test can recompute everything.
float conv_w(int oc, int ky, int kx) { return 0.25f * static_cast<float>((oc + 1) * (ky - kx)) + 0.1f * oc; }
float conv_b(int oc) { return oc == 0 ? -0.5f : 0.25f; }
float gemm_w(int o, int i) { return 0.125f * static_cast<float>(((o * 8 + i) % 5) - 2); }
float gemm_b(int o) { return 0.5f * static_cast<float>(o) - 0.5f; }
float input_x(int batch, int i) { return static_cast<float>(((i * 7 + batch * 3) % 9) - 4) * 0.5f; }

// x [1,1,3,3] → Conv (2 out channels, 2x2 kernel) → c [1,2,2,2] → Relu → r → Flatten → f [1,8]
// → Gemm (B [3,8], transB = 1, C [3]) → y [1,3].
ir::Model tiny_model() {
  ir::Model m;
  m.opsets = {{"", 17}};
  m.graph.name = "tiny";
  m.graph.inputs = {value("x", {1, 1, 3, 3})};
  m.graph.outputs = {value("y", {1, 3})};
  Tensor w(DType::f32, {2, 1, 2, 2}), b(DType::f32, {2}), gw(DType::f32, {3, 8}), gb(DType::f32, {3});
  for (int oc = 0; oc < 2; ++oc) {
    b.data<float>()[oc] = conv_b(oc);
    for (int ky = 0; ky < 2; ++ky)
      for (int kx = 0; kx < 2; ++kx) w.data<float>()[oc * 4 + ky * 2 + kx] = conv_w(oc, ky, kx);
  }
  for (int o = 0; o < 3; ++o) {
    gb.data<float>()[o] = gemm_b(o);
    for (int i = 0; i < 8; ++i) gw.data<float>()[o * 8 + i] = gemm_w(o, i);
  }
  m.graph.add_initializer("W", w);
  m.graph.add_initializer("B", b);
  m.graph.add_initializer("GW", gw);
  m.graph.add_initializer("GB", gb);
  m.graph.nodes = {
      node("conv", "Conv", {"x", "W", "B"}, {"c"}, {ints_attr("kernel_shape", {2, 2})}),
      node("relu", "Relu", {"c"}, {"r"}),
      node("flatten", "Flatten", {"r"}, {"f"}, {int_attr("axis", 1)}),
      node("gemm", "Gemm", {"f", "GW", "GB"}, {"y"}, {int_attr("transB", 1)}),
  };
  return m;
}

struct Values {
  std::vector<float> x, c, r, y;
};

Values reference(int batch) {
  Values v;
  for (int i = 0; i < 9; ++i) v.x.push_back(input_x(batch, i));
  for (int oc = 0; oc < 2; ++oc)
    for (int oy = 0; oy < 2; ++oy)
      for (int ox = 0; ox < 2; ++ox) {
        double s = conv_b(oc);
        for (int ky = 0; ky < 2; ++ky)
          for (int kx = 0; kx < 2; ++kx) s += double{conv_w(oc, ky, kx)} * v.x[(oy + ky) * 3 + ox + kx];
        v.c.push_back(static_cast<float>(s));
      }
  for (float c : v.c) v.r.push_back(std::max(c, 0.0f));
  for (int o = 0; o < 3; ++o) {
    double s = gemm_b(o);
    for (int i = 0; i < 8; ++i) s += double{gemm_w(o, i)} * v.r[i];
    v.y.push_back(static_cast<float>(s));
  }
  return v;
}

Tensor input_tensor(int batch) {
  Tensor t(DType::f32, {1, 1, 3, 3});
  for (int i = 0; i < 9; ++i) t.data<float>()[i] = input_x(batch, i);
  return t;
}

SingleBatchSource source(int batches) {
  auto i = std::make_shared<int>(0);
  return [i, batches]() { return *i < batches ? input_tensor((*i)++) : Tensor(); };
}

void expect_range(const CalibTable& t, const std::string& name, const std::vector<float>& all) {
  const CalibEntry* e = t.find(name);
  ASSERT_NE(e, nullptr) << name;
  EXPECT_NEAR(e->range.min, *std::min_element(all.begin(), all.end()), 1e-5) << name;
  EXPECT_NEAR(e->range.max, *std::max_element(all.begin(), all.end()), 1e-5) << name;
}

TEST(Calibrate, TinyModelObservesActivationsWithMinMax) {
  const int kBatches = 3;
  CalibOptions opts;
  opts.method_of["r"] = "percentile";
  const CalibTable t = calibrate(tiny_model(), source(kBatches), opts);
  EXPECT_EQ(t.batches, kBatches);
  EXPECT_EQ(t.samples, kBatches);
  std::set<std::string> names;
  for (const auto& [n, e] : t.tensors) names.insert(n);
  // Inputs of nodes that are not initializers; the graph output y feeds no node.
  EXPECT_EQ(names, (std::set<std::string>{"x", "c", "r", "f"}));
  Values all;
  for (int b = 0; b < kBatches; ++b) {
    Values v = reference(b);
    all.x.insert(all.x.end(), v.x.begin(), v.x.end());
    all.c.insert(all.c.end(), v.c.begin(), v.c.end());
    all.r.insert(all.r.end(), v.r.begin(), v.r.end());
  }
  expect_range(t, "x", all.x);
  expect_range(t, "c", all.c);
  expect_range(t, "f", all.r);  // Flatten of r
  EXPECT_EQ(t.find("c")->method, "minmax");
  EXPECT_EQ(t.find("r")->method, "percentile");
  EXPECT_EQ(t.find("c")->count, kBatches * 8);
  EXPECT_EQ(t.find("x")->count, kBatches * 9);
}

TEST(Calibrate, ExplicitTensorListIncludingTheOutput) {
  CalibOptions opts;
  opts.tensors = {"y", "c"};
  const CalibTable t = calibrate(tiny_model(), source(2), opts);
  EXPECT_EQ(t.tensors.size(), 2u);
  std::vector<float> ys;
  for (int b = 0; b < 2; ++b) {
    Values v = reference(b);
    ys.insert(ys.end(), v.y.begin(), v.y.end());
  }
  expect_range(t, "y", ys);
}

TEST(Calibrate, BadInputs) {
  EXPECT_THROW(calibrate(tiny_model(), source(0)), InputError);  // empty calibration set
  CalibOptions unknown;
  unknown.tensors = {"nope"};
  EXPECT_THROW(calibrate(tiny_model(), source(1), unknown), InputError);
  CalibOptions bad_method;
  bad_method.method = "kl";
  EXPECT_THROW(calibrate(tiny_model(), source(1), bad_method), InputError);
  // NaN in the calibration data: the error names the graph input.
  int n = 0;
  auto nan_source = [&n]() {
    Tensor t = input_tensor(0);
    t.data<float>()[4] = NAN;
    return n++ < 1 ? t : Tensor();
  };
  try {
    calibrate(tiny_model(), SingleBatchSource(nan_source));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'x'"), std::string::npos) << e.what();
  }
  // Wrong shape: the session's input check.
  int calls = 0;
  SingleBatchSource wrong = [&calls]() { return calls++ < 1 ? Tensor(DType::f32, {1, 1, 4, 4}) : Tensor(); };
  EXPECT_THROW(calibrate(tiny_model(), wrong), InputError);
}

}  // namespace
}  // namespace qforge::quant
