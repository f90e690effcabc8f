// Conv → BatchNormalization pairs and the export fold for QAT with BN statistics (qat_bn.h).
#include "train/qat_bn.h"

#include <cmath>

namespace qforge::train::detail {

namespace {

const Tensor* f32_vector(const ir::Graph& g, const std::string& name, int64_t n) {
  const Tensor* t = name.empty() ? nullptr : g.initializer(name);
  return t && t->dtype() == DType::f32 && t->rank() == 1 && t->dim(0) == n ? t : nullptr;
}

}  // namespace

std::map<std::string, BnPair> find_bn_pairs(const ir::Graph& g) {
  std::map<std::string, int> uses;
  for (const auto& n : g.nodes)
    for (const auto& in : n.inputs) ++uses[in];
  for (const auto& o : g.outputs) ++uses[o.name];
  std::map<std::string, BnPair> pairs;
  for (const auto& bn : g.nodes) {
    if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.size() < 5) continue;
    if (bn.attr_i("training_mode", 0) != 0) continue;
    bool extra_outputs = false;
    for (size_t i = 1; i < bn.outputs.size(); ++i) extra_outputs |= !bn.outputs[i].empty();
    const int ci = g.producer(bn.inputs[0]);
    if (extra_outputs || ci < 0) continue;
    const ir::Node& conv = g.nodes[static_cast<size_t>(ci)];
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1 || uses[conv.outputs[0]] != 1)
      continue;
    const Tensor* w = g.initializer(conv.input(1));
    if (!w || w->dtype() != DType::f32 || w->rank() < 3) continue;
    const int64_t m = w->dim(0);
    if (!conv.input(2).empty() && !f32_vector(g, conv.input(2), m)) continue;
    bool stats = true;
    for (size_t i = 1; i < 5; ++i) stats = stats && f32_vector(g, bn.inputs[i], m);
    if (stats) pairs[bn.outputs[0]] = {&bn, conv.input(1), conv.input(2)};
  }
  return pairs;
}

std::vector<float> bn_scale_factor(const Tensor& gamma, const Tensor& var, float eps) {
  std::vector<float> sf(static_cast<size_t>(gamma.numel()));
  for (size_t c = 0; c < sf.size(); ++c) {
    const float v = var.data<float>()[c] + eps;
    const float sd = std::sqrt(v);
    sf[c] = gamma.data<float>()[c] / sd;
  }
  return sf;
}

void bn_fold(const Tensor& w, const Tensor* b, const Tensor& beta, const Tensor& mean, const std::vector<float>& sf,
             Tensor& wf, Tensor& bf) {
  const int64_t m = w.dim(0), per = w.numel() / m;
  wf = Tensor(DType::f32, w.shape());
  bf = Tensor(DType::f32, {m});
  for (int64_t c = 0; c < m; ++c) {
    const float s = sf[static_cast<size_t>(c)];
    for (int64_t i = 0; i < per; ++i) wf.data<float>()[c * per + i] = w.data<float>()[c * per + i] * s;
    const float bc = b ? b->data<float>()[c] : 0.f;
    bf.data<float>()[c] = beta.data<float>()[c] + (bc - mean.data<float>()[c]) * s;
  }
}

}  // namespace qforge::train::detail
