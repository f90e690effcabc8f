#include "train/augment.h"

#include <algorithm>

namespace qforge::train {

std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  std::mt19937_64 rng(seed * 1000003ull + static_cast<uint64_t>(epoch));
  for (int64_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[rng() % static_cast<uint64_t>(i + 1)]);
  return idx;
}

void augment_batch(Tensor& x, const AugmentOptions& o, std::mt19937_64& rng) {
  QF_CHECK(x.dtype() == DType::f32 && x.rank() == 4, "augment_batch expects f32 [N, C, H, W]");
  if (o.crop_pad <= 0 && !o.hflip) return;
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), pad = std::max(o.crop_pad, 0);
  std::vector<float> src(static_cast<size_t>(C * H * W));
  for (int64_t n = 0; n < N; ++n) {
    const int64_t dy = pad ? static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * pad + 1)) - pad : 0;
    const int64_t dx = pad ? static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * pad + 1)) - pad : 0;
    const bool flip = o.hflip && (rng() & 1) != 0;
    float* p = x.data<float>() + n * C * H * W;
    std::copy(p, p + C * H * W, src.begin());
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const int64_t sh = h + dy, sw = (flip ? W - 1 - w : w) + dx;
          p[(c * H + h) * W + w] = sh >= 0 && sh < H && sw >= 0 && sw < W ? src[(c * H + sh) * W + sw] : 0.f;
        }
  }
}

}  // namespace qforge::train
