#include "runtime/kernels/reference/resize_ref.h"

#include <algorithm>
#include <cmath>

namespace qforge::runtime {

namespace {

struct AxisGeom {
  int64_t in, out;
  float scale;
  bool scale_is_ratio;
  float roi_start, roi_end;
};

// The float operation order follows ONNX Runtime's GetOriginalCoordinateFromResizedCoordinate, so
// nearest-mode ties land on the same side.
float original_coordinate(int64_t o, const AxisGeom& g, ResizeCoord coord) {
  const auto in_f = static_cast<float>(g.in), out_f = static_cast<float>(g.out);
  const auto x = static_cast<float>(o);
  if (coord == ResizeCoord::align_corners) return g.out > 1 ? x * (in_f - 1) / (out_f - 1) : 0.f;
  if (coord == ResizeCoord::tf_crop_and_resize) {
    if (g.out > 1) return g.roi_start * (in_f - 1) + (x * (g.roi_end - g.roi_start) * (in_f - 1)) / (out_f - 1);
    return static_cast<float>(0.5 * static_cast<double>(g.roi_start + g.roi_end) * static_cast<double>(in_f - 1));
  }
  if (coord == ResizeCoord::pytorch_half_pixel && g.out <= 1) return 0.f;
  if (g.scale_is_ratio) {  // scale = out / in exactly (then half_pixel_symmetric's offset is 0)
    const double s = static_cast<double>(g.out) / static_cast<double>(g.in);
    if (coord == ResizeCoord::asymmetric) return static_cast<float>(static_cast<double>(o) / s);
    if (coord == ResizeCoord::tf_half_pixel_for_nn) return static_cast<float>((static_cast<double>(o) + 0.5) / s);
    return static_cast<float>((static_cast<double>(o) + 0.5) / s - 0.5);
  }
  const float scale = g.scale;
  switch (coord) {
    case ResizeCoord::half_pixel:
    case ResizeCoord::pytorch_half_pixel: return (x + 0.5f) / scale - 0.5f;
    case ResizeCoord::half_pixel_symmetric: {
      const float out_width = scale * in_f;
      const float adjustment = out_f / out_width;
      const float center = in_f / 2;
      const float offset = center * (1 - adjustment);
      return static_cast<float>(offset + (static_cast<double>(x) + 0.5) / scale - 0.5);
    }
    case ResizeCoord::asymmetric: return x / scale;
    case ResizeCoord::tf_half_pixel_for_nn: return (x + 0.5f) / scale;
    case ResizeCoord::align_corners:
    case ResizeCoord::tf_crop_and_resize: break;
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

// Antialias filter kernels (t in input pixels scaled by min(scale, 1)).
float filter_triangle(float t) {
  t = std::fabs(t);
  return t < 1.f ? 1.f - t : 0.f;
}

float filter_keys(float t, float a) {
  t = std::fabs(t);
  if (t < 1.f) return ((a + 2.f) * t - (a + 3.f)) * t * t + 1.f;
  if (t < 2.f) return (((t - 5.f) * t + 8.f) * t - 4.f) * a;
  return 0.f;
}

class TapWriter {
 public:
  explicit TapWriter(ResizeTaps& t) : t_(t) {}
  void start_output() { t_.begin.push_back(static_cast<int64_t>(t_.index.size())); }
  // Indices of one output come in non-decreasing order, so a clamped border index repeats the last.
  void add(int64_t idx, float w) {
    if (static_cast<int64_t>(t_.index.size()) > t_.begin.back() && t_.index.back() == idx) {
      t_.weight.back() += w;
      return;
    }
    t_.index.push_back(idx);
    t_.weight.push_back(w);
  }

 private:
  ResizeTaps& t_;
};

void taps_nearest(TapWriter& w, float x, int64_t in, const ResizeParams& p) {
  w.add(std::clamp<int64_t>(nearest_index(x, p.nearest), 0, in - 1), 1.f);
}

void taps_linear(TapWriter& w, float x, int64_t in) {
  x = std::max(0.f, std::min(x, static_cast<float>(in - 1)));
  const int64_t x1 = std::min(static_cast<int64_t>(x), in - 1);
  const int64_t x2 = std::min(x1 + 1, in - 1);
  if (x1 == x2) { w.add(x1, 1.f); return; }
  const float d1 = std::fabs(x - static_cast<float>(x1)), d2 = std::fabs(x - static_cast<float>(x2));
  if (d2 != 0) w.add(x1, d2);
  if (d1 != 0) w.add(x2, d1);
}

void taps_cubic(TapWriter& w, float x, int64_t in, const ResizeParams& p) {
  const float xf = std::floor(x);
  const auto xi = static_cast<int64_t>(xf);
  float c[4];
  cubic_coeffs(x - xf, p.cubic_a, c);
  float sum = 0;
  if (p.exclude_outside) {
    for (int k = 0; k < 4; ++k) {
      const int64_t idx = xi - 1 + k;
      if (idx < 0 || idx >= in) c[k] = 0;
      sum += c[k];
    }
  }
  for (int k = 0; k < 4; ++k) {
    const float wk = p.exclude_outside ? (sum != 0 ? c[k] / sum : 0.f) : c[k];
    if (wk == 0) continue;
    w.add(std::clamp<int64_t>(xi - 1 + k, 0, in - 1), wk);
  }
}

// ONNX Runtime's SetupUpsampleFilterAntiAlias (Pillow's resample) for one output coordinate x.
void taps_antialias(TapWriter& w, float x, int64_t in, float scale, const ResizeParams& p) {
  const float inv = 1.f / scale;  // input pixels per output pixel
  const float half_support = p.mode == ResizeMode::cubic ? 2.f : 1.f;
  const float support = inv >= 1.f ? half_support * inv : half_support;
  const float fscale = inv >= 1.f ? 1.f / inv : 1.f;
  const int64_t window = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  const float center = x + 0.5f;
  const auto lo = static_cast<int64_t>(std::floor(center - support + 0.5f));
  int64_t hi = static_cast<int64_t>(std::floor(center + support + 0.5f));
  hi = lo + std::clamp<int64_t>(hi - lo, 0, window);
  std::vector<std::pair<int64_t, float>> taps;
  float total = 0;
  for (int64_t j = lo; j < hi; ++j) {
    if (p.exclude_outside && (j < 0 || j >= in)) continue;
    const float t = (static_cast<float>(j) - center + 0.5f) * fscale;
    const float k = p.mode == ResizeMode::cubic ? filter_keys(t, p.cubic_a) : filter_triangle(t);
    taps.push_back({std::clamp<int64_t>(j, 0, in - 1), k});
    total += k;
  }
  const float norm = total == 0.f ? 1.f : 1.f / total;
  for (const auto& [idx, k] : taps)
    if (k != 0) w.add(idx, k * norm);
}

}  // namespace

ResizeTaps resize_taps(int64_t in, int64_t out, int axis, const ResizeParams& p) {
  const bool crop = p.coord == ResizeCoord::tf_crop_and_resize;
  const AxisGeom g{in, out, p.scales[axis], p.scale_is_ratio[axis], crop ? p.roi_start[axis] : 0.f,
                   crop ? p.roi_end[axis] : 1.f};
  const float scale = g.scale_is_ratio ? static_cast<float>(out) / static_cast<float>(in) : g.scale;
  ResizeTaps t;
  t.begin.reserve(out + 1);
  t.outside.assign(out, 0);
  TapWriter w(t);
  // An axis with scale 1 maps o to o whatever the mode (as ONNX Runtime does; it matters for
  // tf_half_pixel_for_nn, whose o + 0.5 would otherwise shift the axis under ceil rounding), except in
  // tf_crop_and_resize, where the axis' roi still applies.
  const bool identity = !crop && (g.scale_is_ratio ? in == out : g.scale == 1.f);
  for (int64_t o = 0; o < out; ++o) {
    w.start_output();
    if (identity) {
      w.add(o, 1.f);
      continue;
    }
    const float x = original_coordinate(o, g, p.coord);
    if (crop && (x < 0 || x > static_cast<float>(in - 1))) {
      t.outside[o] = 1;
      continue;
    }
    if (p.antialias && p.mode != ResizeMode::nearest) {
      taps_antialias(w, x, in, scale, p);
      continue;
    }
    switch (p.mode) {
      case ResizeMode::nearest: taps_nearest(w, x, in, p); break;
      case ResizeMode::linear: taps_linear(w, x, in); break;
      case ResizeMode::cubic: taps_cubic(w, x, in, p); break;
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
  if (in_shape == out_shape && p.coord != ResizeCoord::tf_crop_and_resize) {
    std::copy(src, src + total, dst);
    return;
  }
  std::vector<ResizeTaps> taps;
  for (int d = 0; d < r; ++d) taps.push_back(resize_taps(in_shape[d], out_shape[d], d, p));
  std::vector<int64_t> stride(r, 1);
  for (int d = r - 2; d >= 0; --d) stride[d] = stride[d + 1] * in_shape[d + 1];
  const int64_t width = out_shape[r - 1];
  const int64_t rows = total / width;
  const ResizeTaps& tx = taps[r - 1];
  const float extrapolated = p.extrapolation_value;

#pragma omp parallel for num_threads(threads) if (total > 16384)
  for (int64_t row = 0; row < rows; ++row) {
    // Expand the taps of the leading axes into (offset, weight) combinations for this row.
    std::vector<std::pair<int64_t, float>> combos{{0, 1.f}}, next;
    int64_t rem = row;
    std::vector<int64_t> idx(r - 1 > 0 ? r - 1 : 0);
    for (int d = r - 2; d >= 0; --d) { idx[d] = rem % out_shape[d]; rem /= out_shape[d]; }
    float* y = dst + row * width;
    bool row_outside = false;
    for (int d = 0; d < r - 1; ++d) row_outside |= taps[d].outside[idx[d]] != 0;
    if (row_outside) {
      std::fill(y, y + width, extrapolated);
      continue;
    }
    for (int d = 0; d < r - 1; ++d) {
      const ResizeTaps& td = taps[d];
      next.clear();
      for (const auto& [off, w] : combos)
        for (int64_t k = td.begin[idx[d]]; k < td.begin[idx[d] + 1]; ++k)
          next.push_back({off + td.index[k] * stride[d], w * td.weight[k]});
      combos.swap(next);
    }
    for (int64_t x = 0; x < width; ++x) {
      if (tx.outside[x]) { y[x] = extrapolated; continue; }
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
