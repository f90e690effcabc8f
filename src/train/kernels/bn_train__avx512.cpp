// The BatchNormalization channel loops (bn_train.h) compiled for AVX-512 (flags from the file name).
#include "train/kernels/bn_train.h"
#include "train/kernels/bn_train_impl.h"

namespace qforge::train {

const BnTrainKernel bn_train_f32__avx512 = {"bn_train_f32__avx512", bn_stats_body, bn_affine_body, bn_grad_sums_body,
                                          bn_grad_x_body, Isa::avx512};

}  // namespace qforge::train
