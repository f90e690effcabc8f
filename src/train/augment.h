// Data order and augmentation for training, reproducible from a seed. Random draws use
// std::mt19937_64 (fully specified by the standard) and `rng() % range`, never std::shuffle or the
// std distributions, whose algorithms differ between standard libraries.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace qforge::train {

// A permutation of [0, n) for (seed, epoch): Fisher–Yates driven by mt19937_64(seed·1000003 + epoch).
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, int64_t epoch);

struct AugmentOptions {
  int crop_pad = 0;    // random crop: zero-pad by this many pixels on every side, crop back to H×W
  bool hflip = false;  // mirror left-right with probability 1/2
};

// In place on x f32 [N, C, H, W], per sample: offsets dy, dx uniform in [0, 2·crop_pad] select the
// window out[h][w] = padded[h + dy][w + dx] = x[h + dy - pad][w + dx - pad] (0 outside x); then a flip
// out[h][w] ← out[h][W-1-w] when the draw is odd. Draw order per sample: dy, dx, flip.
void augment_batch(Tensor& x, const AugmentOptions& o, std::mt19937_64& rng);

}  // namespace qforge::train
