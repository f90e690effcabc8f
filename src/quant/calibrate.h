// calibrate(): runs the FP32 model over a calibration set with an observer per chosen tensor, fed by
// the session's value hook (STYLE §10), and returns the calibration table. Only one batch's values are
// alive at a time: the hook streams each value into its observer and keeps nothing.
//
// The session runs WITHOUT graph optimisation (fusion would hide values such as a Conv output feeding
// a Relu) but with constant folding: values computed from initializers alone are constants, not
// activations, and are never observed.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "quant/calib_table.h"
#include "quant/observer.h"

namespace qforge::quant {

// The next batch: one tensor per graph input, in order; an empty vector at the end.
using BatchSource = std::function<std::vector<Tensor>()>;
// For single-input models: the next input tensor, an empty Tensor at the end.
using SingleBatchSource = std::function<Tensor()>;
// Several passes over the same data (calibration, SmoothQuant statistics, bias correction): each call
// returns a fresh source starting at the first batch.
using BatchSourceFactory = std::function<BatchSource()>;

struct CalibOptions {
  std::string method = "minmax";                // for every tensor without an override
  std::map<std::string, std::string> method_of;  // tensor name → method
  // Tensors to observe; empty: default_calib_tensors() of the folded graph.
  std::vector<std::string> tensors;
  ObserverOptions observer;
  int64_t max_batches = -1;  // stop after this many batches (-1: the whole source)
  int threads = 0;           // session threads (0: default)
};

// Every f32 activation a quantized model needs a range for: each value that is an input of a node and
// not an initializer (graph inputs included), in order of first use. Values whose dtype the graph does
// not declare are included; calibrate() drops those that turn out not to be f32.
std::vector<std::string> default_calib_tensors(const ir::Graph& g);

// InputError when: the source yields no batch ("calibration set is empty"); a batch does not match the
// model's inputs (count, dtype, shape: the session's check); a value is NaN / Inf (naming the tensor); an
// explicitly requested tensor is not a value of the model or not f32; a method or option is unknown or
// out of range. A single batch is allowed (the caller may warn when table.batches == 1).
CalibTable calibrate(const ir::Model& model, const BatchSource& next, const CalibOptions& opts = {});
CalibTable calibrate(const ir::Model& model, const SingleBatchSource& next, const CalibOptions& opts = {});

}  // namespace qforge::quant
