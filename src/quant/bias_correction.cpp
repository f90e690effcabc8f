#include "quant/qdq_names.h"
#include "quant/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "quant/quantize.h"
#include "runtime/session.h"

namespace qforge::quant {

namespace {

// Sums of one value per output channel (axis 1) over a pass.
struct ChannelMean {
  std::string value;
  int64_t channels = 0;
  std::vector<double> sum;
  int64_t per_channel = 0;

  void add(const Tensor& y, const char* model) {
    if (y.dtype() != DType::f32 || y.rank() < 2 || y.dim(1) != channels)
      fail_input("bias correction: value '{}' of the {} model is {} {}, expected f32 with {} channels on axis 1",
                 value, model, dtype_name(y.dtype()), shape_str(y.shape()), channels);
    const int64_t inner = y.numel() / (y.dim(0) * channels);
    const float* p = y.data<float>();
    for (int64_t i = 0; i < y.numel(); ++i) sum[static_cast<size_t>((i / inner) % channels)] += p[i];
    per_channel += y.numel() / channels;
  }
  std::vector<double> mean() const {
    std::vector<double> m(sum.size(), 0.0);
    for (size_t c = 0; c < m.size() && per_channel > 0; ++c) m[c] = sum[c] / static_cast<double>(per_channel);
    return m;
  }
};

struct Target {
  std::string y;  // the node's output value (node indices change when a wave sorts the graph)
  std::string label;
  int64_t channels = 0;
  std::vector<size_t> ancestors;  // other targets upstream of this one
  std::vector<double> fp32_mean;
  bool done = false;
};

std::string node_label(const ir::Graph& g, int i) {
  return g.nodes[i].name.empty() ? fmt::format("#{}", i) : g.nodes[i].name;
}

const ir::Node* dq_producer(const ir::Graph& g, const std::string& v) {
  const int p = v.empty() ? -1 : g.producer(v);
  if (p < 0) return nullptr;
  const ir::Node& n = g.nodes[p];
  return n.domain.empty() && n.op_type == "DequantizeLinear" ? &n : nullptr;
}

// The quantized Conv / Gemm nodes with an FP32 twin value, each with the targets upstream of it.
std::vector<Target> find_targets(const ir::Graph& q, const ir::Graph& f, BiasCorrectionReport& rep) {
  std::set<std::string> fp32_values;
  for (const ir::Node& n : f.nodes) fp32_values.insert(n.outputs.begin(), n.outputs.end());
  std::vector<Target> targets;
  std::map<int, size_t> target_of;
  for (int i = 0; i < static_cast<int>(q.nodes.size()); ++i) {
    const ir::Node& n = q.nodes[i];
    if (!n.domain.empty() || (n.op_type != "Conv" && n.op_type != "Gemm") || n.outputs.empty()) continue;
    const ir::Node* dqw = dq_producer(q, n.input(1));
    const Tensor* w = dqw ? q.initializer(dqw->input(0)) : nullptr;
    if (!w) continue;  // weight not quantized: not a quantized node
    if (!fp32_values.count(n.outputs[0])) {
      rep.skipped.push_back({node_label(q, i), fmt::format("output '{}' is not a value of the FP32 model", n.outputs[0])});
      continue;
    }
    if (w->rank() < 2) {
      rep.skipped.push_back({node_label(q, i), fmt::format("weight of rank {}", w->rank())});
      continue;
    }
    const bool trans_b = n.op_type == "Gemm" && n.attr_i("transB", 0) != 0;
    Target t;
    t.y = n.outputs[0];
    t.label = node_label(q, i);
    t.channels = n.op_type == "Conv" || trans_b ? w->dim(0) : w->dim(1);
    target_of[i] = targets.size();
    targets.push_back(std::move(t));
  }
  for (Target& t : targets) {  // upstream targets by a backward walk over producers
    std::vector<int> stack = {q.producer(t.y)};
    std::set<int> seen;
    while (!stack.empty()) {
      const int k = stack.back();
      stack.pop_back();
      for (const std::string& in : q.nodes[k].inputs) {
        const int p = in.empty() ? -1 : q.producer(in);
        if (p < 0 || !seen.insert(p).second) continue;
        if (auto it = target_of.find(p); it != target_of.end()) t.ancestors.push_back(it->second);
        stack.push_back(p);
      }
    }
  }
  return targets;
}

// One pass over the data, accumulating the wanted values.
void run_pass(const ir::Model& m, const char* which, const BatchSourceFactory& data, int64_t max_batches,
              std::map<std::string, ChannelMean>& wanted, BiasCorrectionReport& rep) {
  runtime::SessionOptions so;
  so.optimize = false;   // fusion would hide the Conv / Gemm outputs
  so.lower_qdq = false;  // so would integer lowering of the QDQ model
  runtime::Session session(m, so);
  session.set_value_hook([&](const std::string& name, const Tensor& v) {
    if (auto it = wanted.find(name); it != wanted.end()) it->second.add(v, which);
  });
  BatchSource next = data();
  int64_t batches = 0, samples = 0;
  while (max_batches < 0 || batches < max_batches) {
    std::vector<Tensor> batch = next();
    if (batch.empty()) break;
    session.run(batch);
    ++batches;
    samples += batch[0].rank() >= 1 ? batch[0].dim(0) : 1;
  }
  if (batches == 0) fail_input("bias correction data set is empty");
  rep.batches = batches;
  rep.samples = samples;
}

// A new name for a shared initializer / value so that only this node's copy changes.
std::string own_copy(ir::Graph& g, const std::string& name, const std::string& suffix) {
  return ir::use_count(g, name) > 1 ? ir::unique_value_name(g, name + suffix) : name;
}

// Correction of an int32 bias behind a DequantizeLinear; false (with why) when it is not that form.
bool correct_int32_bias(ir::Graph& g, int node, const std::vector<double>& delta, BiasCorrectedNode& out,
                        std::string& why) {
  const ir::Node* dq = dq_producer(g, g.nodes[node].input(2));
  const Tensor* bq = dq ? g.initializer(dq->input(0)) : nullptr;
  const Tensor* scale = dq ? g.initializer(dq->input(1)) : nullptr;
  const Tensor* zp = dq && !dq->input(2).empty() ? g.initializer(dq->input(2)) : nullptr;
  const int64_t c = static_cast<int64_t>(delta.size());
  if (!bq || bq->dtype() != DType::s32 || bq->numel() != c || !scale || scale->dtype() != DType::f32 ||
      (scale->numel() != 1 && scale->numel() != c)) {
    why = "bias is a DequantizeLinear that is not an int32 [C] initializer with an f32 initializer scale";
    return false;
  }
  if (zp && std::any_of(zp->data<int32_t>(), zp->data<int32_t>() + zp->numel(), [](int32_t z) { return z != 0; })) {
    why = "int32 bias has a nonzero zero point";
    return false;
  }
  Tensor nq = bq->clone();
  for (int64_t k = 0; k < c; ++k) {
    const float s = scale->data<float>()[scale->numel() == 1 ? 0 : k];
    const double b = static_cast<double>(bq->data<int32_t>()[k]) * s - delta[k];
    const BiasS32 r = quantize_bias_s32(static_cast<float>(b), s);
    nq.data<int32_t>()[k] = r.value;
    out.saturated += r.saturated;
  }
  ir::Node copy = *dq;
  const bool shared = ir::use_count(g, g.nodes[node].input(2)) > 1 || ir::use_count(g, dq->input(0)) > 1;
  const std::string qname = shared ? ir::unique_value_name(g, dq->input(0) + "_corrected") : dq->input(0);
  g.add_initializer(qname, std::move(nq));
  if (shared) {  // this node gets its own initializer and DequantizeLinear; the others keep theirs
    copy.inputs[0] = qname;
    copy.outputs = {ir::unique_value_name(g, copy.outputs[0] + "_corrected")};
    copy.name = copy.outputs[0] + kDequantizeNodeSuffix;
    g.nodes[node].inputs[2] = copy.outputs[0];
    g.nodes.push_back(std::move(copy));
  }
  out.bias_form = "int32";
  return true;
}

// Adds a bias input to a node that has none: int32 behind a DequantizeLinear when both the data input
// and the weight are DequantizeLinear outputs with initializer scales, float otherwise.
void add_bias(ir::Graph& g, int node, const std::vector<double>& delta, BiasCorrectedNode& out) {
  const int64_t c = static_cast<int64_t>(delta.size());
  const ir::Node* dqx = dq_producer(g, g.nodes[node].input(0));
  const ir::Node* dqw = dq_producer(g, g.nodes[node].input(1));
  const Tensor* sx = dqx ? g.initializer(dqx->input(1)) : nullptr;
  const Tensor* sw = dqw ? g.initializer(dqw->input(1)) : nullptr;
  const std::string base = ir::unique_value_name(g, node_label(g, node) + "_bias");
  const bool int32 = sx && sw && sx->dtype() == DType::f32 && sx->numel() == 1 && sw->dtype() == DType::f32 &&
                     (sw->numel() == 1 || sw->numel() == c);
  g.nodes[node].inputs.resize(3);
  if (!int32) {
    Tensor b(DType::f32, {c});
    for (int64_t k = 0; k < c; ++k) b.data<float>()[k] = static_cast<float>(-delta[k]);
    g.add_initializer(base, std::move(b));
    g.nodes[node].inputs[2] = base;
    out.bias_form = "added float";
    return;
  }
  const bool per_channel = sw->numel() == c && c > 1;
  const Shape sshape = per_channel ? Shape{c} : Shape{};
  Tensor q(DType::s32, {c}), scale(DType::f32, sshape);
  for (int64_t k = 0; k < scale.numel(); ++k)
    scale.data<float>()[k] = sx->data<float>()[0] * sw->data<float>()[sw->numel() == 1 ? 0 : k];
  for (int64_t k = 0; k < c; ++k) {
    const BiasS32 r = quantize_bias_s32(static_cast<float>(-delta[k]), scale.data<float>()[per_channel ? k : 0]);
    q.data<int32_t>()[k] = r.value;
    out.saturated += r.saturated;
  }
  g.add_initializer(base + kQuantizedSuffix, std::move(q));
  g.add_initializer(base + kScaleSuffix, std::move(scale));
  ir::Node dq;
  dq.name = base + kDequantizeNodeSuffix;
  dq.op_type = "DequantizeLinear";
  dq.inputs = {base + kQuantizedSuffix, base + kScaleSuffix};  // zero point: 0 by the spec
  dq.outputs = {base + kDequantizedSuffix};
  if (per_channel) {
    ir::Attribute axis;
    axis.name = "axis";
    axis.kind = ir::AttrKind::i;
    axis.i = 0;
    dq.attrs = {axis};
  }
  g.nodes[node].inputs[2] = dq.outputs[0];
  g.nodes.push_back(std::move(dq));
  out.bias_form = "added int32";
}

// Subtracts delta (in output units) from the node's bias; false (with why) when the bias has a form
// this cannot rewrite.
bool apply_correction(ir::Graph& g, int node, std::vector<double> delta, BiasCorrectedNode& out, std::string& why) {
  const ir::Node& n = g.nodes[node];
  if (n.op_type == "Gemm") {  // Y = alpha·A·B + beta·C: C moves by delta / beta
    const double beta = n.attr_f("beta", 1.0f);
    if (beta == 0 && !n.input(2).empty()) {
      why = "Gemm with beta = 0 ignores its bias";
      return false;
    }
    if (beta != 0)
      for (double& d : delta) d /= beta;
  }
  const std::string& b = n.input(2);
  if (b.empty()) {
    if (n.op_type == "Gemm" && n.attr_f("beta", 1.0f) == 0) {
      why = "Gemm with beta = 0 ignores its bias";
      return false;
    }
    add_bias(g, node, delta, out);
    return true;
  }
  if (dq_producer(g, b)) return correct_int32_bias(g, node, delta, out, why);
  const Tensor* fb = g.initializer(b);
  if (!fb || fb->dtype() != DType::f32 || fb->numel() != static_cast<int64_t>(delta.size())) {
    why = fmt::format("bias '{}' is neither a DequantizeLinear output nor an f32 initializer of {} values", b,
                      delta.size());
    return false;
  }
  Tensor nb = fb->clone();
  for (size_t k = 0; k < delta.size(); ++k) nb.data<float>()[k] = static_cast<float>(nb.data<float>()[k] - delta[k]);
  const std::string name = own_copy(g, b, "_corrected");
  g.add_initializer(name, std::move(nb));
  g.nodes[node].inputs[2] = name;
  out.bias_form = "float";
  return true;
}

}  // namespace

BiasCorrectionReport correct_bias(const ir::Model& fp32, ir::Model& qdq, const BatchSourceFactory& data,
                                  int64_t max_batches) {
  BiasCorrectionReport rep;
  std::vector<std::string> fin, qin;
  for (const ir::ValueInfo& v : fp32.graph.inputs)
    if (!fp32.graph.initializer(v.name)) fin.push_back(v.name);
  for (const ir::ValueInfo& v : qdq.graph.inputs)
    if (!qdq.graph.initializer(v.name)) qin.push_back(v.name);
  if (fin != qin) fail_input("bias correction: the FP32 and the quantized model take different inputs");

  ir::Graph& g = qdq.graph;
  std::vector<Target> targets = find_targets(g, fp32.graph, rep);
  if (targets.empty()) return rep;
  {
    std::map<std::string, ChannelMean> fp;
    for (const Target& t : targets) {
      fp[t.y] = ChannelMean{t.y, t.channels, std::vector<double>(static_cast<size_t>(t.channels), 0.0), 0};
    }
    run_pass(fp32, "FP32", data, max_batches, fp, rep);
    for (Target& t : targets) t.fp32_mean = fp.at(t.y).mean();
  }
  for (size_t pending = targets.size(); pending > 0;) {
    ++rep.waves;
    std::vector<size_t> wave;
    for (size_t i = 0; i < targets.size(); ++i) {
      bool ready = !targets[i].done;
      for (size_t a : targets[i].ancestors) ready = ready && targets[a].done;
      if (ready) wave.push_back(i);
    }
    QF_CHECK(!wave.empty(), "the quantized node graph has a cycle");
    std::map<std::string, ChannelMean> qm;
    for (size_t i : wave) {
      const std::string& y = targets[i].y;
      qm[y] = ChannelMean{y, targets[i].channels, std::vector<double>(static_cast<size_t>(targets[i].channels), 0.0), 0};
    }
    run_pass(qdq, "quantized", data, max_batches, qm, rep);
    for (size_t i : wave) {
      Target& t = targets[i];
      const int node = g.producer(t.y);
      const std::string op = g.nodes[node].op_type;
      const std::vector<double> mq = qm.at(t.y).mean();
      std::vector<double> delta(mq.size());
      BiasCorrectedNode out{t.label, op, t.channels, 0, 0, "", 0, rep.waves};
      for (size_t c = 0; c < delta.size(); ++c) {
        delta[c] = mq[c] - t.fp32_mean[c];
        out.mean_abs_shift += std::fabs(delta[c]) / static_cast<double>(delta.size());
        out.max_abs_shift = std::max(out.max_abs_shift, std::fabs(delta[c]));
      }
      std::string why;
      if (apply_correction(g, node, delta, out, why)) {
        rep.saturated += out.saturated;
        rep.nodes.push_back(std::move(out));
      } else {
        rep.skipped.push_back({t.label, why});
      }
      t.done = true;
      --pending;
    }
    g.topo_sort();  // new bias DequantizeLinear nodes were appended
  }
  return rep;
}

}  // namespace qforge::quant
