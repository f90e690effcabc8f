// The bundled architectures as ONNX graphs (issue 3): `qforge train --arch cnn|mobilenet|resnet`
// builds one of these, trains it and exports it. Each takes N×C×H×W float32 in [0, 1] (input
// "input"), normalises inside the graph (Sub mean, Mul 1/std) and returns logits N×classes (output
// "logits"). BatchNormalization nodes stay as they are (inference form; training uses batch
// statistics), the way users export from PyTorch.
//   cnn       — two Conv-BN-ReLU pairs per stage, MaxPool, two stages, Flatten, Gemm-ReLU, Gemm
//   mobilenet — stem Conv-BN-ReLU6, depthwise-separable blocks (dw 3×3-BN-ReLU6, pw 1×1-BN-ReLU6),
//               GlobalAveragePool, Gemm
//   resnet    — stem Conv-BN-ReLU, basic residual blocks (Conv-BN-ReLU-Conv-BN + shortcut, Add, ReLU;
//               1×1 Conv-BN shortcut where the shape changes), GlobalAveragePool, Gemm
// Weights are initialised as PyTorch does (Kaiming-uniform, a = √5, for Conv and Gemm; BN γ=1, β=0),
// from a std::mt19937_64 seeded with `seed`: the same seed gives the same model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qforge::train {

struct ArchOptions {
  int64_t channels = 1;  // input channels
  int64_t height = 28, width = 28;
  int64_t classes = 10;
  float mean = 0.2860f, std = 0.3530f;  // Fashion-MNIST train-set pixel statistics
  uint64_t seed = 0;
};

// The names build_arch() accepts, in the order help texts list them.
std::vector<std::string> arch_names();
// InputError for an unknown name or sizes the architecture cannot take (each stride-2 stage needs
// the spatial size to stay ≥ 1).
ir::Model build_arch(const std::string& arch, const ArchOptions& opts = {});

}  // namespace qforge::train
