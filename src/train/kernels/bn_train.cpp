// The portable BatchNormalization channel loops and the table (bn_train.h).
#include "train/kernels/bn_train.h"

#include "train/kernels/bn_train_impl.h"

namespace qforge::train {

const BnTrainKernel bn_train_f32__scalar = {"bn_train_f32__scalar", bn_stats_body, bn_affine_body,
                                            bn_grad_sums_body, bn_grad_x_body, Isa::ref};

namespace {
const BnTrainKernel* const kBnTrainKernels[] = {&bn_train_f32__scalar, &bn_train_f32__avx2, &bn_train_f32__avx512};
}  // namespace

std::span<const BnTrainKernel* const> bn_train_kernels() { return kBnTrainKernels; }

const BnTrainKernel& bn_train_kernel(Isa isa) {
  const BnTrainKernel* best = kBnTrainKernels[0];
  for (const BnTrainKernel* k : kBnTrainKernels)
    if (k->isa <= isa && k->isa >= best->isa) best = k;
  return *best;
}

}  // namespace qforge::train
