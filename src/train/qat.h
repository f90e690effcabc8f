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
// BatchNormalization: the quantizer folds every BN into its Conv before quantizing, so QAT trains the
// folded network (running statistics frozen from the start); the export has no BN.
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

struct QatGraph {
  ir::Model qdq;                 // the QDQ model (export template)
  ir::Model train;               // the training graph
  std::vector<Parameter> params; // trained tensors, in the order of the training graph's inputs 1..
  std::vector<QatActivation> activations;
  std::vector<QatWeight> weights;
  std::vector<QatBias> biases;
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

// The training graph's inputs for one batch: x, then every param's value.
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

// Fine-tunes g (in place) with cfg's optimizer, schedule and augmentation. With `val`, the export is
// evaluated after every epoch and the best one (the PTQ start included, scored `start_top1`) is kept;
// without it the last epoch's export is the result. A non-finite loss stops, keeping the best.
QatResult qat_train(QatGraph& g, data::Dataset& train, data::Dataset* val, const TrainConfig& cfg,
                    double start_top1, const std::function<void(const Progress&)>& on_progress = {});

}  // namespace qforge::train
