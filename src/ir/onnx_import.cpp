// ONNX ModelProto → ir::Model. The bytes are untrusted: protobuf parsing is bounded (2 GiB, default
// recursion limit), subgraph nesting is bounded, every tensor is validated before allocation
// (onnx_tensor.cpp), and each opset variant is mapped onto the canonical IR (struct Canon below).
#include <sys/stat.h>

#include <climits>
#include <filesystem>
#include <set>
#include <unordered_set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include "core/file_io.h"
#include "ir/onnx_io.h"
#include "ir/onnx_tensor.h"

namespace qforge::ir {
namespace {

constexpr int kMaxGraphDepth = 32;
constexpr int64_t kMinOpset = 11;
constexpr int64_t kMaxOpset = 21;

struct ImportCtx {
  TensorReadCtx tensors;
  int64_t opset = 0;  // default domain
  std::set<std::pair<std::string, std::string>> functions;  // model-local (domain, name)
  const std::string& file() const { return tensors.file; }
};

template <typename... Args>
[[noreturn]] void fail_file(const ImportCtx& ctx, fmt::format_string<Args...> f, Args&&... args) {
  fail_input("{}: {}", ctx.file(), fmt::format(f, std::forward<Args>(args)...));
}

std::string node_where(const Node& n) {
  return fmt::format("failed to import node '{}' ({})", printable(n.name),
                     printable(n.domain.empty() ? n.op_type : n.domain + "." + n.op_type));
}

template <typename... Args>
[[noreturn]] void fail_node(const ImportCtx& ctx, const Node& n, fmt::format_string<Args...> f, Args&&... args) {
  fail_input("{}: {}: {}", ctx.file(), node_where(n), fmt::format(f, std::forward<Args>(args)...));
}

std::string norm_domain(const std::string& d) { return d == "ai.onnx" ? std::string{} : d; }

// ---- values ----

std::optional<ValueInfo> import_value_info(const onnx::ValueInfoProto& v, const ImportCtx& ctx,
                                           const char* role) {
  ValueInfo vi;
  vi.name = v.name();
  vi.doc_string = v.doc_string();
  if (vi.name.empty()) fail_file(ctx, "graph {} with an empty name", role);
  if (!v.has_type()) return vi;
  const auto& type = v.type();
  if (!type.has_tensor_type()) {
    if (std::string(role) == "value_info") return std::nullopt;
    fail_file(ctx, "graph {} '{}' is not a tensor (sequence, map and optional types are not supported)",
              role, printable(vi.name));
  }
  const auto& tt = type.tensor_type();
  if (tt.elem_type() != 0) {
    auto dt = dtype_from_onnx(tt.elem_type());
    if (!dt) fail_file(ctx, "graph {} '{}' has unknown elem_type {}", role, printable(vi.name), tt.elem_type());
    vi.dtype = *dt;
  }
  if (tt.has_shape()) {
    vi.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value() && d.dim_value() >= 0) {
        vi.dims.push_back(Dim::known(d.dim_value()));
      } else if (d.has_dim_value()) {
        vi.dims.push_back(Dim{});  // some exporters (Paddle) write -1 for "dynamic"; ONNX Runtime agrees
      } else if (d.has_dim_param()) {
        vi.dims.push_back(Dim::symbol(d.dim_param()));
      } else {
        vi.dims.push_back(Dim{});
      }
    }
  }
  return vi;
}

// ---- nodes and attributes ----

Graph import_graph(const onnx::GraphProto& g, ImportCtx& ctx, int depth);

onnx::AttributeProto::AttributeType attr_type(const onnx::AttributeProto& a) {
  using A = onnx::AttributeProto;
  if (a.type() != A::UNDEFINED) return a.type();
  // Files from before IR version 2 leave `type` unset; the filled field tells.
  if (a.has_f()) return A::FLOAT;
  if (a.has_i()) return A::INT;
  if (a.has_s()) return A::STRING;
  if (a.has_t()) return A::TENSOR;
  if (a.has_g()) return A::GRAPH;
  if (a.floats_size()) return A::FLOATS;
  if (a.ints_size()) return A::INTS;
  if (a.strings_size()) return A::STRINGS;
  if (a.tensors_size()) return A::TENSORS;
  if (a.graphs_size()) return A::GRAPHS;
  return A::UNDEFINED;
}

Attribute import_attr(const onnx::AttributeProto& a, const Node& n, ImportCtx& ctx, int depth) {
  using A = onnx::AttributeProto;
  Attribute r;
  r.name = a.name();
  r.doc_string = a.doc_string();
  if (r.name.empty()) fail_node(ctx, n, "attribute with an empty name");
  if (a.has_ref_attr_name()) fail_node(ctx, n, "attribute '{}' refers to a function attribute", printable(r.name));
  std::string what = fmt::format("{}: attribute '{}'", node_where(n), printable(r.name));
  switch (attr_type(a)) {
    case A::FLOAT: r.kind = AttrKind::f; r.f = a.f(); break;
    case A::INT: r.kind = AttrKind::i; r.i = a.i(); break;
    case A::STRING: r.kind = AttrKind::s; r.s = a.s(); break;
    case A::TENSOR: r.kind = AttrKind::t; r.t = tensor_from_proto(a.t(), ctx.tensors, what); break;
    case A::GRAPH:
      r.kind = AttrKind::g;
      r.g = std::make_shared<Graph>(import_graph(a.g(), ctx, depth + 1));
      break;
    case A::FLOATS: r.kind = AttrKind::floats; r.floats.assign(a.floats().begin(), a.floats().end()); break;
    case A::INTS: r.kind = AttrKind::ints; r.ints.assign(a.ints().begin(), a.ints().end()); break;
    case A::STRINGS: r.kind = AttrKind::strings; r.strings.assign(a.strings().begin(), a.strings().end()); break;
    case A::TENSORS:
      r.kind = AttrKind::tensors;
      for (const auto& t : a.tensors()) r.tensors.push_back(tensor_from_proto(t, ctx.tensors, what));
      break;
    case A::GRAPHS:
      r.kind = AttrKind::graphs;
      for (const auto& g : a.graphs()) r.graphs.push_back(std::make_shared<Graph>(import_graph(g, ctx, depth + 1)));
      break;
    case A::TYPE_PROTO: r.kind = AttrKind::type_proto; r.s = a.tp().SerializeAsString(); break;
    case A::SPARSE_TENSOR: case A::SPARSE_TENSORS:
      fail_node(ctx, n, "attribute '{}': sparse tensors are not supported", printable(r.name));
    case A::TYPE_PROTOS:
      fail_node(ctx, n, "attribute '{}': lists of types are not supported", printable(r.name));
    default: fail_node(ctx, n, "attribute '{}' has no value or an unknown type {}", printable(r.name),
                       static_cast<int>(a.type()));
  }
  for (const auto& x : n.attrs)
    if (x.name == r.name) fail_node(ctx, n, "attribute '{}' appears twice", printable(r.name));
  return r;
}

Node import_node(const onnx::NodeProto& p, ImportCtx& ctx, int depth) {
  Node n;
  n.name = p.name();
  n.op_type = p.op_type();
  n.domain = norm_domain(p.domain());
  n.doc_string = p.doc_string();
  n.inputs.assign(p.input().begin(), p.input().end());
  n.outputs.assign(p.output().begin(), p.output().end());
  if (n.op_type.empty()) fail_node(ctx, n, "empty op_type");
  if (ctx.functions.count({n.domain, n.op_type}))
    fail_node(ctx, n, "model-local functions are not supported");
  for (const auto& a : p.attribute()) n.attrs.push_back(import_attr(a, n, ctx, depth));
  return n;
}

// ---- canonical IR (STYLE §9): every opset variant becomes the newest form ----

struct Canon {
  Graph& g;
  ImportCtx& ctx;
  std::unordered_set<std::string> names;  // every value name in the graph
  std::unordered_set<std::string> used;   // values read by a node (any depth) or graph outputs

  std::string fresh(const std::string& base) {
    std::string n = base;
    for (int k = 1; names.count(n); ++k) n = fmt::format("{}_{}", base, k);
    names.insert(n);
    return n;
  }
  void set_input(Node& n, size_t i, const std::string& v) {
    if (n.inputs.size() <= i) n.inputs.resize(i + 1);
    n.inputs[i] = v;
  }
  // Moves attribute `attr` (ints → s64 1-D, float → f32 scalar) to input i as a new initializer.
  void attr_to_input(Node& n, const std::string& attr, size_t i) {
    const Attribute* a = n.attr(attr);
    if (!a) return;
    if (!n.input(i).empty()) fail_node(ctx, n, "has both attribute '{}' and input {}", attr, i);
    Tensor t;
    if (a->kind == AttrKind::ints)
      t = Tensor::from_vector<int64_t>(DType::s64, {static_cast<int64_t>(a->ints.size())}, a->ints);
    else if (a->kind == AttrKind::f)
      t = Tensor::from_vector<float>(DType::f32, {}, {a->f});
    else
      fail_node(ctx, n, "attribute '{}' has the wrong kind", attr);
    std::string name = fresh(n.name + "_" + attr);
    g.add_initializer(name, std::move(t));
    set_input(n, i, name);
    n.remove_attr(attr);
  }
  void upsample_to_resize(Node& n) {
    std::string mode = n.attr_s("mode", "nearest");
    if (mode == "bilinear") mode = "linear";
    if (mode != "nearest" && mode != "linear") fail_node(ctx, n, "unsupported Upsample mode '{}'", printable(mode));
    std::string scales = n.input(1);
    if (const Attribute* a = n.attr("scales")) {
      if (!scales.empty()) fail_node(ctx, n, "has both attribute 'scales' and input 1");
      scales = fresh(n.name + "_scales");
      g.add_initializer(scales, Tensor::from_vector<float>(DType::f32, {static_cast<int64_t>(a->floats.size())}, a->floats));
    }
    if (scales.empty()) fail_node(ctx, n, "has no scales");
    n.op_type = "Resize";
    n.inputs = {n.input(0), "", scales};
    n.attrs.clear();
    n.set_attr(Attribute{.name = "mode", .kind = AttrKind::s, .s = mode});
    n.set_attr(Attribute{.name = "coordinate_transformation_mode", .kind = AttrKind::s, .s = "asymmetric"});
    if (mode == "nearest") n.set_attr(Attribute{.name = "nearest_mode", .kind = AttrKind::s, .s = "floor"});
  }
  void batchnorm_inference(Node& n) {
    if (n.attr_i("training_mode", 0) != 0) fail_node(ctx, n, "training_mode=1 is not supported");
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty() && used.count(n.outputs[i]))
        fail_node(ctx, n, "training output '{}' is used; only inference BatchNormalization is supported",
                  printable(n.outputs[i]));
    if (n.outputs.size() > 1) n.outputs.resize(1);
  }

  void apply(Node& n) {
    if (!n.domain.empty()) return;
    static const std::set<std::string> kReduce = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
        "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ReduceSum"};
    const std::string& op = n.op_type;
    if (kReduce.count(op) || op == "Squeeze" || op == "Unsqueeze") attr_to_input(n, "axes", 1);
    else if (op == "Split") attr_to_input(n, "split", 1);
    else if (op == "Clip") { attr_to_input(n, "min", 1); attr_to_input(n, "max", 2); }
    else if (op == "Pad") { attr_to_input(n, "pads", 1); attr_to_input(n, "value", 2); }
    else if (op == "Dropout") { attr_to_input(n, "ratio", 1); n.remove_attr("is_test"); }
    else if (op == "Upsample") upsample_to_resize(n);
    else if (op == "BatchNormalization") batchnorm_inference(n);
    else if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && ctx.opset < 13) {
      if (!n.has_attr("axis")) n.set_attr(Attribute{.name = "axis", .kind = AttrKind::i, .i = 1});
      n.set_attr(Attribute{.name = "qforge.coerce_2d", .kind = AttrKind::i, .i = 1});
    }
  }
};

void collect_used(const Graph& g, std::unordered_set<std::string>& used) {
  for (const auto& o : g.outputs) used.insert(o.name);
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs) used.insert(i);
    for (const auto& a : n.attrs) {
      if (a.g) collect_used(*a.g, used);
      for (const auto& sg : a.graphs) collect_used(*sg, used);
    }
  }
}

// Every value is defined once (SSA): node outputs do not repeat or shadow inputs and initializers.
void check_single_assignment(const Graph& g, const ImportCtx& ctx) {
  std::unordered_set<std::string> defined;
  for (const auto& [name, t] : g.initializers) defined.insert(name);
  for (const auto& v : g.inputs)
    if (!defined.insert(v.name).second) fail_file(ctx, "graph input '{}' is listed twice", printable(v.name));
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs)
      if (!o.empty() && !defined.insert(o).second)
        fail_node(ctx, n, "output '{}' is already defined elsewhere in the graph", printable(o));
}

Graph import_graph(const onnx::GraphProto& p, ImportCtx& ctx, int depth) {
  if (depth > kMaxGraphDepth) fail_file(ctx, "subgraphs nested deeper than {} levels", kMaxGraphDepth);
  if (p.sparse_initializer_size()) fail_file(ctx, "sparse initializers are not supported");
  Graph g;
  g.name = p.name();
  g.doc_string = p.doc_string();
  for (const auto& t : p.initializer()) {
    if (t.name().empty()) fail_file(ctx, "initializer with an empty name");
    if (g.initializer(t.name())) fail_file(ctx, "initializer '{}' appears twice", printable(t.name()));
    g.add_initializer(t.name(), tensor_from_proto(t, ctx.tensors, fmt::format("initializer '{}'", printable(t.name()))));
  }
  for (const auto& v : p.input())
    if (!g.initializer(v.name())) g.inputs.push_back(*import_value_info(v, ctx, "input"));
  for (const auto& v : p.output()) g.outputs.push_back(*import_value_info(v, ctx, "output"));
  for (const auto& v : p.value_info())
    if (auto vi = import_value_info(v, ctx, "value_info")) g.value_info.push_back(std::move(*vi));
  for (const auto& np : p.node()) g.nodes.push_back(import_node(np, ctx, depth));

  std::unordered_set<std::string> node_names;
  for (const auto& n : g.nodes)
    if (!n.name.empty()) node_names.insert(n.name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (!n.name.empty()) continue;
    std::string base = fmt::format("{}_{}", n.op_type, i), name = base;
    for (int k = 1; node_names.count(name); ++k) name = fmt::format("{}_{}", base, k);
    node_names.insert(name);
    n.name = name;
  }
  check_single_assignment(g, ctx);

  Canon canon{g, ctx, {}, {}};
  for (const auto& [name, t] : g.initializers) canon.names.insert(name);
  for (const auto& v : g.inputs) canon.names.insert(v.name);
  for (const auto& n : g.nodes) canon.names.insert(n.outputs.begin(), n.outputs.end());
  collect_used(g, canon.used);
  for (auto& n : g.nodes) canon.apply(n);
  return g;
}

// ---- model ----

void import_opsets(const onnx::ModelProto& mp, Model& m, ImportCtx& ctx) {
  for (const auto& o : mp.opset_import()) {
    std::string d = norm_domain(o.domain());
    for (const auto& seen : m.opsets)
      if (seen.domain == d) fail_file(ctx, "opset_import lists domain '{}' twice", printable(d));
    m.opsets.push_back(OpsetImport{d, o.version()});
  }
  ctx.opset = m.opset("");
  bool uses_default = false;
  for (const auto& n : mp.graph().node()) uses_default |= norm_domain(n.domain()).empty();
  if (ctx.opset == 0 && uses_default) fail_file(ctx, "model does not import the default ONNX opset");
  if (ctx.opset != 0 && (ctx.opset < kMinOpset || ctx.opset > kMaxOpset))
    fail_file(ctx, "default-domain opset {} is not supported (supported: {} to {})", ctx.opset, kMinOpset, kMaxOpset);
}

void check_outputs_defined(const Graph& g, const ImportCtx& ctx) {
  std::unordered_set<std::string> defined;
  for (const auto& v : g.inputs) defined.insert(v.name);
  for (const auto& [n, t] : g.initializers) defined.insert(n);
  for (const auto& n : g.nodes) defined.insert(n.outputs.begin(), n.outputs.end());
  for (const auto& o : g.outputs)
    if (!defined.count(o.name)) fail_file(ctx, "graph output '{}' is not produced by any node", printable(o.name));
}

Model import_model(const onnx::ModelProto& mp, ImportCtx& ctx) {
  if (!mp.has_ir_version()) fail_file(ctx, "not an ONNX model (no ir_version)");
  if (!mp.has_graph()) fail_file(ctx, "not an ONNX model (no graph)");
  Model m;
  m.ir_version = mp.ir_version();
  m.producer_name = mp.producer_name();
  m.producer_version = mp.producer_version();
  m.domain = mp.domain();
  m.model_version = mp.model_version();
  m.doc_string = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) m.metadata_props.emplace_back(kv.key(), kv.value());
  import_opsets(mp, m, ctx);
  for (const auto& f : mp.functions()) ctx.functions.insert({norm_domain(f.domain()), f.name()});
  m.graph = import_graph(mp.graph(), ctx, 0);
  check_outputs_defined(m.graph, ctx);
  try {
    m.graph.topo_sort();
  } catch (const InputError& e) {
    fail_file(ctx, "{}", one_line(e.what()));
  }
  return m;
}

}  // namespace

Model parse_onnx(std::string_view bytes, const std::string& name, const std::string& base_dir,
                 const ImportOptions& opts) {
  ImportCtx ctx{TensorReadCtx{name, base_dir, opts.max_tensor_bytes, 0}, 0, {}};
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    fail_file(ctx, "model is {} bytes; ONNX protobuf files are limited to 2 GiB", bytes.size());
  onnx::ModelProto mp;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetTotalBytesLimit(INT_MAX);
  if (!mp.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    fail_file(ctx, "not a valid ONNX model (protobuf parse failed)");
  return import_model(mp, ctx);
}

Model load_onnx(const std::string& path, const ImportOptions& opts) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > INT_MAX)
    fail_input("{}: model is {} bytes; ONNX protobuf files are limited to 2 GiB", path, st.st_size);
  std::string bytes = read_file(path, static_cast<size_t>(INT_MAX));
  std::string dir = std::filesystem::path(path).parent_path().string();
  return parse_onnx(bytes, path, dir.empty() ? "." : dir, opts);
}

}  // namespace qforge::ir
