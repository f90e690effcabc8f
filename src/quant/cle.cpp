#include "quant/cle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "ir/passes/fusion.h"

namespace qforge::quant {

namespace {

enum class LayerKind { conv, linear };  // channels on axis 1 / on the last axis

// A node with a constant f32 weight and a known mapping from weight elements to (output, input)
// channels.
struct Layer {
  int node = -1;
  LayerKind kind = LayerKind::conv;
  std::string weight, bias;  // bias "" when absent
  int64_t out_ch = 0, in_ch = 0;
  int64_t group = 1;       // Conv
  bool out_major = false;  // linear: weight [out, in] (Gemm transB = 1) instead of [in, out]
};

std::string node_label(const ir::Graph& g, int i) {
  return g.nodes[i].name.empty() ? fmt::format("#{}", i) : g.nodes[i].name;
}

const Tensor* f32_initializer(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.initializer(name);
  return t && t->dtype() == DType::f32 ? t : nullptr;
}

bool is_layer_op(const ir::Node& n) {
  return n.domain.empty() && (n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul");
}

// The node as a layer, or the reason it cannot be rescaled. `second`: it is the layer whose input
// channels are scaled (its data input must carry the channels on the expected axis).
std::optional<Layer> as_layer(const ir::Graph& g, int i, bool second, std::string& why) {
  const ir::Node& n = g.nodes[i];
  Layer L;
  L.node = i;
  L.weight = n.input(1);
  const Tensor* w = f32_initializer(g, L.weight);
  if (!w) {
    why = fmt::format("{} has no f32 initializer weight", n.describe());
    return std::nullopt;
  }
  if (n.op_type == "Conv") {
    L.kind = LayerKind::conv;
    L.group = n.attr_i("group", 1);
    if (w->rank() < 3 || L.group < 1 || w->dim(0) % L.group != 0) {
      why = fmt::format("{} has an unexpected weight shape {}", n.describe(), shape_str(w->shape()));
      return std::nullopt;
    }
    L.out_ch = w->dim(0);
    L.in_ch = w->dim(1) * L.group;
    L.bias = n.input(2);
  } else {
    L.kind = LayerKind::linear;
    if (w->rank() != 2) {
      why = fmt::format("{} has a weight of rank {}, expected 2", n.describe(), w->rank());
      return std::nullopt;
    }
    const bool gemm = n.op_type == "Gemm";
    if (gemm && second && n.attr_i("transA", 0) != 0) {
      why = fmt::format("{} has transA = 1 (its input channels are not on the last axis)", n.describe());
      return std::nullopt;
    }
    L.out_major = gemm && n.attr_i("transB", 0) != 0;
    L.out_ch = w->dim(L.out_major ? 0 : 1);
    L.in_ch = w->dim(L.out_major ? 1 : 0);
    if (gemm) L.bias = n.input(2);
  }
  if (!L.bias.empty()) {
    const Tensor* b = f32_initializer(g, L.bias);
    if (!b || b->rank() != 1 || b->dim(0) != L.out_ch) {
      why = fmt::format("{}: bias '{}' is not a 1-D f32 initializer of {} values", n.describe(), L.bias, L.out_ch);
      return std::nullopt;
    }
  }
  for (const std::string& p : {L.weight, L.bias}) {
    if (!p.empty() && ir::use_count(g, p) != 1) {
      why = fmt::format("{}: initializer '{}' is shared with another node", n.describe(), p);
      return std::nullopt;
    }
  }
  return L;
}

// Calls f(index, out_channel, in_channel) for every element of the layer's weight.
template <typename F>
void for_each_weight(const Layer& L, const Shape& shape, F&& f) {
  const int64_t numel = shape_numel(shape);
  if (L.kind == LayerKind::conv) {
    const int64_t per_out = numel / L.out_ch, cpg = shape[1], rest = per_out / cpg, opg = L.out_ch / L.group;
    for (int64_t idx = 0; idx < numel; ++idx) {
      const int64_t o = idx / per_out, j = (idx % per_out) / rest;
      f(idx, o, (o / opg) * cpg + j);
    }
  } else {
    const int64_t cols = shape[1];
    for (int64_t idx = 0; idx < numel; ++idx) {
      const int64_t r = idx / cols, c = idx % cols;
      f(idx, L.out_major ? r : c, L.out_major ? c : r);
    }
  }
}

// max |w| per output channel (out_side) or per input channel.
std::vector<double> channel_ranges(const Layer& L, const Tensor& w, bool out_side) {
  std::vector<double> r(static_cast<size_t>(out_side ? L.out_ch : L.in_ch), 0.0);
  const float* p = w.data<float>();
  for_each_weight(L, w.shape(), [&](int64_t idx, int64_t o, int64_t in) {
    double& m = r[static_cast<size_t>(out_side ? o : in)];
    m = std::max(m, static_cast<double>(std::fabs(p[idx])));
  });
  return r;
}

// An op between the two layers that commutes with a positive per-channel scale. `problem` is set for
// a Clip that does not (ReLU6); `clip` then marks it for relu6_as_relu.
bool passes_scale(const ir::Graph& g, const ir::Node& n, LayerKind kind, std::string& problem, bool& clip) {
  if (!n.domain.empty()) return false;
  const std::string& op = n.op_type;
  if (op == "Relu" || op == "LeakyRelu" || op == "PRelu" || op == "Identity" || op == "Dropout") return true;
  if (op == "MaxPool" || op == "AveragePool") return kind == LayerKind::conv;
  if (op != "Clip") return false;
  auto bound = [&](size_t i, float dflt, float& v) {
    if (n.input(i).empty()) {
      v = dflt;
      return true;
    }
    const Tensor* t = f32_initializer(g, n.input(i));
    if (!t || t->numel() != 1) return false;
    v = t->data<float>()[0];
    return true;
  };
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float lo = 0, hi = 0;
  if (!bound(1, -kInf, lo) || !bound(2, kInf, hi)) {
    problem = fmt::format("{} has non-constant bounds", n.describe());
    return true;
  }
  if ((lo == 0 || lo == -kInf) && hi == kInf) return true;
  clip = lo == 0 && hi > 0;
  problem = fmt::format("{} clips to [{}, {}], which a per-channel scale does not commute with (ReLU6 is "
                        "not scale-equivariant)",
                        n.describe(), lo, hi);
  return true;
}

struct Candidate {
  Layer first, second;
  std::vector<int> between;
};

// From layer `a`, follows single-consumer, scale-commuting ops to the next layer. nullopt when the
// chain ends elsewhere (nothing to report) or when a found pair cannot be equalized (reported).
std::optional<Candidate> follow(ir::Graph& g, const Layer& a, const CleOptions& opts, CleReport& rep) {
  Candidate c{a, {}, {}};
  std::string problems;
  std::vector<int> relu6;      // Clip(x, 0, max) nodes on the way
  bool other_problem = false;  // a Clip that relu6_as_relu cannot turn into Relu
  std::string value = g.nodes[a.node].outputs.empty() ? "" : g.nodes[a.node].outputs[0];
  for (;;) {
    if (value.empty() || ir::is_graph_output(g, value)) return std::nullopt;
    const std::vector<int> cons = g.consumers(value);
    if (cons.size() != 1 || ir::use_count(g, value) != 1) return std::nullopt;
    const int ci = cons[0];
    const ir::Node& n = g.nodes[ci];
    if (is_layer_op(n)) {
      if (n.input(0) != value) return std::nullopt;
      const std::string first = node_label(g, a.node), second = node_label(g, ci);
      std::string why;
      std::optional<Layer> b = as_layer(g, ci, true, why);
      if (!b) {
        rep.skipped.push_back({first, second, why});
        return std::nullopt;
      }
      if (b->kind != a.kind) {
        rep.skipped.push_back({first, second, "the layers keep channels on different axes (Conv vs Gemm/MatMul)"});
        return std::nullopt;
      }
      if (b->in_ch != a.out_ch) {
        rep.skipped.push_back(
            {first, second, fmt::format("{} output channels feed {} input channels", a.out_ch, b->in_ch)});
        return std::nullopt;
      }
      if (!problems.empty() && (other_problem || !opts.relu6_as_relu)) {
        rep.skipped.push_back({first, second, problems});
        return std::nullopt;
      }
      for (int k : relu6) {
        g.nodes[k].op_type = "Relu";
        g.nodes[k].inputs.resize(1);
        ++rep.relu6_replaced;
      }
      c.second = *b;
      return c;
    }
    bool clip = false;
    std::string p;
    if (!passes_scale(g, n, a.kind, p, clip)) return std::nullopt;
    if (!p.empty()) {
      problems += (problems.empty() ? "" : "; ") + p;
      if (clip) relu6.push_back(ci);
      else other_problem = true;
    }
    c.between.push_back(ci);
    value = n.outputs.empty() ? "" : n.outputs[0];
  }
}

double balance(const std::vector<double>& r1, const std::vector<double>& r2) {
  const double m1 = *std::max_element(r1.begin(), r1.end()), m2 = *std::max_element(r2.begin(), r2.end());
  if (m1 <= 0 || m2 <= 0) return 0;
  double s = 0;
  for (size_t i = 0; i < r1.size(); ++i) s += (r1[i] / m1) * (r2[i] / m2);
  return s / static_cast<double>(r1.size());
}

double pair_balance(const ir::Graph& g, const Candidate& c) {
  return balance(channel_ranges(c.first, *g.initializer(c.first.weight), true),
                 channel_ranges(c.second, *g.initializer(c.second.weight), false));
}

// One equalization step of a pair; returns max |s_i − 1|.
double equalize_pair(ir::Graph& g, const Candidate& c) {
  const Layer &a = c.first, &b = c.second;
  Tensor w1 = g.initializer(a.weight)->clone(), w2 = g.initializer(b.weight)->clone();
  const std::vector<double> r1 = channel_ranges(a, w1, true), r2 = channel_ranges(b, w2, false);
  std::vector<double> s(r1.size(), 1.0);
  double change = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (r1[i] > 0 && r2[i] > 0) s[i] = std::sqrt(r1[i] / r2[i]);
    change = std::max(change, std::fabs(s[i] - 1.0));
  }
  float* p1 = w1.data<float>();
  for_each_weight(a, w1.shape(), [&](int64_t idx, int64_t o, int64_t) {
    p1[idx] = static_cast<float>(p1[idx] / s[static_cast<size_t>(o)]);
  });
  float* p2 = w2.data<float>();
  for_each_weight(b, w2.shape(), [&](int64_t idx, int64_t, int64_t in) {
    p2[idx] = static_cast<float>(p2[idx] * s[static_cast<size_t>(in)]);
  });
  g.add_initializer(a.weight, std::move(w1));
  g.add_initializer(b.weight, std::move(w2));
  if (!a.bias.empty()) {
    Tensor b1 = g.initializer(a.bias)->clone();
    float* pb = b1.data<float>();
    for (size_t i = 0; i < s.size(); ++i) pb[i] = static_cast<float>(pb[i] / s[i]);
    g.add_initializer(a.bias, std::move(b1));
  }
  return change;
}

}  // namespace

CleReport equalize_cross_layer(ir::Model& model, const CleOptions& opts) {
  QF_CHECK(opts.max_rounds >= 1 && opts.tolerance >= 0);
  ir::Graph& g = model.graph;
  CleReport rep;
  std::vector<Candidate> pairs;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    if (!is_layer_op(g.nodes[i])) continue;
    std::string why;
    std::optional<Layer> a = as_layer(g, i, false, why);
    if (!a) continue;  // reported only when it is the second layer of a found pair
    if (std::optional<Candidate> c = follow(g, *a, opts, rep)) pairs.push_back(std::move(*c));
  }
  std::vector<double> before;
  for (const Candidate& c : pairs) before.push_back(pair_balance(g, c));
  for (int round = 0; round < opts.max_rounds && !pairs.empty(); ++round) {
    double change = 0;
    for (const Candidate& c : pairs) change = std::max(change, equalize_pair(g, c));
    rep.rounds = round + 1;
    if (change < opts.tolerance) break;
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    const Candidate& c = pairs[k];
    std::string through;
    for (int n : c.between) through += (through.empty() ? "" : "+") + g.nodes[n].op_type;
    rep.pairs.push_back({node_label(g, c.first.node), node_label(g, c.second.node), through, c.first.out_ch,
                         before[k], pair_balance(g, c)});
  }
  return rep;
}

}  // namespace qforge::quant
