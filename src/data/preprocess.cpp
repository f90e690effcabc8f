#include "data/preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace qforge::data {

Image resize_bilinear(const Image& in, int out_h, int out_w) {
  QF_CHECK(out_h > 0 && out_w > 0 && in.h > 0 && in.w > 0);
  // Per output coordinate: the two source indices and the weight of the second.
  struct Tap {
    int i0, i1;
    float f;
  };
  auto taps = [](int in, int out) {
    std::vector<Tap> t(out);
    double scale = static_cast<double>(in) / out;
    for (int d = 0; d < out; ++d) {
      double s = std::max((d + 0.5) * scale - 0.5, 0.0);
      int i0 = std::min(static_cast<int>(s), in - 1);
      t[d] = {i0, std::min(i0 + 1, in - 1), static_cast<float>(s - i0)};
    }
    return t;
  };
  std::vector<Tap> ty = taps(in.h, out_h), tx = taps(in.w, out_w);
  Image out(in.c, out_h, out_w);
  for (int c = 0; c < in.c; ++c)
    for (int y = 0; y < out_h; ++y) {
      const Tap& a = ty[y];
      for (int x = 0; x < out_w; ++x) {
        const Tap& b = tx[x];
        float top = in.at(c, a.i0, b.i0) * (1 - b.f) + in.at(c, a.i0, b.i1) * b.f;
        float bot = in.at(c, a.i1, b.i0) * (1 - b.f) + in.at(c, a.i1, b.i1) * b.f;
        out.at(c, y, x) = top * (1 - a.f) + bot * a.f;
      }
    }
  return out;
}

std::pair<int, int> resized_hw(int h, int w, int size) {
  if (h <= w) return {size, static_cast<int>(static_cast<int64_t>(size) * w / h)};
  return {static_cast<int>(static_cast<int64_t>(size) * h / w), size};
}

Image center_crop(const Image& in, int size) {
  QF_CHECK(size <= in.h && size <= in.w);
  int top = static_cast<int>(std::nearbyint((in.h - size) / 2.0));
  int left = static_cast<int>(std::nearbyint((in.w - size) / 2.0));
  Image out(in.c, size, size);
  for (int c = 0; c < in.c; ++c)
    for (int y = 0; y < size; ++y)
      std::copy_n(&in.px[(static_cast<size_t>(c) * in.h + top + y) * in.w + left], size, &out.at(c, y, 0));
  return out;
}

Image to_grayscale(const Image& in) {
  QF_CHECK(in.c == 3);
  Image out(1, in.h, in.w);
  size_t plane = static_cast<size_t>(in.h) * in.w;
  for (size_t i = 0; i < plane; ++i)
    out.px[i] = 0.299f * in.px[i] + 0.587f * in.px[plane + i] + 0.114f * in.px[2 * plane + i];
  return out;
}

Image gray_to_rgb(const Image& in) {
  QF_CHECK(in.c == 1);
  Image out(3, in.h, in.w);
  for (int c = 0; c < 3; ++c) std::copy(in.px.begin(), in.px.end(), out.px.begin() + c * in.px.size());
  return out;
}

Pipeline::Pipeline(const Preprocess& pp, int in_c, const std::string& what) : pp_(pp), in_c_(in_c) {
  QF_CHECK(in_c > 0);
  if (pp.resize < 0) fail_input("{}: resize must be positive, got {}", what, pp.resize);
  if (pp.center_crop < 0) fail_input("{}: center crop must be positive, got {}", what, pp.center_crop);
  out_c_ = in_c;
  if (pp.grayscale && in_c != 1) {
    if (in_c != 3) fail_input("{}: grayscale needs 1 or 3 channels, the samples have {}", what, in_c);
    out_c_ = 1;
  }
  auto per_channel = [&](const std::vector<float>& v, float dflt, const char* name) {
    if (v.empty()) return std::vector<float>(out_c_, dflt);
    if (v.size() == 1) return std::vector<float>(out_c_, v[0]);
    if (static_cast<int>(v.size()) != out_c_)
      fail_input("{}: {} has {} values, expected {} (the samples have {} channel{})", what, name, v.size(),
                 out_c_ == 1 ? std::string("1") : fmt::format("1 or {}", out_c_), out_c_, out_c_ == 1 ? "" : "s");
    return v;
  };
  mean_ = per_channel(pp.mean, 0.0f, "mean");
  std_ = per_channel(pp.std, 1.0f, "std");
  for (float s : std_)
    if (!(s != 0.0f) || !std::isfinite(s)) fail_input("{}: std must be finite and non-zero, got {}", what, s);
}

Shape Pipeline::sample_shape(int in_h, int in_w, const std::string& what) const {
  auto [h, w] = pp_.resize > 0 ? resized_hw(in_h, in_w, pp_.resize) : std::pair<int, int>{in_h, in_w};
  if (h <= 0 || w <= 0) fail_input("{}: image of {}x{} resizes to an empty image", what, in_w, in_h);
  if (pp_.center_crop > 0) {
    if (pp_.center_crop > h || pp_.center_crop > w)
      fail_input("{}: center crop {} is larger than the {}x{} image", what, pp_.center_crop, w, h);
    h = w = pp_.center_crop;
  }
  if (pp_.layout == Layout::nhwc) return {h, w, out_c_};
  return {out_c_, h, w};
}

bool Pipeline::is_identity() const {
  bool unit = std::all_of(mean_.begin(), mean_.end(), [](float m) { return m == 0.0f; }) &&
              std::all_of(std_.begin(), std_.end(), [](float s) { return s == 1.0f; });
  bool swaps = pp_.bgr && out_c_ == 3;
  return unit && !swaps && out_c_ == in_c_ && pp_.resize == 0 && pp_.center_crop == 0 &&
         (pp_.layout == Layout::nchw || out_c_ == 1);
}

void Pipeline::run(Image img, const Shape& sample, float* dst, const std::string& what) const {
  QF_CHECK(img.c == in_c_ && sample.size() == 3);
  if (out_c_ == 1 && img.c == 3) img = to_grayscale(img);
  if (pp_.bgr && img.c == 3) {
    size_t plane = static_cast<size_t>(img.h) * img.w;
    std::swap_ranges(img.px.begin(), img.px.begin() + plane, img.px.begin() + 2 * plane);
  }
  if (pp_.resize > 0) {
    auto [h, w] = resized_hw(img.h, img.w, pp_.resize);
    if (h <= 0 || w <= 0) fail_input("{}: image of {}x{} resizes to an empty image", what, img.w, img.h);
    if (h != img.h || w != img.w) img = resize_bilinear(img, h, w);
  }
  if (pp_.center_crop > 0) {
    if (pp_.center_crop > img.h || pp_.center_crop > img.w)
      fail_input("{}: center crop {} is larger than the {}x{} image", what, pp_.center_crop, img.w, img.h);
    img = center_crop(img, pp_.center_crop);
  }
  int64_t want_h = pp_.layout == Layout::nchw ? sample[1] : sample[0];
  int64_t want_w = pp_.layout == Layout::nchw ? sample[2] : sample[1];
  if (img.h != want_h || img.w != want_w)
    fail_input("{}: image is {}x{} after preprocessing, the dataset's samples are {}x{} "
               "(use resize and center crop for images of different sizes)",
               what, img.w, img.h, want_w, want_h);
  size_t plane = static_cast<size_t>(img.h) * img.w;
  for (int c = 0; c < img.c; ++c) {
    float m = mean_[c], s = std_[c];
    const float* src = &img.px[c * plane];
    if (pp_.layout == Layout::nchw) {
      float* d = dst + c * plane;
      for (size_t i = 0; i < plane; ++i) d[i] = (src[i] - m) / s;
    } else {
      for (size_t i = 0; i < plane; ++i) dst[i * img.c + c] = (src[i] - m) / s;
    }
  }
}

}  // namespace qforge::data

namespace qforge::data {
bool preprocess_is_default(const Preprocess& pp) {
  return pp.mean.empty() && pp.std.empty() && pp.resize == 0 && pp.center_crop == 0 &&
         pp.layout == Layout::nchw && !pp.bgr && !pp.grayscale;
}
}  // namespace qforge::data
