// Per-channel loops of BatchNormalization training (batch_norm_train.cpp), one table (STYLE §3).
// A channel is n planes of sp floats, plane i at base + i·stride. Sums are float within a plane and
// double across planes (the plane order is fixed, so results do not depend on threads).
//   stats:      s1 = Σ (x - k), s2 = Σ (x - k)²   (k: a shift near the mean keeps s2 - s1²/M exact)
//   affine:     y = a·x + b
//   grad_sums:  sdy = Σ dy, sdyxc = Σ dy·(x - μ)
//   grad_x:     dx = fa·dy + fb·(x - μ) + fc
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "core/cpu.h"

namespace qforge::train {

struct BnChannel {
  int64_t n = 0, sp = 0, stride = 0;  // planes, floats per plane, floats between plane starts
};

struct BnTrainKernel {
  std::string_view name;  // bn_train_f32__<isa>
  void (*stats)(const BnChannel& c, const float* x, float k, double* s1, double* s2);
  void (*affine)(const BnChannel& c, const float* x, float a, float b, float* y);
  void (*grad_sums)(const BnChannel& c, const float* x, const float* dy, float mu, double* sdy, double* sdyxc);
  void (*grad_x)(const BnChannel& c, const float* x, const float* dy, float mu, float fa, float fb, float fc,
                 float* dx);
  Isa isa;
};

extern const BnTrainKernel bn_train_f32__scalar;
extern const BnTrainKernel bn_train_f32__avx2;
extern const BnTrainKernel bn_train_f32__avx512;

std::span<const BnTrainKernel* const> bn_train_kernels();
const BnTrainKernel& bn_train_kernel(Isa isa);

}  // namespace qforge::train
