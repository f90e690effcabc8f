#include "runtime/kernels/reference/broadcast_ref.h"

namespace qforge::runtime {

BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<const Shape*>& ins) {
  QF_CHECK(!ins.empty() && static_cast<int>(ins.size()) <= kBroadcastMaxInputs);
  BroadcastPlan p;
  p.num_inputs = static_cast<int>(ins.size());
  p.numel = shape_numel(out);
  const int rank = static_cast<int>(out.size());
  // Full-rank strides of each input against the output (0 where the input dim is 1 or missing).
  std::vector<std::vector<int64_t>> full(ins.size(), std::vector<int64_t>(rank, 0));
  for (size_t k = 0; k < ins.size(); ++k) {
    const Shape& s = *ins[k];
    QF_CHECK(static_cast<int>(s.size()) <= rank);
    int64_t stride = 1;
    for (int d = rank - 1, j = static_cast<int>(s.size()) - 1; j >= 0; --d, --j) {
      QF_CHECK(s[j] == out[d] || s[j] == 1);
      full[k][d] = s[j] == 1 ? 0 : stride;
      stride *= s[j];
    }
  }
  // Keep dims of size != 1; merge a dim into the kept dim after it when every input's stride
  // continues across the pair (stride[outer] == stride[inner] * size[inner]).
  for (int d = rank - 1; d >= 0; --d) {
    if (out[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t k = 0; merge && k < ins.size(); ++k) merge = full[k][d] == p.strides[k].front() * p.dims.front();
    if (merge) {
      p.dims.front() *= out[d];
      continue;
    }
    p.dims.insert(p.dims.begin(), out[d]);
    for (size_t k = 0; k < ins.size(); ++k) p.strides[k].insert(p.strides[k].begin(), full[k][d]);
  }
  if (p.dims.empty()) {  // scalar output, or all dims 1
    p.dims.push_back(1);
    for (size_t k = 0; k < ins.size(); ++k) p.strides[k].push_back(0);
  }
  // A 0-sized output keeps numel 0; the walkers then do nothing.
  return p;
}

}  // namespace qforge::runtime
