#include "runtime/kernels/reference/resize_ref.h"

#include <algorithm>
#include <cmath>

namespace qforge::runtime {

namespace {

float original_coordinate(int64_t o, int64_t in, int64_t out, float scale, bool scale_is_ratio, ResizeCoord coord) {
  if (coord == ResizeCoord::align_corners)
    return out > 1 ? static_cast<float>(o) * static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  if (coord == ResizeCoord::pytorch_half_pixel && out <= 1) return 0.f;
  if (scale_is_ratio) {  // scale = out / in exactly (then half_pixel_symmetric's offset is 0)
    const double s = static_cast<double>(out) / static_cast<double>(in);
    if (coord == ResizeCoord::asymmetric) return static_cast<float>(static_cast<double>(o) / s);
    return static_cast<float>((static_cast<double>(o) + 0.5) / s - 0.5);
  }
  const auto x = static_cast<float>(o);
  switch (coord) {
    case ResizeCoord::half_pixel:
    case ResizeCoord::pytorch_half_pixel: return (x + 0.5f) / scale - 0.5f;
    case ResizeCoord::half_pixel_symmetric: {
      const float out_width = scale * static_cast<float>(in);
      const float adjustment = static_cast<float>(out) / out_width;
      const float center = static_cast<float>(in) / 2;
      const float offset = center * (1 - adjustment);
      return static_cast<float>(offset + (static_cast<double>(x) + 0.5) / scale - 0.5);
    }
    case ResizeCoord::asymmetric: return x / scale;
    case ResizeCoord::align_corners: break;
  }
  return 0.f;
}

int64_t nearest_index(float x, ResizeNearest mode) {
  switch (mode) {
    case ResizeNearest::round_prefer_floor:
      if (x == std::floor(x) + 0.5f) return static_cast<int64_t>(std::floor(x));
      return static_cast<int64_t>(std::round(x));
    case ResizeNearest::round_prefer_ceil:
      if (x == std::floor(x) + 0.5f) return static_cast<int64_t>(std::ceil(x));
      return static_cast<int64_t>(std::round(x));
    case ResizeNearest::floor: return static_cast<int64_t>(std::floor(x));
    case ResizeNearest::ceil: return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

void cubic_coeffs(float r, float a, float c[4]) {
  c[0] = ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a;
  c[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
  c[2] = ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1;
  c[3] = ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a;
}

}  // namespace

ResizeTaps resize_taps(int64_t in, int64_t out, float scale, bool scale_is_ratio, const ResizeParams& p) {
  ResizeTaps t;
  t.begin.reserve(out + 1);
  auto add = [&](int64_t idx, float w) {
    // Merge a tap on an index already used by this output (clamped borders).
    for (int64_t k = t.begin.back(); k < static_cast<int64_t>(t.index.size()); ++k)
      if (t.index[k] == idx) { t.weight[k] += w; return; }
    t.index.push_back(idx);
    t.weight.push_back(w);
  };
  for (int64_t o = 0; o < out; ++o) {
    t.begin.push_back(static_cast<int64_t>(t.index.size()));
    float x = original_coordinate(o, in, out, scale, scale_is_ratio, p.coord);
    switch (p.mode) {
      case ResizeMode::nearest:
        add(std::clamp<int64_t>(nearest_index(x, p.nearest), 0, in - 1), 1.f);
        break;
      case ResizeMode::linear: {
        x = std::max(0.f, std::min(x, static_cast<float>(in - 1)));
        const int64_t x1 = std::min(static_cast<int64_t>(x), in - 1);
        const int64_t x2 = std::min(x1 + 1, in - 1);
        if (x1 == x2) { add(x1, 1.f); break; }
        const float d1 = std::fabs(x - static_cast<float>(x1)), d2 = std::fabs(x - static_cast<float>(x2));
        if (d2 != 0) add(x1, d2);
        if (d1 != 0) add(x2, d1);
        break;
      }
      case ResizeMode::cubic: {
        const float xf = std::floor(x);
        const auto xi = static_cast<int64_t>(xf);
        float c[4];
        cubic_coeffs(x - xf, p.cubic_a, c);
        float sum = 0;
        if (p.exclude_outside) {
          for (int k = 0; k < 4; ++k) {
            int64_t idx = xi - 1 + k;
            if (idx < 0 || idx >= in) c[k] = 0;
            sum += c[k];
          }
        }
        for (int k = 0; k < 4; ++k) {
          float w = p.exclude_outside ? (sum != 0 ? c[k] / sum : 0.f) : c[k];
          if (w == 0) continue;
          add(std::clamp<int64_t>(xi - 1 + k, 0, in - 1), w);
        }
        break;
      }
    }
  }
  t.begin.push_back(static_cast<int64_t>(t.index.size()));
  return t;
}

void resize_f32__ref(const float* src, const Shape& in_shape, float* dst, const Shape& out_shape,
                     const ResizeParams& p, int threads) {
  const int r = static_cast<int>(in_shape.size());
  const int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  if (in_shape == out_shape) {
    std::copy(src, src + total, dst);
    return;
  }
  std::vector<ResizeTaps> taps;
  for (int d = 0; d < r; ++d)
    taps.push_back(resize_taps(in_shape[d], out_shape[d], p.scales[d], p.scale_is_ratio[d], p));
  std::vector<int64_t> stride(r, 1);
  for (int d = r - 2; d >= 0; --d) stride[d] = stride[d + 1] * in_shape[d + 1];
  const int64_t width = out_shape[r - 1];
  const int64_t rows = total / width;
  const ResizeTaps& tx = taps[r - 1];

#pragma omp parallel for num_threads(threads) if (total > 16384)
  for (int64_t row = 0; row < rows; ++row) {
    // Expand the taps of the leading axes into (offset, weight) combinations for this row.
    std::vector<std::pair<int64_t, float>> combos{{0, 1.f}}, next;
    int64_t rem = row;
    std::vector<int64_t> idx(r - 1 > 0 ? r - 1 : 0);
    for (int d = r - 2; d >= 0; --d) { idx[d] = rem % out_shape[d]; rem /= out_shape[d]; }
    for (int d = 0; d < r - 1; ++d) {
      const ResizeTaps& td = taps[d];
      next.clear();
      for (const auto& [off, w] : combos)
        for (int64_t k = td.begin[idx[d]]; k < td.begin[idx[d] + 1]; ++k)
          next.push_back({off + td.index[k] * stride[d], w * td.weight[k]});
      combos.swap(next);
    }
    float* y = dst + row * width;
    for (int64_t x = 0; x < width; ++x) {
      float acc = 0;
      for (const auto& [off, w] : combos) {
        float part = 0;
        for (int64_t k = tx.begin[x]; k < tx.begin[x + 1]; ++k) part += tx.weight[k] * src[off + tx.index[k]];
        acc += w * part;
      }
      y[x] = acc;
    }
  }
}

}  // namespace qforge::runtime
