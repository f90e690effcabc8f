// ir::Model → ONNX ModelProto at a chosen default-domain opset (11 to 21). The canonical IR is
// lowered where the target opset wants another form (Reduce* axes as an attribute before 18 —
// ReduceSum, Squeeze, Unsqueeze and Split before 13 —, Dropout's ratio before 12, Split
// num_outputs, Softmax's qforge.coerce_2d as Flatten → Softmax → Reshape from 13); qforge.*
// attributes are never written. Tensors are written as little-endian raw_data; serialization is
// deterministic.
#include <algorithm>
#include <climits>
#include <set>
#include <unordered_set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include "core/file_io.h"
#include "ir/model_files.h"
#include "ir/onnx_io.h"
#include "ir/onnx_tensor.h"

namespace qforge::ir {
namespace {

constexpr int64_t kMinExportOpset = 11;
constexpr int64_t kMaxExportOpset = 21;

void export_graph(const Graph& g, int64_t opset, std::vector<const Graph*> scope, onnx::GraphProto* p);

template <typename... Args>
[[noreturn]] void fail_export(const Node& n, int64_t opset, fmt::format_string<Args...> f, Args&&... args) {
  fail_input("cannot export {} at opset {}: {}", n.describe(), opset, fmt::format(f, std::forward<Args>(args)...));
}

// Lowers one graph's nodes to the target opset; remembers constants that lowering folded into
// attributes so unused ones are not written.
struct Lowering {
  const Graph& g;
  int64_t opset;
  std::vector<const Graph*> scope;  // enclosing graphs, innermost last (g included)
  std::unordered_set<std::string> names;
  std::vector<Node> out;
  std::unordered_set<std::string> folded;
  std::vector<std::pair<std::string, Tensor>> extra_inits;

  std::string fresh(const std::string& base) {
    std::string n = base;
    for (int k = 1; names.count(n); ++k) n = fmt::format("{}_{}", base, k);
    names.insert(n);
    return n;
  }

  // A constant value visible here: an initializer or a Constant node's output, innermost scope first.
  std::optional<Tensor> constant(const std::string& v) const {
    for (auto it = scope.rbegin(); it != scope.rend(); ++it) {
      if (const Tensor* t = (*it)->initializer(v)) return *t;
      int p = (*it)->producer(v);
      if (p >= 0) {
        const Node& n = (*it)->nodes[p];
        if (n.op_type == "Constant" && n.domain.empty()) return constant_node_value(n);
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  const ValueInfo* info(const std::string& v) const {
    for (auto it = scope.rbegin(); it != scope.rend(); ++it)
      if (const ValueInfo* vi = (*it)->find_value_info(v)) return vi;
    return nullptr;
  }
  // Rank of a value, -1 when unknown.
  int rank(const std::string& v) const {
    if (auto t = constant(v)) return t->rank();
    const ValueInfo* vi = info(v);
    return vi && vi->has_shape ? static_cast<int>(vi->dims.size()) : -1;
  }

  void reduce_axes_to_attr(Node& n) {
    if (n.attr_i("noop_with_empty_axes", 0) != 0 && n.input(1).empty())
      fail_export(n, opset, "noop_with_empty_axes=1 needs opset 18");
    n.remove_attr("noop_with_empty_axes");
    if (n.input(1).empty()) return;
    auto axes = constant(n.input(1));
    if (!axes) fail_export(n, opset, "axes '{}' is not a constant", n.input(1));
    folded.insert(n.input(1));
    n.set_attr(Attribute{.name = "axes", .kind = AttrKind::ints, .ints = axes->to_i64_vector()});
    n.inputs.resize(1);
  }

  // Opset < 13 Split: sizes as the `split` attribute.
  void split_sizes_to_attr(Node& n) {
    if (n.input(1).empty()) return;
    auto split = constant(n.input(1));
    if (!split) fail_export(n, opset, "split '{}' is not a constant", n.input(1));
    folded.insert(n.input(1));
    n.set_attr(Attribute{.name = "split", .kind = AttrKind::ints, .ints = split->to_i64_vector()});
    n.inputs.resize(1);
  }

  // Opset < 12 Dropout: ratio as an attribute; inference only (no training_mode input).
  void dropout_ratio_to_attr(Node& n) {
    if (!n.input(2).empty()) fail_export(n, opset, "training_mode needs opset 12");
    if (!n.input(1).empty()) {
      auto ratio = constant(n.input(1));
      if (!ratio) fail_export(n, opset, "ratio '{}' is not a constant", n.input(1));
      folded.insert(n.input(1));
      n.set_attr(Attribute{.name = "ratio", .kind = AttrKind::f, .f = static_cast<float>(ratio->at_f64(0))});
    }
    n.inputs.resize(1);
  }

  // Opset < 13 Softmax flattens to 2-D at `axis`: the coerced form is native; a single-axis
  // softmax is the same only over the last axis.
  void softmax_before_13(Node& n) {
    if (n.attr_i("qforge.coerce_2d", 0)) {
      n.remove_attr("qforge.coerce_2d");
      return;
    }
    int64_t axis = n.attr_i("axis", -1);
    int r = rank(n.input(0));
    if (axis != -1 && !(r >= 0 && (axis < 0 ? axis + r : axis) == r - 1))
      fail_export(n, opset, "a softmax over axis {} that is not the last needs opset 13", axis);
    n.set_attr(Attribute{.name = "axis", .kind = AttrKind::i, .i = r >= 0 ? r - 1 : -1});
  }

  void split_num_outputs(Node& n) {
    const Attribute* a = n.attr("num_outputs");
    if (opset >= 18) {
      if (!a && n.input(1).empty())
        n.set_attr(Attribute{.name = "num_outputs", .kind = AttrKind::i, .i = static_cast<int64_t>(n.outputs.size())});
      return;
    }
    if (!a) return;
    int64_t parts = a->i;
    n.remove_attr("num_outputs");
    const ValueInfo* vi = info(n.input(0));
    int r = rank(n.input(0));
    int64_t axis = n.attr_i("axis", 0);
    if (r >= 0 && axis < 0) axis += r;
    if (!vi || !vi->has_shape || axis < 0 || axis >= r || !vi->dims[axis].is_known())
      fail_export(n, opset, "num_outputs needs opset 18 when the split axis size is unknown");
    int64_t size = vi->dims[axis].value;
    if (parts <= 0) fail_export(n, opset, "num_outputs {} is not positive", parts);
    if (size % parts == 0 && parts == static_cast<int64_t>(n.outputs.size())) return;  // equal split
    // Opset 18: chunks of ceil(size / parts), the last one smaller.
    int64_t chunk = (size + parts - 1) / parts;
    std::vector<int64_t> split;
    for (int64_t left = size; left > 0; left -= chunk) split.push_back(std::min(chunk, left));
    if (opset < 13) {
      n.set_attr(Attribute{.name = "split", .kind = AttrKind::ints, .ints = split});
      return;
    }
    std::string name = fresh(n.name + "_split");
    extra_inits.emplace_back(name, Tensor::from_vector<int64_t>(DType::s64, {static_cast<int64_t>(split.size())}, split));
    if (n.inputs.size() < 2) n.inputs.resize(2);
    n.inputs[1] = name;
  }

  // Softmax-13 normalizes one axis; the opset < 13 form flattens to 2-D at `axis` first.
  void softmax_coerce_2d(Node n) {
    n.remove_attr("qforge.coerce_2d");
    int64_t axis = n.attr_i("axis", 1);
    int r = rank(n.input(0));
    if (axis == -1 || (r >= 0 && (axis < 0 ? axis + r : axis) == r - 1)) {
      out.push_back(std::move(n));
      return;
    }
    const std::string x = n.input(0), y = n.outputs.at(0);
    std::string flat = fresh(n.name + "_flat"), flat_y = fresh(n.name + "_flat_out"), shape = fresh(n.name + "_in_shape");
    Node flatten{.name = fresh(n.name + "_flatten"), .op_type = "Flatten", .domain = "", .inputs = {x}, .outputs = {flat}};
    flatten.set_attr(Attribute{.name = "axis", .kind = AttrKind::i, .i = axis});
    Node shape_of{.name = fresh(n.name + "_shape"), .op_type = "Shape", .domain = "", .inputs = {x}, .outputs = {shape}};
    Node reshape{.name = fresh(n.name + "_reshape"), .op_type = "Reshape", .domain = "", .inputs = {flat_y, shape}, .outputs = {y}};
    n.inputs = {flat};
    n.outputs = {flat_y};
    n.set_attr(Attribute{.name = "axis", .kind = AttrKind::i, .i = -1});
    out.push_back(std::move(flatten));
    out.push_back(std::move(n));
    out.push_back(std::move(shape_of));
    out.push_back(std::move(reshape));
  }

  void lower(const Node& src) {
    Node n = src;
    if (n.domain.empty()) {
      static const std::set<std::string> kReduceAttrAxes = {"ReduceMean", "ReduceMax", "ReduceMin",
          "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
      const std::string& op = n.op_type;
      if (kReduceAttrAxes.count(op) && opset < 18) reduce_axes_to_attr(n);
      else if ((op == "ReduceSum" || op == "Squeeze" || op == "Unsqueeze") && opset < 13) reduce_axes_to_attr(n);
      else if (op == "Split" && opset < 13) {
        split_num_outputs(n);
        split_sizes_to_attr(n);
      } else if (op == "Split") split_num_outputs(n);
      else if (op == "Dropout" && opset < 12) dropout_ratio_to_attr(n);
      else if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && opset < 13) softmax_before_13(n);
      else if (op == "Pad" && opset < 18 && !n.input(3).empty()) fail_export(n, opset, "Pad axes need opset 18");
      else if (op == "Resize" && opset >= 13 &&
               n.attr_s("coordinate_transformation_mode", "") == "tf_half_pixel_for_nn")
        fail_export(n, opset, "coordinate_transformation_mode 'tf_half_pixel_for_nn' exists only in opset 11");
      else if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && n.attr_i("qforge.coerce_2d", 0)) {
        softmax_coerce_2d(std::move(n));
        return;
      }
    }
    out.push_back(std::move(n));
  }
};

void value_info_to_proto(const ValueInfo& v, onnx::ValueInfoProto* p) {
  p->set_name(v.name);
  if (!v.doc_string.empty()) p->set_doc_string(v.doc_string);
  if (v.dtype == DType::undefined && !v.has_shape) return;
  auto* tt = p->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (!v.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (const auto& d : v.dims) {
    auto* dp = shape->add_dim();
    if (d.is_known()) dp->set_dim_value(d.value);
    else if (!d.param.empty()) dp->set_dim_param(d.param);
  }
}

void attr_to_proto(const Attribute& a, int64_t opset, const std::vector<const Graph*>& scope,
                   onnx::AttributeProto* p) {
  using A = onnx::AttributeProto;
  p->set_name(a.name);
  if (!a.doc_string.empty()) p->set_doc_string(a.doc_string);
  switch (a.kind) {
    case AttrKind::f: p->set_type(A::FLOAT); p->set_f(a.f); break;
    case AttrKind::i: p->set_type(A::INT); p->set_i(a.i); break;
    case AttrKind::s: p->set_type(A::STRING); p->set_s(a.s); break;
    case AttrKind::t: p->set_type(A::TENSOR); tensor_to_proto(a.t, "", p->mutable_t()); break;
    case AttrKind::g: p->set_type(A::GRAPH); export_graph(*a.g, opset, scope, p->mutable_g()); break;
    case AttrKind::floats: p->set_type(A::FLOATS); for (float v : a.floats) p->add_floats(v); break;
    case AttrKind::ints: p->set_type(A::INTS); for (int64_t v : a.ints) p->add_ints(v); break;
    case AttrKind::strings: p->set_type(A::STRINGS); for (const auto& v : a.strings) p->add_strings(v); break;
    case AttrKind::tensors:
      p->set_type(A::TENSORS);
      for (const auto& t : a.tensors) tensor_to_proto(t, "", p->add_tensors());
      break;
    case AttrKind::graphs:
      p->set_type(A::GRAPHS);
      for (const auto& g : a.graphs) export_graph(*g, opset, scope, p->add_graphs());
      break;
    case AttrKind::type_proto:
      p->set_type(A::TYPE_PROTO);
      QF_CHECK(p->mutable_tp()->ParseFromString(a.s), "attribute " + a.name + ": bad TypeProto");
      break;
  }
}

void collect_refs(const Graph& g, std::unordered_set<std::string>& refs) {
  for (const auto& o : g.outputs) refs.insert(o.name);
  for (const auto& n : g.nodes) {
    refs.insert(n.inputs.begin(), n.inputs.end());
    for (const auto& a : n.attrs) {
      if (a.g) collect_refs(*a.g, refs);
      for (const auto& sg : a.graphs) collect_refs(*sg, refs);
    }
  }
}

void export_graph(const Graph& g, int64_t opset, std::vector<const Graph*> scope, onnx::GraphProto* p) {
  scope.push_back(&g);
  Lowering low{g, opset, scope, {}, {}, {}, {}};
  for (const auto& [name, t] : g.initializers) low.names.insert(name);
  for (const auto& v : g.inputs) low.names.insert(v.name);
  for (const auto& n : g.nodes) {
    low.names.insert(n.outputs.begin(), n.outputs.end());
    low.names.insert(n.name);
  }
  for (const auto& n : g.nodes) low.lower(n);

  Graph lowered;  // only for the reference scan of what the written nodes read
  lowered.outputs = g.outputs;
  lowered.nodes = low.out;
  std::unordered_set<std::string> refs;
  collect_refs(lowered, refs);

  p->set_name(g.name);
  if (!g.doc_string.empty()) p->set_doc_string(g.doc_string);
  for (const auto& n : low.out) {
    auto* np = p->add_node();
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    if (!n.doc_string.empty()) np->set_doc_string(n.doc_string);
    for (const auto& a : n.attrs)
      if (!a.name.starts_with("qforge.")) attr_to_proto(a, opset, scope, np->add_attribute());
  }
  for (const auto& name : g.initializer_order) {
    if (low.folded.count(name) && !refs.count(name)) continue;
    tensor_to_proto(g.initializers.at(name), name, p->add_initializer());
  }
  for (const auto& [name, t] : low.extra_inits) tensor_to_proto(t, name, p->add_initializer());
  for (const auto& v : g.inputs) value_info_to_proto(v, p->add_input());
  for (const auto& v : g.outputs) value_info_to_proto(v, p->add_output());
  for (const auto& v : g.value_info) value_info_to_proto(v, p->add_value_info());
}

// Types that need a newer IR version than the opset implies: float8 (IR 9), int4 (IR 10).
int64_t ir_version_for_types(const Graph& g) {
  int64_t v = 0;
  auto see = [&](DType t) {
    if (t == DType::s4 || t == DType::u4) v = std::max<int64_t>(v, 10);
    if (t >= DType::f8e4m3fn && t <= DType::f8e5m2fnuz) v = std::max<int64_t>(v, 9);
  };
  for (const auto& [n, t] : g.initializers) see(t.dtype());
  for (const auto* list : {&g.inputs, &g.outputs, &g.value_info})
    for (const auto& vi : *list) see(vi.dtype);
  for (const auto& n : g.nodes)
    for (const auto& a : n.attrs) {
      if (a.kind == AttrKind::t) see(a.t.dtype());
      if (a.g) v = std::max(v, ir_version_for_types(*a.g));
      for (const auto& sg : a.graphs) v = std::max(v, ir_version_for_types(*sg));
    }
  return v;
}

void collect_domains(const Graph& g, std::set<std::string>& domains) {
  for (const auto& n : g.nodes) {
    if (!n.domain.empty()) domains.insert(n.domain);
    for (const auto& a : n.attrs) {
      if (a.g) collect_domains(*a.g, domains);
      for (const auto& sg : a.graphs) collect_domains(*sg, domains);
    }
  }
}

}  // namespace

std::string serialize_onnx(const Model& model, const ExportOptions& opts) {
  // A model built in memory may import no default-domain opset: it gets the lowest qforge writes.
  int64_t opset = opts.opset ? opts.opset : std::max(model.opset(""), kMinExportOpset);
  if (opset > kMaxExportOpset || opset < kMinExportOpset)
    fail_input("cannot export at opset {}: qforge writes opsets {} to {}", opset, kMinExportOpset, kMaxExportOpset);

  onnx::ModelProto mp;
  int64_t ir = opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
  mp.set_ir_version(std::max(ir, ir_version_for_types(model.graph)));
  auto* def = mp.add_opset_import();
  def->set_domain("");
  def->set_version(opset);
  std::set<std::string> used;
  collect_domains(model.graph, used);
  for (const auto& o : model.opsets) {
    if (o.domain.empty() || o.domain == "ai.onnx") continue;
    auto* op = mp.add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
    used.erase(o.domain);
  }
  for (const auto& d : used) {  // domains qforge added (e.g. "qforge") that the model did not list
    auto* op = mp.add_opset_import();
    op->set_domain(d);
    op->set_version(1);
  }
  mp.set_producer_name(model.producer_name);
  if (!model.producer_version.empty()) mp.set_producer_version(model.producer_version);
  if (!model.domain.empty()) mp.set_domain(model.domain);
  if (model.model_version) mp.set_model_version(model.model_version);
  if (!model.doc_string.empty()) mp.set_doc_string(model.doc_string);
  for (const auto& [k, v] : model.metadata_props) {
    auto* e = mp.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  }
  export_graph(model.graph, opset, {}, mp.mutable_graph());

  size_t size = mp.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    fail_input("model serializes to {} bytes; ONNX protobuf files are limited to 2 GiB", size);
  std::string bytes;
  bytes.reserve(size);
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    mp.SerializeWithCachedSizes(&cos);
    QF_CHECK(!cos.HadError(), "protobuf serialization failed");
  }
  return bytes;
}

void save_onnx(const Model& model, const std::string& path, const ExportOptions& opts,
               const std::string& input_path) {
  std::string bytes = serialize_onnx(model, opts);
  std::vector<std::string> inputs;
  if (!input_path.empty()) inputs = model_files(input_path);
  write_model_file(path, bytes, inputs);
}

}  // namespace qforge::ir
