// DynamicQuantizeLinear, MatMulInteger (the ONNX operator documentation's worked examples) and
// com.microsoft.MatMulBnb4 (a hand-packed NF4 weight) through a one-node Session.
#include <gtest/gtest.h>

#include "runtime/session.h"

namespace qforge::runtime {
namespace {

ir::ValueInfo input(const std::string& name, DType t, Shape s) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = t;
  v.has_shape = true;
  for (int64_t d : s) v.dims.push_back(ir::Dim::known(d));
  return v;
}

ir::Model one_node(ir::Node n, std::vector<ir::ValueInfo> inputs, std::map<std::string, Tensor> inits = {}) {
  ir::Model m;
  m.opsets = {{"", 21}, {"com.microsoft", 1}};
  m.graph.inputs = std::move(inputs);
  for (const auto& o : n.outputs) {
    ir::ValueInfo v;
    v.name = o;
    m.graph.outputs.push_back(v);
  }
  for (auto& [k, t] : inits) m.graph.add_initializer(k, t);
  m.graph.nodes = {std::move(n)};
  return m;
}

TEST(OpsQuantExt, DynamicQuantizeLinearOnnxExample) {
  ir::Node n;
  n.op_type = "DynamicQuantizeLinear";
  n.name = "dql";
  n.inputs = {"x"};
  n.outputs = {"y", "y_scale", "y_zero_point"};
  Session s(one_node(n, {input("x", DType::f32, {6})}));
  const Tensor x = Tensor::from_vector<float>(DType::f32, {6}, {0, 2, -3, -2.5f, 1.34f, 0.5f});
  const std::vector<Tensor> out = s.run({x});
  // ONNX docs: scale = (2 - (-3)) / 255, zero point = round(3 / scale) = 153.
  EXPECT_FLOAT_EQ(out[1].data<float>()[0], 5.0f / 255.0f);
  EXPECT_EQ(out[2].data<uint8_t>()[0], 153);
  const std::vector<uint8_t> expected = {153, 255, 0, 26, 221, 179};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[0].data<uint8_t>()[i], expected[i]) << i;
}

TEST(OpsQuantExt, DynamicQuantizeLinearAllZerosHasScaleOne) {
  ir::Node n;
  n.op_type = "DynamicQuantizeLinear";
  n.inputs = {"x"};
  n.outputs = {"y", "s", "z"};
  Session s(one_node(n, {input("x", DType::f32, {3})}));
  const std::vector<Tensor> out = s.run({Tensor(DType::f32, {3})});
  EXPECT_EQ(out[1].data<float>()[0], 1.0f);
  EXPECT_EQ(out[2].data<uint8_t>()[0], 0);
}

TEST(OpsQuantExt, MatMulIntegerOnnxExample) {
  ir::Node n;
  n.op_type = "MatMulInteger";
  n.inputs = {"a", "b", "a_zp", "b_zp"};
  n.outputs = {"y"};
  Session s(one_node(n, {input("a", DType::u8, {4, 3}), input("b", DType::u8, {3, 2}), input("a_zp", DType::u8, {}),
                         input("b_zp", DType::u8, {})}));
  const Tensor a = Tensor::from_vector<uint8_t>(DType::u8, {4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
  const Tensor b = Tensor::from_vector<uint8_t>(DType::u8, {3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor az = Tensor::from_vector<uint8_t>(DType::u8, {}, {12});
  const Tensor bz = Tensor::from_vector<uint8_t>(DType::u8, {}, {0});
  const Tensor y = s.run({a, b, az, bz})[0];
  ASSERT_EQ(y.dtype(), DType::s32);
  const std::vector<int32_t> expected = {-38, -83, -44, -98, -50, -113, -56, -128};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y.data<int32_t>()[i], expected[i]) << i;
}

TEST(OpsQuantExt, MatMulIntegerPerColumnSignedWeightsAndBatchedA) {
  ir::Node n;
  n.op_type = "MatMulInteger";
  n.inputs = {"a", "b", "a_zp", "b_zp"};
  n.outputs = {"y"};
  std::map<std::string, Tensor> inits = {
      {"b", Tensor::from_vector<int8_t>(DType::s8, {2, 2}, {-1, 2, 3, -4})},
      {"a_zp", Tensor::from_vector<uint8_t>(DType::u8, {}, {1})},
      {"b_zp", Tensor::from_vector<int8_t>(DType::s8, {2}, {0, 1})},
  };
  Session s(one_node(n, {input("a", DType::u8, {2, 1, 2})}, inits));
  const Tensor a = Tensor::from_vector<uint8_t>(DType::u8, {2, 1, 2}, {1, 2, 3, 4});
  const Tensor y = s.run({a})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 1, 2}));
  // rows (a - 1): [0, 1] and [2, 3]; columns (b - zp): [-1, 3] and [1, -5].
  const std::vector<int32_t> expected = {3, -5, 7, -13};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<int32_t>()[i], expected[i]) << i;
}

TEST(OpsQuantExt, MatMulBnb4DequantizesHighNibbleFirst) {
  // K = 16, N = 2, block 16: W^T row 0 = codes 15, 0, 15, 0, ... (levels +1, -1) at absmax 2;
  // row 1 = code 7 (level 0) everywhere at absmax 5.
  Tensor packed(DType::u8, {16});
  for (int i = 0; i < 8; ++i) packed.data<uint8_t>()[i] = 0xF0;
  for (int i = 8; i < 16; ++i) packed.data<uint8_t>()[i] = 0x77;
  const Tensor absmax = Tensor::from_vector<float>(DType::f32, {2}, {2.0f, 5.0f});
  ir::Node n;
  n.op_type = "MatMulBnb4";
  n.domain = "com.microsoft";
  n.inputs = {"a", "b", "absmax"};
  n.outputs = {"y"};
  for (auto [k, v] : std::vector<std::pair<const char*, int64_t>>{{"K", 16}, {"N", 2}, {"block_size", 16}, {"quant_type", 1}}) {
    ir::Attribute at;
    at.name = k;
    at.kind = ir::AttrKind::i;
    at.i = v;
    n.attrs.push_back(at);
  }
  Session s(one_node(n, {input("a", DType::f32, {1, 16})}, {{"b", packed}, {"absmax", absmax}}));
  Tensor a(DType::f32, {1, 16});
  for (int k = 0; k < 16; ++k) a.data<float>()[k] = static_cast<float>(k + 1);
  const Tensor y = s.run({a})[0];
  // sum over k of a_k · (±2): (1 - 2 + 3 - 4 + ... - 16) · 2 = -8 · 2 = -16; column 1 is 0.
  EXPECT_FLOAT_EQ(y.data<float>()[0], -16.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[1], 0.0f);
}

}  // namespace
}  // namespace qforge::runtime
