// Weight-only mode: Conv / Gemm / MatMul weights stored quantized and dequantized in front of the
// node (DequantizeLinear; per group with opset-21 block_size along the reduction axis); activations
// and biases stay float.
// nf4: MatMul (2-D weight [K, N]) and Gemm (transA 0, alpha 1) become com.microsoft.MatMulBnb4
// (ONNX Runtime contrib op, CPU kernel; quant_type 1 = NF4):
//   B       u8 [ceil(N·K / 2)]: the weight transposed to [N][K], flattened, NF4 codes two per byte with
//           element 2i in the HIGH nibble (bitsandbytes order — unlike ONNX int4, low nibble first)
//   absmax  f32 [ceil(N·K / block_size)]: one absmax per block of block_size consecutive elements of B
//   attributes K, N, block_size, quant_type = 1
// Codes: quant/nf4.h (x · (1 / absmax) against the level midpoints, as bitsandbytes and ORT's
// quantize_matmul_bnb4 do). A Gemm bias is added after: MatMulBnb4 → Add(·, beta · C).
// Conv weights under nf4 have no ONNX-Runtime-runnable NF4 form; they are stored s4 per channel.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "quant/nf4.h"
#include "quant/quantize.h"
#include "quant/quantizer_impl.h"

namespace qforge::quant::detail {

namespace {

ir::Attribute int_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.kind = ir::AttrKind::i;
  a.i = v;
  return a;
}

std::string weight_fallback(const ir::Graph& g, const ir::Node& n) {
  if (!is_compute_op(n)) return "unsupported op";
  const Tensor* w = f32_constant(g, n.input(1));
  if (!w) return fmt::format("fallback: weight '{}' is not a constant f32 tensor", n.input(1));
  if (n.op_type == "Conv" && w->rank() < 3) return "fallback: weight rank below 3";
  if (n.op_type == "Gemm" && w->rank() != 2) return "fallback: weight is not 2-D";
  if (n.op_type == "MatMul" && w->rank() < 2) return "fallback: 1-D weight";
  return "";
}

struct Bnb4 {
  Tensor packed, absmax;
};

// wt: [N][K] row-major (the layout MatMulBnb4 quantizes).
Bnb4 quantize_bnb4_nf4(const Tensor& wt, int64_t block) {
  const int64_t numel = wt.numel();
  Bnb4 r{Tensor(DType::u8, {(numel + 1) / 2}), Tensor(DType::f32, {(numel + block - 1) / block})};
  const float* x = wt.data<float>();
  uint8_t* dst = r.packed.data<uint8_t>();
  for (int64_t b = 0; b * block < numel; ++b) {
    const int64_t lo = b * block, hi = std::min(numel, lo + block);
    float absmax = 0;
    for (int64_t k = lo; k < hi; ++k) absmax = std::max(absmax, std::fabs(x[k]));
    r.absmax.data<float>()[b] = absmax;
    const float inv = 1.0f / absmax;  // as bitsandbytes: an all-zero block gives NaN codes → level 0 · 0 = 0
    for (int64_t k = lo; k < hi; ++k) {
      const uint8_t code = absmax > 0 ? nf4_quantize_value(x[k], inv) : uint8_t{7};
      dst[k / 2] |= (k % 2 == 0) ? static_cast<uint8_t>(code << 4) : code;
    }
  }
  return r;
}

Tensor transposed(const Tensor& w) {
  const int64_t r = w.dim(0), c = w.dim(1);
  Tensor t(DType::f32, {c, r});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) t.data<float>()[j * r + i] = w.data<float>()[i * c + j];
  return t;
}

class WeightOnlyWriter {
 public:
  WeightOnlyWriter(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded, QuantReport& rep)
      : g_(m.graph), r_(r), excluded_(excluded), rep_(rep), ed_(g_) {}

  int64_t run() {
    const std::vector<ir::Node> nodes = g_.nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      ir::Node n = nodes[i];
      NodeReport nr{node_label(n, i), n.op_type, NodeStatus::float_, excluded_[i], ""};
      if (nr.reason.empty()) nr.reason = weight_fallback(g_, n);
      if (nr.reason.empty()) {
        WeightSpec spec = weight_spec_for(r_, n.name);
        if (spec.dtype == DType::nf4 && n.op_type != "Conv") {
          nr.reason = bnb4(n, spec, nr);
          if (nr.reason.empty()) {
            nr.status = NodeStatus::quantized;
            rep_.nodes.push_back(std::move(nr));
            continue;
          }
        } else {
          if (spec.dtype == DType::nf4) {
            spec = WeightSpec{DType::s4, QGranularity::per_channel, 0, true};
            nr.reason = "nf4 has no ONNX-Runtime-runnable Conv form: weights stored s4 per channel";
          }
          dequantized_weight(n, spec, nr);
          nr.status = NodeStatus::quantized;
        }
      }
      ed_.emit(std::move(n));
      rep_.nodes.push_back(std::move(nr));
    }
    ed_.finish();
    return opset_;
  }

 private:
  void dequantized_weight(ir::Node& n, const WeightSpec& spec, NodeReport& nr) {
    const std::string w = n.inputs[1];
    auto it = done_.find(w);
    if (it == done_.end()) {
      const Tensor& t = *g_.initializer(w);
      std::string note;
      const QParams p = choose_weight_qparams(n, t, spec, r_.reduce_range, w, &note);
      if (!note.empty() && nr.reason.empty()) nr.reason = note;
      if (p.format == DType::s4 || p.format == DType::u4 || p.group_size > 0) opset_ = 21;
      it = done_.emplace(w, std::make_pair(ed_.dequantize_constant(w, quantize(t, p), p, t.shape(), {}, true), describe_weights(p)))
               .first;
    }
    n.inputs[1] = it->second.first;
    nr.weights = it->second.second;
  }

  // n becomes MatMulBnb4 [+ Add]; "" on success, else why not (n untouched).
  std::string bnb4(ir::Node& n, const WeightSpec& spec, NodeReport& nr) {
    const Tensor& w = *g_.initializer(n.inputs[1]);
    if (n.op_type == "MatMul" && w.rank() != 2) return "fallback: nf4 MatMulBnb4 needs a 2-D weight";
    if (n.op_type == "Gemm" && n.attr_i("transA", 0) != 0) return "fallback: Gemm transA is not 0";
    if (n.op_type == "Gemm" && n.attr_f("alpha", 1.0f) != 1.0f) return "fallback: Gemm alpha is not 1";
    if (n.op_type == "Gemm" && !n.input(2).empty() && !f32_constant(g_, n.input(2)))
      return "fallback: bias is not a constant";
    const bool trans_b = n.op_type == "Gemm" && n.attr_i("transB", 0);
    // MatMulBnb4 quantizes W^T ([N][K]); a transB Gemm weight already is [N][K].
    const Tensor wt = trans_b ? w : transposed(w);
    const int64_t N = wt.dim(0), K = wt.dim(1);
    Bnb4 q = quantize_bnb4_nf4(wt, spec.group_size);
    const std::string& wname = n.inputs[1];
    const std::string base = n.name.empty() ? n.outputs[0] : n.name;
    ir::Node mm;
    mm.op_type = "MatMulBnb4";
    mm.domain = "com.microsoft";
    mm.name = ed_.fresh(base + "_Bnb4");
    mm.inputs = {n.inputs[0], ed_.add_initializer(wname + "_Bnb4", std::move(q.packed)),
                 ed_.add_initializer(wname + "_absmax", std::move(q.absmax))};
    const bool has_bias = n.op_type == "Gemm" && !n.input(2).empty();
    const std::string y = n.outputs[0];
    mm.outputs = {has_bias ? ed_.fresh(y + "_matmul_output") : y};
    mm.set_attr(int_attr("K", K));
    mm.set_attr(int_attr("N", N));
    mm.set_attr(int_attr("block_size", spec.group_size));
    mm.set_attr(int_attr("quant_type", 1));
    const std::string product = mm.outputs[0];
    ed_.emit(std::move(mm));
    if (has_bias) {
      std::string c = n.inputs[2];
      const float beta = n.attr_f("beta", 1.0f);
      if (beta != 1.0f) {
        Tensor cb = g_.initializer(c)->clone();
        for (float& v : cb.span<float>()) v *= beta;
        c = ed_.add_initializer(c + "_scaled", std::move(cb));
      }
      ir::Node add;
      add.op_type = "Add";
      add.name = ed_.fresh(base + "_bias_add");
      add.inputs = {product, c};
      add.outputs = {y};
      ed_.emit(std::move(add));
    }
    nr.weights = fmt::format("nf4 per-group {} (MatMulBnb4)", spec.group_size);
    return "";
  }

  ir::Graph& g_;
  const Recipe& r_;
  const std::vector<std::string>& excluded_;
  QuantReport& rep_;
  GraphEditor ed_;
  std::map<std::string, std::pair<std::string, std::string>> done_;  // weight → (dequantized, description)
  int64_t opset_ = 13;
};

}  // namespace

int64_t quantize_weight_only(ir::Model& m, const Recipe& r, const std::vector<std::string>& excluded,
                             QuantReport& rep) {
  return WeightOnlyWriter(m, r, excluded, rep).run();
}

}  // namespace qforge::quant::detail
