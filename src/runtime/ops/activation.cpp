// Activations: Relu LeakyRelu PRelu Clip Sigmoid Tanh HardSigmoid HardSwish Gelu (also
// com.microsoft.Gelu, the erf form) Elu Selu Celu Softplus Softsign ThresholdedRelu Mish.
// Softmax and LogSoftmax are registered from softmax.cpp.
#include "core/cpu.h"
#include "runtime/kernels/reference/activation_ref.h"
#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/kernels/vmath.h"
#include "runtime/ops/ew_util.h"

namespace qforge::runtime {
namespace {

// Attributes of each kind, with the defaults of the newest ONNX version of the op.
ActivationParams params_of(ActivationKind kind, const ir::Node& n) {
  ActivationParams p;
  switch (kind) {
    case ActivationKind::leaky_relu: p.alpha = attr_float(n, "alpha", 0.01f); break;
    case ActivationKind::hard_sigmoid:
      p.alpha = attr_float(n, "alpha", 0.2f);
      p.beta = attr_float(n, "beta", 0.5f);
      break;
    case ActivationKind::elu: p.alpha = attr_float(n, "alpha", 1.0f); break;
    case ActivationKind::selu:
      p.alpha = attr_float(n, "alpha", 1.67326319f);
      p.gamma = attr_float(n, "gamma", 1.05070102f);
      break;
    case ActivationKind::celu:
      p.alpha = attr_float(n, "alpha", 1.0f);
      if (p.alpha == 0) fail_node(n, "attribute 'alpha' must not be 0");
      break;
    case ActivationKind::thresholded_relu: p.alpha = attr_float(n, "alpha", 1.0f); break;
    default: break;
  }
  return p;
}

// Gelu's `approximate`: "none" (erf) or "tanh". com.microsoft.Gelu has no attribute (erf form).
ActivationKind gelu_kind(const ir::Node& n) {
  const std::string a = attr_string(n, "approximate", "none");
  if (a == "none") return ActivationKind::gelu;
  if (a == "tanh") return ActivationKind::gelu_tanh;
  fail_node(n, "attribute 'approximate' must be \"none\" or \"tanh\", got \"{}\"", a);
}

template <ActivationKind K>
std::vector<TypeShape> infer_activation(const InferCtx& c) {
  if (c.num_inputs() != 1) fail_node(c.node, "expects 1 input, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "X", [](DType d) { return activation_supports(K, d); });
  if constexpr (K == ActivationKind::gelu) gelu_kind(c.node);
  params_of(K, c.node);
  return shape_of_input(c, 0, t);
}

template <ActivationKind K>
void compute_activation(KernelCtx& k) {
  const ActivationKind kind = K == ActivationKind::gelu ? gelu_kind(k.node) : K;
  const Tensor& x = k.inputs[0];
  Tensor& y = k.outputs[0];
  if (x.dtype() == DType::f32 && active_isa() >= Isa::avx2 && activation_f32_has_avx2(kind)) {
    const float* src = x.data<float>();
    float* dst = y.data<float>();
    parallel_chunks(x.numel(), k.threads,
                    [&](int64_t b, int64_t e) { activation_f32__avx2(kind, src + b, dst + b, e - b); });
    return;
  }
  activation_ref(kind, params_of(K, k.node), x, y, k.threads);
}

template <ActivationKind K>
OpDef activation(std::string_view name, std::string_view domain = "") {
  return OpDef{name, domain, infer_activation<K>, compute_activation<K>};
}

// ---- Clip: min and max are optional one-element inputs of X's dtype

std::vector<TypeShape> infer_clip(const InferCtx& c) {
  if (c.num_inputs() < 1 || c.num_inputs() > 3) fail_node(c.node, "expects 1 to 3 inputs, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "input", clip_supports);
  for (size_t i = 1; i < 3; ++i) {
    if (!c.has_input(i)) continue;
    require_same_dtype(c, 0, i);
    const TypeShape& b = c.in(i);
    if (b.fully_known() && shape_numel(b.concrete()) != 1)
      fail_node(c.node, "input {} ({}) must be a scalar, got shape {}", i, i == 1 ? "min" : "max",
                shape_str(b.concrete()));
  }
  return shape_of_input(c, 0, t);
}

void compute_clip(KernelCtx& k) {
  const Tensor* lo = k.has_input(1) ? &k.inputs[1] : nullptr;
  const Tensor* hi = k.has_input(2) ? &k.inputs[2] : nullptr;
  clip_ref(k.inputs[0], lo, hi, k.outputs[0], k.threads);
}

// ---- PRelu: slope broadcasts unidirectionally to X (the output has X's shape)

std::vector<TypeShape> infer_prelu(const InferCtx& c) {
  if (c.num_inputs() != 2) fail_node(c.node, "expects 2 inputs, got {}", c.num_inputs());
  const DType t = require_dtype(c, 0, "X", prelu_supports);
  require_dtype(c, 1, "slope", prelu_supports);
  require_same_dtype(c, 0, 1);
  const TypeShape& x = c.in(0);
  const TypeShape& s = c.in(1);
  if (x.has_shape && s.has_shape) {
    if (s.rank() > x.rank()) fail_node(c.node, "slope has rank {}, more than X's rank {}", s.rank(), x.rank());
    for (int j = 0; j < s.rank(); ++j) {
      const ir::Dim& ds = s.dims[j];
      const ir::Dim& dx = x.dims[x.rank() - s.rank() + j];
      if (ds.is_known() && ds.value != 1 && dx.is_known() && ds.value != dx.value)
        fail_node(c.node, "slope dimension {} is {}, which does not broadcast to X's {}", j, ds.value, dx.value);
    }
  }
  return shape_of_input(c, 0, t);
}

void compute_prelu(KernelCtx& k) { prelu_ref(k.inputs[0], k.inputs[1], k.outputs[0], k.threads); }

}  // namespace

void register_ops_activation(std::vector<OpDef>& ops) {
  ops.push_back(activation<ActivationKind::relu>("Relu"));
  ops.push_back(activation<ActivationKind::leaky_relu>("LeakyRelu"));
  ops.push_back(activation<ActivationKind::sigmoid>("Sigmoid"));
  ops.push_back(activation<ActivationKind::tanh>("Tanh"));
  ops.push_back(activation<ActivationKind::hard_sigmoid>("HardSigmoid"));
  ops.push_back(activation<ActivationKind::hard_swish>("HardSwish"));
  ops.push_back(activation<ActivationKind::gelu>("Gelu"));
  ops.push_back(activation<ActivationKind::gelu>("Gelu", "com.microsoft"));
  ops.push_back(activation<ActivationKind::elu>("Elu"));
  ops.push_back(activation<ActivationKind::selu>("Selu"));
  ops.push_back(activation<ActivationKind::celu>("Celu"));
  ops.push_back(activation<ActivationKind::softplus>("Softplus"));
  ops.push_back(activation<ActivationKind::softsign>("Softsign"));
  ops.push_back(activation<ActivationKind::thresholded_relu>("ThresholdedRelu"));
  ops.push_back(activation<ActivationKind::mish>("Mish"));
  ops.push_back({"Clip", "", infer_clip, compute_clip});
  ops.push_back({"PRelu", "", infer_prelu, compute_prelu});
  register_ops_softmax(ops);
}

}  // namespace qforge::runtime
