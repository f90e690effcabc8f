// minmax: the smallest and largest value over every batch.
#include <algorithm>

#include "quant/observer.h"

namespace qforge::quant {
namespace {

class MinMaxObserver final : public Observer {
 public:
  explicit MinMaxObserver(const std::string& tensor) : Observer(tensor) {}
  void update(const Tensor& v) override {
    if (v.numel() == 0) return;
    const Range r = batch_min_max(v, tensor_);
    range_ = count_ == 0 ? r : Range{std::min(range_.min, r.min), std::max(range_.max, r.max)};
    count_ += v.numel();
  }
  Range compute() const override {
    fail_if_empty();
    return range_;
  }

 private:
  Range range_;
};

}  // namespace

std::unique_ptr<Observer> make_minmax_observer(const std::string& tensor, const ObserverOptions&) {
  return std::make_unique<MinMaxObserver>(tensor);
}

}  // namespace qforge::quant
