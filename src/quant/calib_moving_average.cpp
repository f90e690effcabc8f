// moving-average: torch's MovingAverageMinMaxObserver. The first batch sets [min, max]; each later
// batch moves them towards its own extremes: min += c * (batch_min - min), max += c * (batch_max - max).
// Computed in double, stored as float after each batch.
#include "quant/observer.h"

namespace qforge::quant {
namespace {

class MovingAverageObserver final : public Observer {
 public:
  MovingAverageObserver(const std::string& tensor, double c) : Observer(tensor), c_(c) {}
  void update(const Tensor& v) override {
    if (v.numel() == 0) return;
    const Range r = batch_min_max(v, tensor_);
    if (count_ == 0) {
      range_ = r;
    } else {
      range_.min = static_cast<float>(range_.min + c_ * (static_cast<double>(r.min) - range_.min));
      range_.max = static_cast<float>(range_.max + c_ * (static_cast<double>(r.max) - range_.max));
    }
    count_ += v.numel();
  }
  Range compute() const override {
    fail_if_empty();
    return range_;
  }

 private:
  double c_;
  Range range_;
};

}  // namespace

std::unique_ptr<Observer> make_moving_average_observer(const std::string& tensor, const ObserverOptions& opts) {
  return std::make_unique<MovingAverageObserver>(tensor, opts.averaging_constant);
}

}  // namespace qforge::quant
