#include "quant/calibrate.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/cpu.h"
#include "runtime/kernels/minmax.h"
#include "runtime/kernels/reference/parallel_ref.h"
#include "runtime/session.h"

namespace qforge::quant {

// ---- observers: the shared pieces and the one table of methods ----

namespace {

constexpr ObserverMethod kMethods[] = {
    {"minmax", make_minmax_observer, "smallest and largest value seen"},
    {"moving-average", make_moving_average_observer,
     "per-batch min/max averaged with constant c (torch MovingAverageMinMaxObserver)"},
    {"percentile", make_percentile_observer,
     "clip the histogram's (100 - p)% tail (ONNX Runtime percentile semantics)"},
    {"entropy", make_entropy_observer, "KL-divergence threshold search over a histogram (TensorRT / ONNX Runtime)"},
    {"mse", make_mse_observer, "clipping range that minimises the expected quantization error"},
};

}  // namespace

void Observer::fail_if_empty() const {
  if (count_ == 0) fail_input("calibration of tensor '{}': no values were observed", tensor_);
}

// Large batches are scanned by all threads, a slice each (min and max are exact: the split does not
// change them).
Range batch_min_max(const Tensor& v, const std::string& tensor) {
  QF_CHECK(v.dtype() == DType::f32, "observers take f32 tensors");
  const std::span<const float> x = v.span<float>();
  if (x.empty()) return {};
  const int threads = x.size() >= (size_t{1} << 16) ? std::min<int>(default_threads(), static_cast<int>(x.size() >> 12)) : 1;
  runtime::MinMaxF32 all;
  if (threads <= 1) {
    all = runtime::minmax_f32(x.data(), x.size());
  } else {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<runtime::MinMaxF32> part(static_cast<size_t>(threads), runtime::MinMaxF32{inf, -inf, true});
    const size_t step = (x.size() + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
    runtime::parallel_tasks(threads, threads, [&](int64_t p) {
      const size_t b = static_cast<size_t>(p) * step;
      if (b < x.size()) part[static_cast<size_t>(p)] = runtime::minmax_f32(x.data() + b, std::min(step, x.size() - b));
    });
    all = part[0];
    for (const runtime::MinMaxF32& r : part) {
      all.min = r.min < all.min ? r.min : all.min;
      all.max = r.max > all.max ? r.max : all.max;
      all.finite &= r.finite;
    }
  }
  if (!all.finite) {
    for (size_t i = 0; i < x.size(); ++i)
      if (!std::isfinite(x[i])) fail_input("calibration data for tensor '{}': element {} is {}", tensor, i, x[i]);
  }
  return {all.min, all.max};
}

std::span<const ObserverMethod> observer_methods() { return kMethods; }

const ObserverMethod* find_observer_method(std::string_view name) {
  for (const ObserverMethod& m : kMethods)
    if (name == m.name) return &m;
  return nullptr;
}

void check_observer_options(const ObserverOptions& o) {
  if (!(o.percentile > 0 && o.percentile <= 100)) fail_input("percentile {} is not in (0, 100]", o.percentile);
  if (o.bins < 2 || o.bins % 2 != 0 || o.bins > (int64_t{1} << 24))
    fail_input("histogram bins {} must be even, in [2, 2^24]", o.bins);
  if (o.quantized_bins != 0 && (o.quantized_bins < 2 || o.quantized_bins % 2 != 0 || o.quantized_bins > o.bins))
    fail_input("quantized bins {} must be 0 (the scheme's levels) or even, in [2, bins = {}]", o.quantized_bins, o.bins);
  if (!(o.averaging_constant > 0 && o.averaging_constant <= 1))
    fail_input("averaging constant {} is not in (0, 1]", o.averaging_constant);
  if (!qformat_is_integer(o.scheme.format))
    fail_input("calibration scheme format {} is not an integer format", dtype_name(o.scheme.format));
  if (o.scheme.reduced_range && dtype_bits(o.scheme.format) != 8)
    fail_input("reduced range needs an 8-bit format, not {}", dtype_name(o.scheme.format));
}

std::unique_ptr<Observer> make_observer(std::string_view method, const std::string& tensor,
                                        const ObserverOptions& opts) {
  const ObserverMethod* m = find_observer_method(method);
  if (!m) {
    std::string names;
    for (const ObserverMethod& k : kMethods) names += (names.empty() ? "" : ", ") + std::string(k.name);
    fail_input("unknown calibration method '{}' (known: {})", method, names);
  }
  check_observer_options(opts);
  return m->make(tensor, opts);
}

// ---- calibrate ----

std::vector<std::string> default_calib_tensors(const ir::Graph& g) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const ir::Node& n : g.nodes) {
    for (const std::string& in : n.inputs) {
      if (in.empty() || g.initializer(in) || !seen.insert(in).second) continue;
      const ir::ValueInfo* vi = g.find_value_info(in);
      if (vi && vi->dtype != DType::undefined && vi->dtype != DType::f32) continue;
      out.push_back(in);
    }
  }
  return out;
}

CalibTable calibrate(const ir::Model& model, const BatchSource& next, const CalibOptions& opts) {
  check_observer_options(opts.observer);
  runtime::SessionOptions so;
  so.threads = opts.threads;
  // With a list, the session fuses what it may (an activation into its convolution: one pass over
  // memory less) as long as every listed value is still computed; without one, every value a node
  // reads is observed, so nothing is fused.
  so.optimize = !opts.tensors.empty();
  so.preserve = opts.tensors;
  runtime::Session session(model, so);
  const ir::Graph& g = session.graph();

  const bool explicit_list = !opts.tensors.empty();
  const std::vector<std::string> names = explicit_list ? opts.tensors : default_calib_tensors(g);
  if (explicit_list) {
    std::set<std::string> values;
    for (const ir::ValueInfo& v : g.inputs) values.insert(v.name);
    for (const ir::Node& n : g.nodes) values.insert(n.outputs.begin(), n.outputs.end());
    for (const std::string& n : names) {
      if (!values.count(n))
        fail_input("calibration tensor '{}' is not computed by the model (not a graph input or node output)", n);
    }
  }
  for (const auto& [name, method] : opts.method_of) {
    if (std::find(names.begin(), names.end(), name) == names.end())
      fail_input("calibration method given for tensor '{}', which is not calibrated", name);
  }

  struct Slot {
    std::unique_ptr<Observer> observer;
    std::string method;
    bool non_float = false;
  };
  std::unordered_map<std::string, Slot> slots;
  for (const std::string& n : names) {
    auto it = opts.method_of.find(n);
    const std::string& method = it == opts.method_of.end() ? opts.method : it->second;
    slots[n] = Slot{make_observer(method, n, opts.observer), method};
  }

  session.set_value_hook([&](const std::string& name, const Tensor& value) {
    auto it = slots.find(name);
    if (it == slots.end()) return;
    if (value.dtype() != DType::f32) {
      it->second.non_float = true;
      return;
    }
    it->second.observer->update(value);
  });

  CalibTable table;
  table.options = opts.observer;
  while (opts.max_batches < 0 || table.batches < opts.max_batches) {
    std::vector<Tensor> batch = next();
    if (batch.empty()) break;
    session.run(batch);  // outputs dropped at once: only this batch's values were ever alive
    ++table.batches;
    table.samples += batch[0].rank() >= 1 ? batch[0].dim(0) : 1;
  }
  if (table.batches == 0) fail_input("calibration set is empty");

  std::vector<const std::string*> todo;
  for (const std::string& n : names) {
    const Slot& s = slots.at(n);
    if (s.non_float) {
      if (explicit_list) fail_input("calibration tensor '{}' is not float32", n);
      continue;
    }
    if (s.observer->count() == 0) {
      if (explicit_list) fail_input("calibration tensor '{}' took no values (empty in every batch)", n);
      continue;
    }
    todo.push_back(&n);
  }
  // The observers' results are independent (an entropy search is ~10 ms per tensor): computed in
  // parallel, collected in order, so the table does not depend on the thread count.
  std::vector<Range> ranges(todo.size());
  std::vector<std::exception_ptr> errors(todo.size());
  const int threads = std::max(1, opts.threads > 0 ? opts.threads : default_threads());
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (size_t i = 0; i < todo.size(); ++i) {
    try {
      ranges[i] = slots.at(*todo[i]).observer->compute();
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (size_t i = 0; i < todo.size(); ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
    const Slot& s = slots.at(*todo[i]);
    table.tensors[*todo[i]] = CalibEntry{ranges[i], s.method, s.observer->count()};
  }
  return table;
}

CalibTable calibrate(const ir::Model& model, const SingleBatchSource& next, const CalibOptions& opts) {
  if (model.graph.inputs.size() != 1)
    fail_input("calibration data gives one tensor per batch but the model has {} inputs", model.graph.inputs.size());
  return calibrate(model, BatchSource([&]() -> std::vector<Tensor> {
                     Tensor t = next();
                     if (t.empty()) return {};
                     return {std::move(t)};
                   }),
                   opts);
}

}  // namespace qforge::quant
