// Calibration observers (STYLE §10): an observer sees the values one activation takes over the
// calibration set, one batch at a time (update), and proposes the range to quantize it with (compute).
// Observers never keep a batch: minmax keeps two floats, the histogram methods a fixed number of bins
// (quant/histogram.h), so memory does not grow with the calibration set.
//
// Methods (one table, observer_methods()):
//   minmax          the smallest and largest value seen.
//   moving-average  per-batch min/max averaged like torch's MovingAverageMinMaxObserver: the first batch
//                   sets the range, then min += c * (batch_min - min) (same for max), c = 0.01.
//   percentile      ONNX Runtime's HistogramCalibrater percentile: asymmetric cuts (100 - p) / 2 percent
//                   on each side of a histogram over [-T, T]; symmetric cuts (100 - p) percent of a
//                   histogram of |x| and uses ±edge. The threshold is the LOWER edge of the bin where the
//                   cumulative fraction first reaches the target (ORT's np.searchsorted + hist_edges[idx]),
//                   then clamped to the observed [min, max]. One difference, within a bin: our |x|
//                   histogram spans [0, max|x|] where ORT's spans [min|x|, max|x|].
//   entropy         TensorRT's / ORT's KL-divergence threshold search (get_entropy_threshold): for every
//                   symmetric window of the histogram from quantized_bins to all bins, fold the outside
//                   counts into the end bins, quantize the window to quantized_bins levels, and keep the
//                   window whose KL divergence to the original is smallest; clamped to [min, max].
//                   quantized_bins 0 (the default): the scheme's 2^bits levels, and one-sided windows
//                   [0, t] for a tensor that never went negative (calib_entropy.cpp says why).
//   mse             the clipping range whose expected fake-quantization error under options.scheme is
//                   smallest, the expectation taken over the histogram (values uniform inside each bin).
//                   Symmetric schemes search ±t over the bin edges; asymmetric ones search both ends
//                   over the bin edges by coordinate descent from [min, max].
// Non-finite values → InputError naming the tensor (and the element).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/tensor.h"
#include "quant/qparams.h"

namespace qforge::quant {

struct Range {
  float min = 0, max = 0;
  bool operator==(const Range&) const = default;
};

struct ObserverOptions {
  // Target of the quantization: `symmetric` selects symmetric percentile; mse minimises the error of
  // this scheme. Default: the activation default, asymmetric u8.
  QScheme scheme{DType::u8, false, false};
  double percentile = 99.999;       // percentile method, in (0, 100]; ORT's default
  int64_t bins = 2048;              // histogram bins (even); symmetric percentile: bins of |x|
  int64_t quantized_bins = 0;       // entropy: levels of the candidate distribution (even, <= bins);
                                    // 0 = the scheme's levels, one-sided for non-negative tensors
  double averaging_constant = 0.01; // moving-average
};

class Observer {
 public:
  virtual ~Observer() = default;
  // v: f32 of any shape. Empty tensors are ignored. NaN / Inf → InputError naming the tensor.
  virtual void update(const Tensor& v) = 0;
  // The proposed range. InputError naming the tensor when no value was ever observed.
  virtual Range compute() const = 0;
  // Elements observed so far.
  int64_t count() const { return count_; }
  const std::string& tensor() const { return tensor_; }

 protected:
  explicit Observer(std::string tensor) : tensor_(std::move(tensor)) {}
  void fail_if_empty() const;
  std::string tensor_;
  int64_t count_ = 0;
};

using ObserverFactory = std::unique_ptr<Observer> (*)(const std::string& tensor, const ObserverOptions& opts);

struct ObserverMethod {
  const char* name;
  ObserverFactory make;
  const char* description;
};

// The one table of calibration methods, in display order.
std::span<const ObserverMethod> observer_methods();
// nullptr when unknown.
const ObserverMethod* find_observer_method(std::string_view name);
// InputError listing the known methods when `method` is unknown, or when opts are out of range.
std::unique_ptr<Observer> make_observer(std::string_view method, const std::string& tensor,
                                        const ObserverOptions& opts);
// Validates options (InputError): percentile in (0, 100], bins even >= 2, quantized_bins 0 or even in
// [2, bins], averaging_constant in (0, 1], an integer scheme format.
void check_observer_options(const ObserverOptions& opts);

// Min and max of one f32 batch (empty: {0, 0}). NaN / Inf → InputError "calibration data for tensor
// 'NAME': element I is nan".
Range batch_min_max(const Tensor& v, const std::string& tensor);

// The factories (one per calib_<method>.cpp).
std::unique_ptr<Observer> make_minmax_observer(const std::string& tensor, const ObserverOptions& opts);
std::unique_ptr<Observer> make_moving_average_observer(const std::string& tensor, const ObserverOptions& opts);
std::unique_ptr<Observer> make_percentile_observer(const std::string& tensor, const ObserverOptions& opts);
std::unique_ptr<Observer> make_entropy_observer(const std::string& tensor, const ObserverOptions& opts);
std::unique_ptr<Observer> make_mse_observer(const std::string& tensor, const ObserverOptions& opts);

}  // namespace qforge::quant
