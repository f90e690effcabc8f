#include "runtime/op_registry.h"

namespace qforge::runtime {

TypeShape TypeShape::of(DType t, const Shape& s) {
  TypeShape ts{t, true, {}};
  for (int64_t d : s) ts.dims.push_back(ir::Dim::known(d));
  return ts;
}

bool TypeShape::fully_known() const {
  if (!has_shape) return false;
  for (const auto& d : dims)
    if (!d.is_known()) return false;
  return true;
}

Shape TypeShape::concrete() const {
  QF_CHECK(fully_known());
  Shape s;
  for (const auto& d : dims) s.push_back(d.value);
  return s;
}


namespace {
std::vector<OpDef> build_registry() {
  std::vector<OpDef> ops;
  register_ops_elementwise(ops);
  register_ops_activation(ops);
  register_ops_normalization(ops);
  register_ops_reduce(ops);
  register_ops_shape(ops);
  register_ops_quant(ops);
  register_ops_quant_ext(ops);
  register_ops_linear(ops);
  register_ops_pool(ops);
  register_ops_resize(ops);
  register_ops_qlinear(ops);
  register_ops_fake_quant(ops);
  return ops;
}

bool same_domain(std::string_view a, std::string_view b) {
  auto norm = [](std::string_view d) { return d == "ai.onnx" ? std::string_view{} : d; };
  return norm(a) == norm(b);
}
}  // namespace

std::span<const OpDef> all_ops() {
  static const std::vector<OpDef> kOps = build_registry();
  return kOps;
}

const OpDef* find_op(std::string_view domain, std::string_view op_type) {
  for (const auto& op : all_ops())
    if (op.op_type == op_type && same_domain(op.domain, domain)) return &op;
  return nullptr;
}

}  // namespace qforge::runtime
