// Quantization-aware training on the ONNX graph (issue 6, docs/qat.md).
//
// qat_graph_from_qdq turns a post-training QDQ model (quant::quantize_model's output, brief "The QDQ
// form") into a training graph:
//   activation  QuantizeLinear(T, s, z) → DequantizeLinear → T_dequantized
//               becomes qforge.FakeQuant(T, s, z) → T_dequantized, clipping range = the storage range
//               of z's type, so the forward equals the Q → DQ pair bit for bit
//   weight      DequantizeLinear(W_quantized, s, z[, axis, block_size]) feeding Conv / Gemm / MatMul
//               becomes qforge.FakeQuant(W, s, z) with W a trained float tensor: the FP32 (BN-folded)
//               weight when the caller passes it and it quantizes to exactly W_quantized, else
//               the dequantized weight; clipping range = the recipe's weight range (s8 [-127, 127], ...)
//   bias        DequantizeLinear(B_quantized int32, s_in · s_w, 0) becomes a trained float B
//   other DQ    of constants (Add / Mul / Concat inputs) stay as they are (frozen)
// With --lsq (QatOptions::lsq) the scales — and the zero points of asymmetric activations — are trained
// too (LSQ gradients, train/backward_quant.cpp). Scales shared by a pass-through op in the QDQ model
// (MaxPool, Reshape, Flatten, ... whose output reuses its input's parameters) stay one tensor.
// Nodes the recipe left in float keep their float weights, which TrainGraph trains as usual.
//
// The trained tensors are graph inputs of the training graph (after the data input), fed from
// QatGraph::params each step, so TrainGraph computes their gradients like any input's (input_grads).
//
// BatchNormalization (docs/qat.md): the quantizer folds every BN into its Conv before quantizing. With
// QatOptions::freeze_bn_after = 0 QAT trains that folded network (running statistics frozen from the
// start). With freeze_bn_after = E > 0 and the unfolded FP32 model, each folded Conv whose weight is
// quantized trains in the form of Jacob et al. 2018 / PyTorch's fused ConvBn QAT modules:
//   sf = γ / Sqrt(running_var + ε)                          (per output channel)
//   y  = BatchNormalization(Conv(x, FakeQuant(W · sf)) / sf [+ b], γ, β, running_mean, running_var)
// with W, b the conv's own weight and bias and FakeQuant the folded weight's scales (from the PTQ start;
// trained with LSQ). qat_train runs BN with batch statistics (updating the running statistics) for the
// first E epochs and with the running statistics after (TrainGraph::set_training), where the forward
// equals the folded conv: W_f = W · sf, b_f = β + (b − running_mean) · sf. The export folds with the
// final running statistics, so it has no BN and the same nodes and names as the PTQ export.
//
// qat_export writes the trained values back into the QDQ model the graph came from — the same nodes,
// names and layout as the PTQ export: activation scales / zero points; weights quantized with their
// (trained) scales in the recipe's range; int32 biases at s_in · s_w (one float32 product per channel).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "ir/graph.h"
#include "quant/qparams.h"
#include "quant/recipe.h"
#include "train/trainer.h"
#include "train/train_graph.h"

namespace qforge::train {

struct QatOptions {
  bool lsq = false;  // train scales (and asymmetric activation zero points) with LSQ
  // 0: BN folded from the first step. E > 0: Conv → BN pairs of `fp32_with_bn` (the FP32 model the QDQ
  // model was made from, before BN folding; required then) train with batch statistics for E epochs.
  int64_t freeze_bn_after = 0;
  const ir::Model* fp32_with_bn = nullptr;
};

struct QatActivation {           // one Q → DQ pair
  std::string scale, zero_point; // the training graph's tensors (initializers, or params with LSQ)
  std::string out_scale, out_zero_point;  // the QDQ model's initializers written at export
  DType zp_dtype = DType::u8;
  int32_t qmin = 0, qmax = 255;
};

struct QatWeight {               // one weight DequantizeLinear
  std::string value, scale, zero_point;          // training graph tensors
  std::string out_quantized, out_scale, out_zero_point;  // QDQ initializers
  quant::QParams qparams;        // format, axis, group size, range policy (scales replaced at export)
  bool zero_point_trained = false;
};

struct QatBias {                 // one int32 bias DequantizeLinear
  std::string value;             // training graph tensor (float)
  std::string input_scale, weight_scale;  // training graph tensors giving s_in and s_w
  std::string out_quantized, out_scale;   // QDQ initializers
};

struct QatBnFold {               // one Conv → BatchNormalization pair trained unfolded
  std::string weight, bias;      // training graph tensors: the conv's own W (trained) and b ("": none)
  std::string gamma, beta;       // trained BN scale and bias
  std::string mean, var;         // running statistics (QatGraph::buffers)
  float epsilon = 1e-5f;
  std::string folded_weight, folded_bias;  // the names QatWeight::value / QatBias::value use for W_f, b_f
  std::string out_float_bias;    // QDQ float bias initializer (a bias that is not int32-quantized), or ""
};

struct QatBuffer {               // a tensor the forward updates in place (BN running statistics)
  std::string name;
  Tensor value;
};

struct QatGraph {
  ir::Model qdq;                 // the QDQ model (export template)
  ir::Model train;               // the training graph
  std::vector<Parameter> params; // trained tensors, in the order of the training graph's inputs 1..
  std::vector<QatActivation> activations;
  std::vector<QatWeight> weights;
  std::vector<QatBias> biases;
  std::vector<QatBnFold> bn_folds;
  std::vector<QatBuffer> buffers;  // graph inputs after the params, never optimized
  int64_t freeze_bn_after = 0;     // QatOptions::freeze_bn_after
  int64_t fake_quant_nodes = 0;
};

// qdq: static or weight-only QDQ model with integer weights. fp32_folded (may be null): the BN-folded
// FP32 model the QDQ model was made from (quant::fold_batch_norms), for the exact float weights.
// InputError when the QDQ model has a pattern QAT cannot train (naming the node).
QatGraph qat_graph_from_qdq(const ir::Model& qdq, const ir::Model* fp32_folded, const quant::Recipe& recipe,
                            const QatOptions& opts = {});

// The QDQ model with the current values of g.params, and of the float parameters `float_params`
// (TrainGraph::parameters(): weights of nodes left in float) by initializer name.
ir::Model qat_export(const QatGraph& g, const std::vector<Parameter>& float_params = {});

// The training graph's inputs for one batch: x, then every param's value, then every buffer's (shared:
// BatchNormalization in training mode updates the running statistics in g.buffers).
std::vector<Tensor> qat_inputs(const QatGraph& g, const Tensor& x);

// Keeps trained scales (LSQ) finite and >= FLT_MIN after an optimizer step; call after every step.
void qat_clamp_scales(QatGraph& g);

// TrainGraph options for a QAT graph (input gradients on: the trained tensors are inputs).
TrainOptions qat_train_options(int threads);

struct QatResult {
  ir::Model model;               // the exported best checkpoint (the PTQ start when no epoch beat it)
  std::vector<EpochStats> epochs;// val_top1 = the exported model's top-1 in qforge's runtime
  int64_t best_epoch = 0;        // 0: the PTQ start
  double best_top1 = -1;         // val top-1 of `model` (-1 without a validation set)
  bool stopped = false;          // a non-finite loss stopped training
  std::string stop_reason;
  double seconds = 0;
};

// Fine-tunes g (in place) with cfg's optimizer, schedule and augmentation; BatchNormalization uses batch
// statistics in the first g.freeze_bn_after epochs, running statistics after. With `val`, the export is
// evaluated after every epoch and the best one (the PTQ start included, scored `start_top1`) is kept;
// without it the last epoch's export is the result. A non-finite loss stops, keeping the best.
QatResult qat_train(QatGraph& g, data::Dataset& train, data::Dataset* val, const TrainConfig& cfg,
                    double start_top1, const std::function<void(const Progress&)>& on_progress = {});

}  // namespace qforge::train
