// The lane loop of the minmax_f32 kernels (minmax.h), included by each kernel's file and compiled with
// that file's ISA flags (internal linkage: each file keeps its own copy). kLanes independent
// accumulators, so the loop vectorizes without reassociating anything: min and max are exact, and
// v - v is 0 for a finite v and NaN for ±inf or NaN, so the running sum of those flags a non-finite value.
#pragma once
#include "runtime/kernels/minmax.h"

namespace qforge::runtime {
namespace {

inline MinMaxF32 minmax_lanes(const float* x, size_t n) {
  constexpr size_t kLanes = 64;
  float mn[kLanes], mx[kLanes], bad[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    mn[l] = mx[l] = x[0];
    bad[l] = 0;
  }
  const size_t body = n - n % kLanes;
  for (size_t i = 0; i < body; i += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) {
      const float f = x[i + l];
      mn[l] = f < mn[l] ? f : mn[l];
      mx[l] = f > mx[l] ? f : mx[l];
      bad[l] += f - f;
    }
  }
  for (size_t i = body; i < n; ++i) {
    const float f = x[i];
    mn[0] = f < mn[0] ? f : mn[0];
    mx[0] = f > mx[0] ? f : mx[0];
    bad[0] += f - f;
  }
  bool finite = true;
  for (size_t l = 0; l < kLanes; ++l) {
    finite &= bad[l] == 0;
    mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
    mx[0] = mx[l] > mx[0] ? mx[l] : mx[0];
  }
  return {mn[0], mx[0], finite};
}

}  // namespace
}  // namespace qforge::runtime
