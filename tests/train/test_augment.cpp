// Shuffling and augmentation: permutations, determinism, and that every augmented sample is one of
// the (2·pad + 1)² zero-filled shifts of the original, optionally mirrored (enumerated here directly).
#include <gtest/gtest.h>

#include <algorithm>

#include "train/augment.h"

namespace qforge {
namespace {

TEST(TrainAugment, ShuffleIsSeededPermutation) {
  const auto a = train::shuffled_indices(50, 3, 0);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(a, train::shuffled_indices(50, 3, 0));
  EXPECT_NE(a, train::shuffled_indices(50, 3, 1));
  EXPECT_NE(a, train::shuffled_indices(50, 4, 0));
  EXPECT_TRUE(train::shuffled_indices(0, 3, 0).empty());
}

// out[h][w] = x[h + dy][mirror(w) + dx], 0 outside.
std::vector<float> shifted(const std::vector<float>& x, int64_t H, int64_t W, int64_t dy, int64_t dx, bool flip) {
  std::vector<float> out(x.size(), 0.f);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w) {
      const int64_t sh = h + dy, sw = (flip ? W - 1 - w : w) + dx;
      if (sh >= 0 && sh < H && sw >= 0 && sw < W) out[h * W + w] = x[sh * W + sw];
    }
  return out;
}

TEST(TrainAugment, CropAndFlipAreShiftsOfTheInput) {
  const int64_t N = 12, H = 4, W = 5;
  std::vector<float> img(H * W);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<float>(i + 1);
  Tensor x(DType::f32, {N, 1, H, W});
  for (int64_t n = 0; n < N; ++n) std::copy(img.begin(), img.end(), x.data<float>() + n * H * W);
  std::mt19937_64 rng(9);
  train::augment_batch(x, {.crop_pad = 1, .hflip = true}, rng);
  int changed = 0;
  for (int64_t n = 0; n < N; ++n) {
    const std::vector<float> got(x.data<float>() + n * H * W, x.data<float>() + (n + 1) * H * W);
    bool match = false;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        for (bool f : {false, true}) match = match || got == shifted(img, H, W, dy, dx, f);
    EXPECT_TRUE(match) << "sample " << n;
    changed += got != img ? 1 : 0;
  }
  EXPECT_GT(changed, 0);
  Tensor y(DType::f32, {1, 1, H, W});
  std::copy(img.begin(), img.end(), y.data<float>());
  train::augment_batch(y, {}, rng);  // no augmentation: unchanged
  EXPECT_TRUE(std::equal(img.begin(), img.end(), y.data<float>()));
}

}  // namespace
}  // namespace qforge
