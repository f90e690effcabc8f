#include "runtime/ops/ew_util.h"

namespace qforge::runtime {

void require_same_dtype(const InferCtx& c, size_t i, size_t j) {
  const DType a = c.in(i).dtype, b = c.in(j).dtype;
  if (a != DType::undefined && b != DType::undefined && a != b)
    fail_node(c.node, "inputs {} and {} must have the same dtype, got {} and {}", i, j, dtype_name(a), dtype_name(b));
}

std::vector<TypeShape> shape_of_input(const InferCtx& c, size_t i, DType out) {
  TypeShape t = c.in(i);
  t.dtype = out;
  return {t};
}

std::vector<TypeShape> broadcast_of_inputs(const InferCtx& c, const std::vector<size_t>& inputs, DType out) {
  std::vector<const TypeShape*> shapes;
  for (size_t i : inputs) shapes.push_back(&c.in(i));
  return {broadcast(c.node, shapes, out)};
}

namespace {
const ir::Attribute* typed_attr(const ir::Node& n, const char* name, ir::AttrKind kind, const char* kind_name) {
  const ir::Attribute* a = n.attr(name);
  if (a && a->kind != kind) fail_node(n, "attribute '{}' must be {}", name, kind_name);
  return a;
}
}  // namespace

float attr_float(const ir::Node& n, const char* name, float dflt) {
  const ir::Attribute* a = typed_attr(n, name, ir::AttrKind::f, "a float");
  return a ? a->f : dflt;
}

int64_t attr_int(const ir::Node& n, const char* name, int64_t dflt) {
  const ir::Attribute* a = typed_attr(n, name, ir::AttrKind::i, "an int");
  return a ? a->i : dflt;
}

std::string attr_string(const ir::Node& n, const char* name, const std::string& dflt) {
  const ir::Attribute* a = typed_attr(n, name, ir::AttrKind::s, "a string");
  return a ? a->s : dflt;
}

}  // namespace qforge::runtime
