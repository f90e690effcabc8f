// Tiny hand-built classifiers for the eval and CLI tests: their outputs are known without running
// anything, so expected metrics can be worked out by hand.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qforge::testing_models {

inline ir::ValueInfo value(const std::string& name, std::vector<ir::Dim> dims) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::f32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

// x f32 [batch,1,2,2] -> Flatten(axis 1) -> scores [batch,4]: the scores are the 4 pixels.
// `batch` is a symbolic "N" when batch < 0.
inline ir::Model flatten_classifier(int64_t batch = -1) {
  ir::Dim b = batch < 0 ? ir::Dim::symbol("N") : ir::Dim::known(batch);
  ir::Model m;
  m.opsets = {{"", 17}};
  m.producer_name = "qforge-tests";
  m.graph.name = "flatten_classifier";
  m.graph.inputs = {value("x", {b, ir::Dim::known(1), ir::Dim::known(2), ir::Dim::known(2)})};
  m.graph.outputs = {value("scores", {b, ir::Dim::known(4)})};
  ir::Node n;
  n.name = "flatten";
  n.op_type = "Flatten";
  n.inputs = {"x"};
  n.outputs = {"scores"};
  ir::Attribute axis;
  axis.name = "axis";
  axis.kind = ir::AttrKind::i;
  axis.i = 1;
  n.attrs = {axis};
  m.graph.nodes = {n};
  return m;
}

// Like flatten_classifier, then Add of a zero bias [4] (an f32 initializer: 4 parameters, 16 bytes),
// so the scores are still the pixels.
inline ir::Model flatten_bias_classifier() {
  ir::Model m = flatten_classifier();
  m.graph.nodes[0].outputs = {"flat"};
  ir::Node add;
  add.name = "add_bias";
  add.op_type = "Add";
  add.inputs = {"flat", "bias"};
  add.outputs = {"scores"};
  m.graph.nodes.push_back(add);
  m.graph.add_initializer("bias", Tensor(DType::f32, {4}));
  return m;
}

}  // namespace qforge::testing_models
