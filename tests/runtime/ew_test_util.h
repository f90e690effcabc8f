// Helpers for the elementwise / activation / quantization op tests: build a one-node model, run it
// through runtime::Session, and run an op's shape inference on symbolic shapes.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"

namespace qforge::ew_test {

inline ir::Attribute attr_i(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}
inline ir::Attribute attr_f(const std::string& name, float v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::f;
  a.f = v;
  return a;
}
inline ir::Attribute attr_s(const std::string& name, const std::string& v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::s;
  a.s = v;
  return a;
}

// One node "n0" of op_type; input k is graph input "in<k>" (an empty Tensor marks an omitted
// optional input); outputs "out<k>".
inline ir::Model one_node_model(const std::string& op_type, const std::vector<Tensor>& inputs,
                                const std::vector<ir::Attribute>& attrs, const std::string& domain = "",
                                int num_outputs = 1) {
  ir::Model m;
  m.opsets = {{"", 21}};
  if (!domain.empty()) m.opsets.push_back({domain, 1});
  ir::Node n;
  n.name = "n0";
  n.op_type = op_type;
  n.domain = domain;
  n.attrs = attrs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].empty()) {
      n.inputs.emplace_back();
      continue;
    }
    ir::ValueInfo vi;
    vi.name = "in" + std::to_string(k);
    vi.dtype = inputs[k].dtype();
    vi.has_shape = true;
    for (int64_t d : inputs[k].shape()) vi.dims.push_back(ir::Dim::known(d));
    m.graph.inputs.push_back(vi);
    n.inputs.push_back(vi.name);
  }
  for (int k = 0; k < num_outputs; ++k) {
    n.outputs.push_back("out" + std::to_string(k));
    ir::ValueInfo vo;
    vo.name = n.outputs.back();
    m.graph.outputs.push_back(vo);
  }
  m.graph.nodes.push_back(n);
  return m;
}

// Runs the one-node model; returns its outputs.
inline std::vector<Tensor> run_op(const std::string& op_type, const std::vector<Tensor>& inputs,
                                  const std::vector<ir::Attribute>& attrs = {}, const std::string& domain = "",
                                  int threads = 1, int num_outputs = 1) {
  runtime::SessionOptions opts;
  opts.threads = threads;
  opts.fold_constants = false;
  opts.optimize = false;
  runtime::Session s(one_node_model(op_type, inputs, attrs, domain, num_outputs), opts);
  std::vector<Tensor> feed;
  for (const auto& t : inputs)
    if (!t.empty()) feed.push_back(t);
  return s.run(feed);
}

inline Tensor run_op1(const std::string& op_type, const std::vector<Tensor>& inputs,
                      const std::vector<ir::Attribute>& attrs = {}, const std::string& domain = "", int threads = 1) {
  return run_op(op_type, inputs, attrs, domain, threads).at(0);
}

// Static inference of one node on the given (possibly symbolic) input types.
inline std::vector<runtime::TypeShape> infer_op(const std::string& op_type, std::vector<runtime::TypeShape> inputs,
                                                const std::vector<ir::Attribute>& attrs = {},
                                                const std::string& domain = "") {
  ir::Node n;
  n.name = "n0";
  n.op_type = op_type;
  n.domain = domain;
  n.attrs = attrs;
  for (size_t k = 0; k < inputs.size(); ++k)
    n.inputs.push_back(inputs[k].dtype == DType::undefined ? "" : "in" + std::to_string(k));
  n.outputs = {"out0"};
  const runtime::OpDef* op = runtime::find_op(domain, op_type);
  QF_CHECK(op != nullptr, "op not registered: " + op_type);
  runtime::InferCtx c{n, std::move(inputs), {}};
  c.values.assign(c.inputs.size(), nullptr);
  return op->infer(c);
}

inline runtime::TypeShape ts(DType t, std::vector<ir::Dim> dims) {
  return runtime::TypeShape{t, true, std::move(dims)};
}
inline ir::Dim dk(int64_t v) { return ir::Dim::known(v); }
inline ir::Dim dsym(const std::string& s) { return ir::Dim::symbol(s); }

// Pins the kernel ISA level for a scope (clamped to what the CPU has), restoring the previous level.
class EwIsaScope {
 public:
  explicit EwIsaScope(Isa isa) : prev_(active_isa()) { got_ = set_isa(isa); }
  ~EwIsaScope() { set_isa(prev_); }
  Isa got() const { return got_; }

 private:
  Isa prev_, got_;
};

// Deterministic values in [lo, hi) (a fixed LCG; no dependence on the code under test).
inline std::vector<float> ramp_values(int64_t n, float lo, float hi, uint32_t seed = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * static_cast<float>(s >> 8) / 16777216.0f;
  }
  return v;
}

inline Tensor f32_tensor(const Shape& shape, const std::vector<float>& v) {
  return Tensor::from_vector(DType::f32, shape, v);
}
inline Tensor rand_f32(const Shape& shape, float lo = -3, float hi = 3, uint32_t seed = 1) {
  return f32_tensor(shape, ramp_values(shape_numel(shape), lo, hi, seed));
}

// Numpy-style broadcasting, naively: the flat index of an input element for output index `idx`.
inline int64_t naive_broadcast_index(const Shape& out, const Shape& in, int64_t idx) {
  int64_t off = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1, j = static_cast<int>(in.size()) - 1; d >= 0; --d, --j) {
    const int64_t c = idx % out[d];
    idx /= out[d];
    if (j < 0) continue;
    if (in[j] != 1) off += c * stride;
    stride *= in[j];
  }
  return off;
}

// Elementwise comparison with a relative + absolute bound; prints the first mismatches.
inline void expect_near_all(const Tensor& got, const std::vector<float>& want, float rel = 1e-6f, float abs = 1e-6f) {
  ASSERT_EQ(got.dtype(), DType::f32);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    const float g = got.data<float>()[i], w = want[i];
    const bool same = (std::isnan(g) && std::isnan(w)) || g == w || std::fabs(g - w) <= abs + rel * std::fabs(w);
    if (!same) {
      ++bad;
      ADD_FAILURE() << "index " << i << ": got " << g << ", want " << w;
    }
  }
}

}  // namespace qforge::ew_test
