#include "quant/smoothquant.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "ir/passes/fusion.h"
#include "runtime/session.h"

namespace qforge::quant {

namespace {

constexpr double kMinScale = 1e-5;  // the paper's clamp of max|W_j| and of s_j

struct Consumer {
  int node = -1;
  bool trans_b = false;  // weight [N, K] instead of [K, N]
};

struct Group {
  std::string x;
  int64_t k = 0;
  std::vector<Consumer> consumers;
  std::vector<double> xmax;  // per channel, measured
  int64_t observed = 0;      // values seen
  bool bad_shape = false;
};

std::string node_label(const ir::Graph& g, int i) {
  return g.nodes[i].name.empty() ? fmt::format("#{}", i) : g.nodes[i].name;
}

const Tensor* f32_initializer(const ir::Graph& g, const std::string& name) {
  const Tensor* t = name.empty() ? nullptr : g.initializer(name);
  return t && t->dtype() == DType::f32 ? t : nullptr;
}

bool unshared(const ir::Graph& g, const std::string& name) { return name.empty() || ir::use_count(g, name) == 1; }

// Eligible MatMul / Gemm consumers grouped by their activation input, in graph order.
std::vector<Group> find_groups(const ir::Graph& g, SmoothQuantReport& rep) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const ir::Node& n = g.nodes[i];
    if (!n.domain.empty() || (n.op_type != "MatMul" && n.op_type != "Gemm")) continue;
    const std::string& x = n.input(0);
    const Tensor* w = f32_initializer(g, n.input(1));
    if (x.empty() || g.initializer(x) || !w || w->rank() != 2) continue;  // not activation × constant weight
    const bool gemm = n.op_type == "Gemm";
    if (gemm && n.attr_i("transA", 0) != 0) {
      rep.skipped.push_back({node_label(g, i), "Gemm with transA = 1 (input channels are not on the last axis)"});
      continue;
    }
    if (!unshared(g, n.input(1))) {
      rep.skipped.push_back({node_label(g, i), fmt::format("weight '{}' is shared with another node", n.input(1))});
      continue;
    }
    const bool trans_b = gemm && n.attr_i("transB", 0) != 0;
    const int64_t k = w->dim(trans_b ? 1 : 0);
    auto it = index.find(x);
    if (it == index.end()) {
      it = index.emplace(x, groups.size()).first;
      groups.push_back(Group{x, k, {}, std::vector<double>(static_cast<size_t>(k), 0.0), 0, false});
    }
    Group& grp = groups[it->second];
    if (grp.k != k) {
      rep.skipped.push_back({node_label(g, i), fmt::format("its weight has {} input channels, another consumer "
                                                           "of '{}' has {}", k, x, grp.k)});
      continue;
    }
    grp.consumers.push_back({i, trans_b});
  }
  return groups;
}

// max|X_j| per last-axis channel of every group's activation, over the data.
void measure(const ir::Model& model, std::vector<Group>& groups, const BatchSourceFactory& data,
             int64_t max_batches, SmoothQuantReport& rep) {
  runtime::SessionOptions so;
  so.optimize = false;  // the graph as written: X is the value the MatMul / Gemm reads
  runtime::Session session(model, so);
  std::map<std::string, Group*> by_name;
  for (Group& grp : groups) by_name[grp.x] = &grp;
  session.set_value_hook([&](const std::string& name, const Tensor& v) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return;
    Group& grp = *it->second;
    if (v.dtype() != DType::f32 || v.rank() < 1 || v.dim(-1) != grp.k) {
      grp.bad_shape = true;
      return;
    }
    const std::span<const float> x = v.span<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      const float a = std::fabs(x[i]);
      if (!std::isfinite(a)) fail_input("SmoothQuant statistics of tensor '{}': element {} is {}", name, i, x[i]);
      double& m = grp.xmax[i % static_cast<size_t>(grp.k)];
      m = std::max(m, static_cast<double>(a));
    }
    ++grp.observed;
  });
  BatchSource next = data();
  while (max_batches < 0 || rep.batches < max_batches) {
    std::vector<Tensor> batch = next();
    if (batch.empty()) break;
    session.run(batch);
    ++rep.batches;
    rep.samples += batch[0].rank() >= 1 ? batch[0].dim(0) : 1;
  }
  if (rep.batches == 0) fail_input("SmoothQuant data set is empty");
}

// Row j of a consumer's weight (input channel j): calls f(element) for each element of that row.
template <typename F>
void for_each_in_row(Tensor& w, bool trans_b, int64_t j, F&& f) {
  float* p = w.data<float>();
  const int64_t rows = w.dim(0), cols = w.dim(1);
  if (!trans_b) {
    for (int64_t c = 0; c < cols; ++c) f(p[j * cols + c]);
  } else {
    for (int64_t r = 0; r < rows; ++r) f(p[r * cols + j]);
  }
}

std::vector<double> smoothing_scales(const ir::Graph& g, const Group& grp, double alpha) {
  std::vector<double> wmax(static_cast<size_t>(grp.k), 0.0), s(static_cast<size_t>(grp.k), 1.0);
  for (const Consumer& c : grp.consumers) {
    Tensor w = *g.initializer(g.nodes[c.node].input(1));
    for (int64_t j = 0; j < grp.k; ++j)
      for_each_in_row(w, c.trans_b, j, [&](float& v) { wmax[j] = std::max(wmax[j], static_cast<double>(std::fabs(v))); });
  }
  for (size_t j = 0; j < s.size(); ++j) {
    if (grp.xmax[j] <= 0) continue;
    const double wm = std::max(wmax[j], kMinScale);
    s[j] = std::max(std::pow(grp.xmax[j], alpha) / std::pow(wm, 1.0 - alpha), kMinScale);
  }
  return s;
}

// Multiplies (mul) or divides the output channels of a constant by s along `axis` of a 2-D tensor,
// or the whole last axis of a [..., K] tensor (axis = -1).
Tensor scaled_channels(const Tensor& t, const std::vector<double>& s, int axis, bool divide) {
  Tensor out = t.clone();
  float* p = out.data<float>();
  const int64_t k = static_cast<int64_t>(s.size());
  const int64_t inner = axis == 0 ? out.dim(1) : 1;  // axis 0 of a 2-D tensor: rows are channels
  for (int64_t i = 0; i < out.numel(); ++i) {
    const int64_t j = axis == 0 ? i / inner : i % k;
    p[i] = static_cast<float>(divide ? p[i] / s[j] : p[i] * s[j]);
  }
  return out;
}

// Divides the producer's output channel j by s_j; the description of the producer, or nullopt when
// it cannot absorb the scale.
std::optional<std::string> fold_into_producer(ir::Graph& g, const Group& grp, const std::vector<double>& s) {
  if (ir::is_graph_output(g, grp.x) || ir::use_count(g, grp.x) != static_cast<int>(grp.consumers.size()))
    return std::nullopt;
  const int pi = g.producer(grp.x);
  if (pi < 0) return std::nullopt;
  ir::Node& p = g.nodes[pi];
  if (!p.domain.empty() || p.outputs.empty() || p.outputs[0] != grp.x) return std::nullopt;
  const int64_t k = grp.k;
  auto vec_k = [&](const std::string& n) {
    const Tensor* t = f32_initializer(g, n);
    return t && t->rank() == 1 && t->dim(0) == k && unshared(g, n);
  };
  if (p.op_type == "LayerNormalization") {
    if (!vec_k(p.input(1)) || (!p.input(2).empty() && !vec_k(p.input(2)))) return std::nullopt;
    for (size_t i = 1; i <= 2; ++i)
      if (!p.input(i).empty()) g.add_initializer(p.input(i), scaled_channels(*g.initializer(p.input(i)), s, -1, true));
  } else if (p.op_type == "Mul") {
    const int ci = f32_initializer(g, p.input(1)) ? 1 : f32_initializer(g, p.input(0)) ? 0 : -1;
    if (ci < 0 || !unshared(g, p.input(ci))) return std::nullopt;
    const Tensor& c = *g.initializer(p.input(ci));
    bool fits = c.numel() == 1 || c.dim(-1) == k;
    for (int d = 0; fits && d + 1 < c.rank(); ++d) fits = c.dim(d) == 1;
    if (!fits) return std::nullopt;
    Tensor full = c.clone();
    if (c.numel() == 1) {  // a scalar becomes one value per channel; its rank is kept (it may broadcast up)
      Shape shape = c.rank() == 0 ? Shape{k} : c.shape();
      shape.back() = k;
      full = Tensor(DType::f32, shape);
      std::fill(full.data<float>(), full.data<float>() + k, c.data<float>()[0]);
    }
    g.add_initializer(p.input(ci), scaled_channels(full, s, -1, true));
  } else if (p.op_type == "Gemm" || p.op_type == "MatMul") {
    const Tensor* w = f32_initializer(g, p.input(1));
    const bool trans_b = p.op_type == "Gemm" && p.attr_i("transB", 0) != 0;
    if (!w || w->rank() != 2 || w->dim(trans_b ? 0 : 1) != k || !unshared(g, p.input(1))) return std::nullopt;
    if (p.op_type == "Gemm" && !p.input(2).empty() && !vec_k(p.input(2))) return std::nullopt;
    g.add_initializer(p.input(1), scaled_channels(*w, s, trans_b ? 0 : -1, true));
    if (p.op_type == "Gemm" && !p.input(2).empty())
      g.add_initializer(p.input(2), scaled_channels(*g.initializer(p.input(2)), s, -1, true));
  } else {
    return std::nullopt;
  }
  return fmt::format("{} '{}'", p.op_type, node_label(g, pi));
}

std::string insert_mul(ir::Graph& g, const Group& grp, const std::vector<double>& s) {
  const std::string out = ir::unique_value_name(g, grp.x + "_smoothed");
  const std::string scale = ir::unique_value_name(g, grp.x + "_smooth_scale");
  Tensor inv(DType::f32, {grp.k});
  for (int64_t j = 0; j < grp.k; ++j) inv.data<float>()[j] = static_cast<float>(1.0 / s[j]);
  g.add_initializer(scale, std::move(inv));
  ir::Node mul;
  mul.name = out + "_Mul";
  mul.op_type = "Mul";
  mul.inputs = {grp.x, scale};
  mul.outputs = {out};
  for (const Consumer& c : grp.consumers) g.nodes[c.node].inputs[0] = out;
  g.nodes.push_back(std::move(mul));  // put in place by the topological sort at the end
  return fmt::format("inserted Mul '{}'", out + "_Mul");
}

double outlier_ratio(std::vector<double> m) {
  if (m.empty()) return 0;
  const double mx = *std::max_element(m.begin(), m.end());
  std::nth_element(m.begin(), m.begin() + static_cast<long>(m.size() / 2), m.end());
  const double med = m[m.size() / 2];
  return med > 0 ? mx / med : 0;
}

}  // namespace

SmoothQuantReport smooth_quant(ir::Model& fp32, const BatchSourceFactory& data, double alpha, int64_t max_batches) {
  if (!(alpha >= 0 && alpha <= 1)) fail_input("SmoothQuant alpha {} is not in [0, 1]", alpha);
  SmoothQuantReport rep;
  rep.alpha = alpha;
  ir::Graph& g = fp32.graph;
  std::vector<Group> groups = find_groups(g, rep);
  std::erase_if(groups, [](const Group& grp) { return grp.consumers.empty(); });
  if (groups.empty()) return rep;
  measure(fp32, groups, data, max_batches, rep);

  // Inserted Mul nodes are appended, so node indices stay valid until the final sort.
  for (const Group& grp : groups) {
    std::vector<std::string> names;
    for (const Consumer& c : grp.consumers) names.push_back(node_label(g, c.node));
    if (grp.bad_shape || grp.observed == 0) {
      const std::string why = grp.bad_shape ? fmt::format("activation '{}' does not end in {} channels", grp.x, grp.k)
                                            : fmt::format("activation '{}' is a constant", grp.x);
      for (const std::string& n : names) rep.skipped.push_back({n, why});
      continue;
    }
    const std::vector<double> s = smoothing_scales(g, grp, alpha);
    for (const Consumer& c : grp.consumers) {
      const std::string& wn = g.nodes[c.node].input(1);
      g.add_initializer(wn, scaled_channels(*g.initializer(wn), s, c.trans_b ? -1 : 0, false));
    }
    std::optional<std::string> folded = fold_into_producer(g, grp, s);
    SmoothGroup sg;
    sg.activation = grp.x;
    sg.consumers = names;
    sg.folded_into = folded ? *folded : insert_mul(g, grp, s);
    sg.channels = grp.k;
    std::vector<double> after(grp.xmax.size());
    for (size_t j = 0; j < after.size(); ++j) after[j] = grp.xmax[j] / s[j];
    sg.outlier_ratio_before = outlier_ratio(grp.xmax);
    sg.outlier_ratio_after = outlier_ratio(after);
    sg.s_min = *std::min_element(s.begin(), s.end());
    sg.s_max = *std::max_element(s.begin(), s.end());
    rep.groups.push_back(std::move(sg));
  }
  g.topo_sort();
  return rep;
}

}  // namespace qforge::quant
