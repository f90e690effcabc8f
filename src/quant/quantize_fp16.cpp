// fp16 / bf16 mode: the f32 constant inputs (weights, biases) of Conv, ConvTranspose, Gemm and MatMul
// are stored as 16-bit floats (round to nearest even, core/tensor.h) and a Cast to float32 writes the
// original name, so every node and the graph's inputs and outputs stay float32:
//   W_fp16 (f16 initializer) → Cast(to = FLOAT) "W_Cast" → W → Conv
// Compute stays float32: qforge's runtime has no 16-bit kernels and ONNX Runtime's CPU provider runs
// no bf16 Conv / Gemm / MatMul, so this is the form both can execute; the file is half the size.
#include <map>

#include <fmt/format.h>

#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

int64_t quantize_float16(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded, QuantReport& rep) {
  ir::Graph& g = m.graph;
  GraphEditor ed(g);
  const bool bf16 = r.mode == QuantMode::bf16;
  const DType to = bf16 ? DType::bf16 : DType::f16;
  std::map<std::string, bool> converted;
  const std::vector<ir::Node> nodes = g.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& n = nodes[i];
    NodeReport nr{node_label(n, i), n.op_type, NodeStatus::float_, excluded[i], ""};
    const bool op = n.domain.empty() && (is_compute_op(n) || n.op_type == "ConvTranspose");
    if (nr.reason.empty() && !op) nr.reason = "unsupported op";
    if (nr.reason.empty()) {
      for (size_t k = 1; k < n.inputs.size(); ++k) {
        const std::string& name = n.inputs[k];
        const Tensor* w = f32_constant(g, name);
        if (!w || converted.count(name)) continue;
        Tensor h(to, w->shape());
        const std::span<const float> src = w->span<float>();
        uint16_t* dst = h.data<uint16_t>();
        for (size_t e = 0; e < src.size(); ++e) dst[e] = bf16 ? f32_to_bf16(src[e]) : f32_to_f16(src[e]);
        ir::Node cast;
        cast.op_type = "Cast";
        cast.name = ed.fresh(name + "_Cast");
        cast.inputs = {ed.add_initializer(name + (bf16 ? "_bf16" : "_fp16"), std::move(h))};
        cast.outputs = {name};
        ir::Attribute a;
        a.name = "to";
        a.kind = ir::AttrKind::i;
        a.i = static_cast<int64_t>(DType::f32);
        cast.set_attr(a);
        g.remove_initializer(name);
        ed.emit(std::move(cast));
        converted[name] = true;
      }
      bool any = false;
      for (size_t k = 1; k < n.inputs.size(); ++k) any |= converted.count(n.inputs[k]) > 0;
      if (any) {
        nr.status = NodeStatus::quantized;
        nr.weights = std::string(dtype_name(to));
      } else {
        nr.reason = "fallback: no constant f32 weight";
      }
    }
    ed.emit(n);
    rep.nodes.push_back(std::move(nr));
  }
  ed.finish();
  return 0;
}

}  // namespace qforge::quant::detail
