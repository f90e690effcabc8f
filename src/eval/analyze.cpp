#include "eval/analyze.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "eval/inspect.h"
#include "ir/passes/fusion.h"
#include "runtime/session.h"

namespace qforge::eval {

// ---- ErrorStats ----

void ErrorStats::update(std::span<const float> x, std::span<const float> y) {
  QF_CHECK(x.size() == y.size());
  double x2 = 0, y2 = 0, xy = 0, e2 = 0, emax = max_abs_err;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = x[i], b = y[i], e = a - b;
    x2 += a * a;
    y2 += b * b;
    xy += a * b;
    e2 += e * e;
    emax = std::max(emax, std::fabs(e));
  }
  count += static_cast<int64_t>(x.size());
  sum_x2 += x2;
  sum_y2 += y2;
  sum_xy += xy;
  sum_err2 += e2;
  max_abs_err = emax;
}

double ErrorStats::sqnr_db() const {
  if (sum_err2 == 0) return std::numeric_limits<double>::infinity();
  if (sum_x2 == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sum_x2 / sum_err2);
}

double ErrorStats::cosine() const {
  if (sum_x2 == 0 && sum_y2 == 0) return 1.0;
  if (sum_x2 == 0 || sum_y2 == 0) return 0.0;
  return sum_xy / std::sqrt(sum_x2 * sum_y2);
}

namespace {

bool is_op(const ir::Node& n, const char* op) { return n.domain.empty() && n.op_type == op; }

std::string node_label(const ir::Graph& g, int i) {
  return g.nodes[i].name.empty() ? fmt::format("#{}", i) : g.nodes[i].name;
}

std::vector<const ir::ValueInfo*> data_inputs(const ir::Graph& g) {
  std::vector<const ir::ValueInfo*> v;
  for (const ir::ValueInfo& in : g.inputs)
    if (!g.initializer(in.name)) v.push_back(&in);
  return v;
}

// Same name and dtype; where both shapes are known, the same rank and the same known sizes.
bool compatible(const ir::ValueInfo& a, const ir::ValueInfo& b) {
  if (a.name != b.name || a.dtype != b.dtype) return false;
  if (!a.has_shape || !b.has_shape) return true;
  if (a.dims.size() != b.dims.size()) return false;
  for (size_t d = 0; d < a.dims.size(); ++d)
    if (a.dims[d].is_known() && b.dims[d].is_known() && a.dims[d].value != b.dims[d].value) return false;
  return true;
}

std::string describe_value(const ir::ValueInfo& v) { return fmt::format("'{}' {} {}", v.name, dtype_name(v.dtype), dims_str(v)); }

void check_models(const ir::Model& fp32, const ir::Model& quant) {
  const auto fi = data_inputs(fp32.graph), qi = data_inputs(quant.graph);
  if (fi.size() != qi.size())
    fail_input("the models' inputs differ: the FP32 model has {} input(s), the quantized model {}", fi.size(), qi.size());
  for (size_t i = 0; i < fi.size(); ++i)
    if (!compatible(*fi[i], *qi[i]))
      fail_input("the models' inputs differ: FP32 model input {} vs quantized model input {}", describe_value(*fi[i]),
                 describe_value(*qi[i]));
  const auto &fo = fp32.graph.outputs, &qo = quant.graph.outputs;
  if (fo.size() != qo.size())
    fail_input("the models' outputs differ: the FP32 model has {} output(s), the quantized model {}", fo.size(), qo.size());
  for (size_t i = 0; i < fo.size(); ++i)
    if (fo[i].name != qo[i].name)
      fail_input("the models' outputs differ: FP32 model output '{}' vs quantized model output '{}'", fo[i].name,
                 qo[i].name);
  if (!is_qdq(quant.graph))
    fail_input("the quantized model has no QuantizeLinear / DequantizeLinear node: it is not a QDQ model");
  if (fi.size() != 1) fail_input("the models have {} inputs; analyze needs models with exactly one input", fi.size());
  if (fi[0]->dtype != DType::undefined && fi[0]->dtype != DType::f32)
    fail_input("model input '{}' has dtype {}; analyze feeds f32 samples", fi[0]->name, dtype_name(fi[0]->dtype));
}

// The model input checked against the dataset's samples; the fixed batch size (0 when symbolic).
int64_t check_dataset(const ir::ValueInfo& in, const data::Dataset& ds) {
  const Shape sample = ds.sample_shape();
  if (!in.has_shape) return 0;
  bool fits = in.dims.size() == sample.size() + 1;
  for (size_t d = 0; fits && d < sample.size(); ++d)
    if (in.dims[d + 1].is_known() && in.dims[d + 1].value != sample[d]) fits = false;
  if (!fits) {
    std::string batch = "[N";
    for (int64_t d : sample) batch += "," + std::to_string(d);
    fail_input("model input '{}' expects {} but dataset '{}' gives batches of {}]", in.name, dims_str(in),
               ds.describe(), batch);
  }
  return in.dims[0].is_known() ? in.dims[0].value : 0;
}

// Every value a run produces (graph inputs, node outputs), in graph order.
std::vector<std::string> produced_values(const ir::Graph& g) {
  std::vector<std::string> v;
  for (const auto* in : data_inputs(g)) v.push_back(in->name);
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs)
      if (!o.empty()) v.push_back(o);
  return v;
}

// DequantizeLinear output → the activation T of T → QuantizeLinear → DequantizeLinear.
std::unordered_map<std::string, std::string> dequantized_activations(const ir::Graph& g) {
  std::unordered_map<std::string, std::string> out;
  for (const ir::Node& q : g.nodes) {
    if (!is_op(q, "QuantizeLinear") || q.outputs.empty()) continue;
    for (int c : g.consumers(q.outputs[0]))
      if (is_op(g.nodes[c], "DequantizeLinear") && !g.nodes[c].outputs.empty())
        out[g.nodes[c].outputs[0]] = q.input(0);
  }
  return out;
}

bool is_dq_output(const ir::Graph& g, const std::string& v) {
  const int p = v.empty() ? -1 : g.producer(v);
  return p >= 0 && is_op(g.nodes[p], "DequantizeLinear");
}

// Nodes (other than Q / DQ) that read a DequantizeLinear output.
std::vector<int> quantized_nodes(const ir::Graph& g) {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const ir::Node& n = g.nodes[i];
    if (is_op(n, "QuantizeLinear") || is_op(n, "DequantizeLinear")) continue;
    if (std::any_of(n.inputs.begin(), n.inputs.end(), [&](const std::string& in) { return is_dq_output(g, in); }))
      out.push_back(i);
  }
  return out;
}

void check_float_pair(const Tensor& a, const Tensor& b, const std::string& what) {
  if (a.dtype() != DType::f32 || b.dtype() != DType::f32 || a.shape() != b.shape())
    fail_input("{} is {} {} in the FP32 model but {} {} in the quantized model", what, dtype_name(a.dtype()),
               shape_str(a.shape()), dtype_name(b.dtype()), shape_str(b.shape()));
}

struct Plan {
  int64_t batch = 0, samples = 0;
  int64_t num_batches() const { return (samples + batch - 1) / batch; }
};

Plan make_plan(const ir::Model& fp32, data::Dataset& ds, const AnalyzeOptions& opts) {
  QF_CHECK(opts.batch > 0);
  const int64_t fixed = check_dataset(*data_inputs(fp32.graph)[0], ds);
  Plan p;
  p.samples = opts.samples > 0 ? std::min(opts.samples, ds.size()) : ds.size();
  if (p.samples <= 0) fail_input("dataset '{}' is empty", ds.describe());
  p.batch = fixed > 0 ? fixed : opts.batch;
  if (fixed > 0) {  // a fixed batch: full batches only (padding rows would enter the statistics)
    p.samples = p.samples / fixed * fixed;
    if (p.samples == 0)
      fail_input("the model takes batches of exactly {} samples but only {} are analysed", fixed,
                 std::min(opts.samples > 0 ? opts.samples : ds.size(), ds.size()));
  }
  return p;
}

data::Batch read_batch(data::Dataset& ds, const Plan& p, int64_t k) {
  const int64_t begin = k * p.batch;
  data::Batch b = ds.read(begin, std::min(p.batch, p.samples - begin));
  if (b.x.empty() || b.x.dim(0) == 0) fail_input("dataset '{}' returned no samples at index {}", ds.describe(), begin);
  return b;
}

// Pass 1: both models side by side, every common value compared.
void compare_models(const ir::Model& fp32, const ir::Model& quant, data::Dataset& ds, const Plan& plan,
                    const AnalyzeOptions& opts, AnalyzeResult& r, std::vector<std::vector<Tensor>>& fp_outputs) {
  runtime::SessionOptions so;
  so.threads = opts.threads;
  so.optimize = false;
  so.lower_qdq = false;  // the QDQ graph as written (float DQ → op → Q), every value visible
  runtime::Session sf(fp32, so), sq(quant, so);
  const ir::Graph& qg = quant.graph;

  std::set<std::string> in_quant;
  for (const std::string& v : produced_values(qg)) in_quant.insert(v);
  const auto dq_of = dequantized_activations(qg);
  std::set<std::string> quantized_sources;
  for (const auto& [d, t] : dq_of) quantized_sources.insert(t);
  std::unordered_map<std::string, size_t> layer_of;
  for (const std::string& v : produced_values(fp32.graph)) {
    if (!in_quant.count(v) || layer_of.count(v)) continue;
    LayerError le;
    le.value = v;
    if (const int p = qg.producer(v); p >= 0) {
      le.node = node_label(qg, p);
      le.op_type = qg.nodes[p].op_type;
    }
    if (const int p = fp32.graph.producer(v); p >= 0) le.fp32_op_type = fp32.graph.nodes[p].op_type;
    le.quantized = quantized_sources.count(v) > 0;
    layer_of[v] = r.layers.size();
    r.layers.push_back(std::move(le));
  }
  r.quantized_values = static_cast<int64_t>(quantized_sources.size());

  std::unordered_map<std::string, Tensor> fp_values, q_sources;
  std::set<std::string> dq_seen;
  std::vector<bool> non_float(r.layers.size(), false);
  sf.set_value_hook([&](const std::string& name, const Tensor& v) {
    if (layer_of.count(name)) fp_values[name] = v;  // a reference: the session does not reuse held buffers
  });
  sq.set_value_hook([&](const std::string& name, const Tensor& v) {
    // FP32 value vs what the quantized model's consumers read: T itself, or T_dequantized.
    auto compare = [&](size_t li, const std::string& fp_name) {
      const auto f = fp_values.find(fp_name);
      if (f == fp_values.end()) return;  // a constant in the FP32 model: never reported there
      const Tensor& x = f->second;
      if (x.dtype() != DType::f32 || v.dtype() != DType::f32) {
        non_float[li] = true;
        return;
      }
      check_float_pair(x, v, fmt::format("value '{}'", fp_name));
      r.layers[li].error.update(x.span<const float>(), v.span<const float>());
    };
    if (auto it = layer_of.find(name); it != layer_of.end() && !r.layers[it->second].quantized) compare(it->second, name);
    if (quantized_sources.count(name)) q_sources[name] = v;
    if (auto d = dq_of.find(name); d != dq_of.end()) {
      const auto l = layer_of.find(d->second);
      if (l == layer_of.end() || !dq_seen.insert(d->second).second) return;  // first DequantizeLinear of T only
      compare(l->second, d->second);
      const auto t = q_sources.find(d->second);
      LayerError& le = r.layers[l->second];
      if (le.fp32_op_type == le.op_type && t != q_sources.end() && t->second.dtype() == DType::f32 &&
          v.dtype() == DType::f32 && t->second.numel() == v.numel())
        le.own.update(t->second.span<const float>(), v.span<const float>());
    }
  });

  for (int64_t k = 0; k < plan.num_batches(); ++k) {
    data::Batch b = read_batch(ds, plan, k);
    std::vector<Tensor> yf = sf.run({b.x});
    const std::vector<Tensor> yq = sq.run({b.x});
    fp_values.clear();
    q_sources.clear();
    dq_seen.clear();
    for (size_t o = 0; o < yf.size(); ++o) {
      check_float_pair(yf[o], yq[o], fmt::format("output '{}'", fp32.graph.outputs[o].name));
      r.output.update(yf[o].span<const float>(), yq[o].span<const float>());
    }
    if (k == 0) {
      const Tensor& y = yf[0];
      r.classification = ds.has_labels() && y.rank() == 2 && y.dim(0) == b.x.dim(0) && y.dim(1) >= ds.num_classes();
      if (r.classification) {
        r.fp32.emplace(static_cast<int>(y.dim(1)));
        r.quant.emplace(static_cast<int>(y.dim(1)));
        r.class_names = ds.class_names();
      }
    }
    if (r.classification) {
      r.fp32->update(yf[0].span<const float>(), b.labels);
      r.quant->update(yq[0].span<const float>(), b.labels);
      const int64_t n = yf[0].dim(0), c = yf[0].dim(1);
      for (int64_t i = 0; i < n; ++i) {
        const auto row = [&](const Tensor& y) { return y.span<const float>().subspan(static_cast<size_t>(i * c), c); };
        r.agree += argmax_score(row(yf[0])) == argmax_score(row(yq[0]));
      }
    }
    fp_outputs.push_back(std::move(yf));
    r.samples += b.x.dim(0);
    if (opts.progress) opts.progress("compare", r.samples, plan.samples);
  }
  std::vector<LayerError> kept;
  for (size_t i = 0; i < r.layers.size(); ++i)
    if (!non_float[i] && r.layers[i].error.count > 0) kept.push_back(std::move(r.layers[i]));
  r.layers = std::move(kept);
}

// Pass 2: one model per quantized node.
NodeSensitivity measure_node(const ir::Model& fp32, const ir::Model& quant, int qi, data::Dataset& ds,
                             const Plan& plan, const AnalyzeOptions& opts, bool classification,
                             const std::vector<std::vector<Tensor>>& fp_outputs) {
  const ir::Graph& qg = quant.graph;
  NodeSensitivity s;
  s.node = node_label(qg, qi);
  s.op_type = qg.nodes[qi].op_type;
  for (const std::string& in : qg.nodes[qi].inputs)
    if (is_dq_output(qg, in)) s.quantized_inputs.push_back(in);
  std::optional<runtime::Session> session;
  try {
    runtime::SessionOptions so;
    so.threads = opts.threads;
    so.lower_qdq = false;  // the same QDQ semantics as the comparison pass
    session.emplace(single_node_model(fp32, quant, s.node), so);
  } catch (const InputError& e) {
    s.skipped = e.what();
    return s;
  }
  int64_t done = 0;
  for (int64_t k = 0; k < plan.num_batches(); ++k) {
    data::Batch b = read_batch(ds, plan, k);
    const std::vector<Tensor> y = session->run({b.x});
    for (size_t o = 0; o < y.size(); ++o) {
      check_float_pair(fp_outputs[k][o], y[o], fmt::format("output '{}' (node '{}' alone quantized)",
                                                           fp32.graph.outputs[o].name, s.node));
      s.output.update(fp_outputs[k][o].span<const float>(), y[o].span<const float>());
    }
    if (classification) {
      if (!s.metrics) s.metrics.emplace(static_cast<int>(y[0].dim(1)));
      s.metrics->update(y[0].span<const float>(), b.labels);
    }
    done += b.x.dim(0);
    if (opts.progress) opts.progress("sensitivity " + s.node, done, plan.samples);
  }
  return s;
}

// The output D of T → QuantizeLinear → DequantizeLinear → D, or "" when T is not quantized that way.
std::string quantized_alias(const ir::Graph& g, const std::string& t) {
  for (int c : g.consumers(t)) {
    if (!is_op(g.nodes[c], "QuantizeLinear") || g.nodes[c].outputs.empty()) continue;
    for (int d : g.consumers(g.nodes[c].outputs[0]))
      if (is_op(g.nodes[d], "DequantizeLinear") && !g.nodes[d].outputs.empty()) return g.nodes[d].outputs[0];
  }
  return "";
}

std::string input_origin(const ir::Graph& g, const std::string& v) {
  if (const Tensor* t = g.initializer(v)) return fmt::format("'{}' ({} initializer)", v, dtype_name(t->dtype()));
  const int p = g.producer(v);
  if (p < 0) return fmt::format("'{}' (graph input)", v);
  return fmt::format("'{}' (output of {} '{}')", v, g.nodes[p].op_type, node_label(g, p));
}

}  // namespace

// ---- public helpers ----

bool is_qdq(const ir::Graph& g) {
  for (const ir::Node& n : g.nodes)
    if (is_op(n, "QuantizeLinear") || is_op(n, "DequantizeLinear") ||
        (n.domain == "com.microsoft" && n.op_type == "MatMulNBits"))
      return true;
  return false;
}

std::vector<size_t> worst_layers(const AnalyzeResult& r, size_t n) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < r.layers.size(); ++i)
    if (!r.layers[i].error.exact()) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](size_t a, size_t b) { return r.layers[a].error.sqnr_db() < r.layers[b].error.sqnr_db(); });
  if (idx.size() > n) idx.resize(n);
  return idx;
}

std::vector<ClassDrift> class_drift(const AnalyzeResult& r) {
  std::vector<ClassDrift> out;
  if (!r.classification) return out;
  for (int c = 0; c < r.fp32->num_classes(); ++c) {
    const ClassStats &f = r.fp32->per_class()[c], &q = r.quant->per_class()[c];
    if (f.count == 0) continue;
    out.push_back({c, c < static_cast<int>(r.class_names.size()) ? r.class_names[c] : "", f.count, f.accuracy(),
                   q.accuracy()});
  }
  std::stable_sort(out.begin(), out.end(), [](const ClassDrift& a, const ClassDrift& b) { return a.drift() < b.drift(); });
  return out;
}

std::vector<FallbackNode> find_fallbacks(const ir::Graph& g) {
  static const std::set<std::string> kQuantizable = {"Conv",   "ConvTranspose", "Gemm",        "MatMul",
                                                     "Add",    "Mul",           "Concat",      "MaxPool",
                                                     "AveragePool", "GlobalAveragePool"};
  static const std::set<std::string> kWeighted = {"Conv", "ConvTranspose", "Gemm", "MatMul"};
  std::vector<FallbackNode> out;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const ir::Node& n = g.nodes[i];
    if (!n.domain.empty() || !kQuantizable.count(n.op_type)) continue;
    const size_t checked = kWeighted.count(n.op_type) ? std::min<size_t>(2, n.inputs.size()) : n.inputs.size();
    std::vector<std::string> floats;
    size_t data_inputs = 0;
    for (size_t k = 0; k < checked; ++k) {
      const std::string& in = n.inputs[k];
      if (in.empty()) continue;
      const Tensor* t = g.initializer(in);
      if (t && t->dtype() != DType::f32 && t->dtype() != DType::f16 && t->dtype() != DType::bf16) continue;
      ++data_inputs;
      if (!is_dq_output(g, in)) floats.push_back(input_origin(g, in));
    }
    if (floats.empty()) continue;
    std::string list;
    for (const std::string& f : floats) list += (list.empty() ? "" : ", ") + f;
    out.push_back({node_label(g, i), n.op_type,
                   floats.size() == data_inputs ? "no input is quantized: " + list : "float input(s): " + list});
  }
  return out;
}

ir::Model single_node_model(const ir::Model& fp32, const ir::Model& quant, const std::string& node) {
  const ir::Graph& qg = quant.graph;
  int qi = -1;
  for (int i = 0; i < static_cast<int>(qg.nodes.size()) && qi < 0; ++i)
    if (node_label(qg, i) == node) qi = i;
  if (qi < 0) fail_input("no node '{}' in the quantized model", node);
  const ir::Node& qn = qg.nodes[qi];
  ir::Model m = fp32;
  ir::Graph& g = m.graph;
  ir::Node replacement = qn;
  int fi = qn.outputs.empty() ? -1 : g.producer(qn.outputs[0]);
  if (fi < 0 && !qn.outputs.empty()) {
    // ONNX Runtime renames a quantized node's output to T_QuantizeLinear_Input when T is a graph
    // output: T is then its Q → DQ's output. The node alone writes T directly.
    const std::string alias = quantized_alias(qg, qn.outputs[0]);
    fi = alias.empty() ? -1 : g.producer(alias);
    if (fi >= 0) replacement.outputs[0] = alias;
  }
  if (fi < 0)
    fail_input("node '{}': its output '{}' is not computed by the FP32 model", node,
               qn.outputs.empty() ? "" : qn.outputs[0]);
  std::set<std::string> fp_values;
  for (const std::string& v : produced_values(g)) fp_values.insert(v);

  auto import_initializer = [&](const std::string& n) -> std::string {
    const Tensor* t = qg.initializer(n);
    if (!t) fail_input("node '{}': '{}' is not an initializer of the quantized model", node, n);
    if (const Tensor* have = g.initializer(n); have && have->bit_equal(*t)) return n;
    const std::string name = g.initializer(n) || fp_values.count(n) ? ir::unique_value_name(g, n + "_q") : n;
    g.add_initializer(name, *t);
    return name;
  };
  // Appends a copy of a Q or DQ node with its constant inputs imported and a fresh output name.
  auto import_qdq = [&](ir::Node copy, size_t first_constant) -> std::string {
    for (size_t k = first_constant; k < copy.inputs.size(); ++k)
      if (!copy.inputs[k].empty()) copy.inputs[k] = import_initializer(copy.inputs[k]);
    copy.outputs.resize(1);
    copy.outputs[0] = ir::unique_value_name(g, copy.outputs[0]);
    copy.name = copy.outputs[0] + "_" + copy.op_type;
    g.nodes.push_back(copy);
    return copy.outputs[0];
  };

  for (size_t i = 0; i < qn.inputs.size(); ++i) {
    const std::string& in = qn.inputs[i];
    if (in.empty()) continue;
    if (qg.initializer(in)) {
      replacement.inputs[i] = import_initializer(in);
      continue;
    }
    const int p = qg.producer(in);
    if (p >= 0 && is_op(qg.nodes[p], "DequantizeLinear")) {
      ir::Node dq = qg.nodes[p];
      const std::string& src = dq.input(0);
      if (qg.initializer(src)) {
        dq.inputs[0] = import_initializer(src);
      } else {
        const int pq = qg.producer(src);
        if (pq < 0 || !is_op(qg.nodes[pq], "QuantizeLinear"))
          fail_input("node '{}': DequantizeLinear input '{}' is neither an initializer nor a QuantizeLinear output",
                     node, src);
        const std::string& t = qg.nodes[pq].input(0);
        if (!fp_values.count(t)) fail_input("node '{}': quantized value '{}' is not a value of the FP32 model", node, t);
        dq.inputs[0] = import_qdq(qg.nodes[pq], 1);
      }
      replacement.inputs[i] = import_qdq(dq, 1);
      continue;
    }
    if (!fp_values.count(in)) fail_input("node '{}': input '{}' is not a value of the FP32 model", node, in);
  }
  const bool folded = g.nodes[fi].op_type != qn.op_type && replacement.outputs[0] == qn.outputs[0];
  const std::string fp32_op = g.nodes[fi].op_type;
  g.nodes[fi] = std::move(replacement);
  if (folded) {
    // The quantizer folded the FP32 producer (e.g. ONNX Runtime drops a Relu after a Conv and lets the
    // output's QuantizeLinear clip at the zero point): bring that output Q/DQ along, or the FP32
    // consumers would read the value without the folded op.
    const std::string& t = qn.outputs[0];
    std::string dq_out;
    for (int c : qg.consumers(t)) {
      if (!is_op(qg.nodes[c], "QuantizeLinear")) continue;
      for (int d : qg.consumers(qg.nodes[c].outputs[0]))
        if (is_op(qg.nodes[d], "DequantizeLinear") && dq_out.empty()) {
          const std::vector<int> readers = g.consumers(t);
          ir::Node dq = qg.nodes[d];
          dq.inputs[0] = import_qdq(qg.nodes[c], 1);
          dq_out = import_qdq(dq, 1);
          for (int k : readers)
            for (std::string& in : g.nodes[k].inputs)
              if (in == t) in = dq_out;
        }
    }
    if (dq_out.empty())
      fail_input("node '{}' ({}) computes '{}', which the FP32 model computes with {}, and no QuantizeLinear "
                 "follows it", node, qn.op_type, t, fp32_op);
  }
  g.topo_sort();
  return m;
}

AnalyzeResult analyze(const ir::Model& fp32, const ir::Model& quant, data::Dataset& ds, const AnalyzeOptions& opts) {
  check_models(fp32, quant);
  const Plan plan = make_plan(fp32, ds, opts);
  AnalyzeResult r;
  r.dataset = ds.describe();
  r.batch = plan.batch;
  std::vector<std::vector<Tensor>> fp_outputs;
  compare_models(fp32, quant, ds, plan, opts, r, fp_outputs);
  r.fallbacks = find_fallbacks(quant.graph);
  r.integer = runtime::integer_plan(quant);
  const std::vector<int> qnodes = quantized_nodes(quant.graph);
  r.quantized_nodes = static_cast<int64_t>(qnodes.size());
  if (opts.sensitivity)
    for (int qi : qnodes)
      r.sensitivity.push_back(measure_node(fp32, quant, qi, ds, plan, opts, r.classification, fp_outputs));
  return r;
}

}  // namespace qforge::eval
