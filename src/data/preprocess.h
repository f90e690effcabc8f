// Image preprocessing shared by every dataset kind (see Preprocess in dataset.h).
// An Image is float32, planar [c][h][w], values in [0, 1] after decoding.
// Pipeline for one sample: channel conversion (grayscale / BGR) -> resize shorter side ->
// center crop -> (x - mean) / std -> layout. The header of dataset.h lists channel order after the
// crop; resize, crop and luma are all linear per pixel, so doing the channel step first gives the
// same values and resizes one plane instead of three for grayscale output.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"

namespace qforge::data {

struct Image {
  int c = 0, h = 0, w = 0;
  std::vector<float> px;  // [c][h][w]

  Image() = default;
  Image(int c_, int h_, int w_) : c(c_), h(h_), w(w_), px(static_cast<size_t>(c_) * h_ * w_) {}
  float& at(int ch, int y, int x) { return px[(static_cast<size_t>(ch) * h + y) * w + x]; }
  float at(int ch, int y, int x) const { return px[(static_cast<size_t>(ch) * h + y) * w + x]; }
};

// Bilinear resize with half-pixel centres (PyTorch align_corners=False, no antialias):
// src = (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1].
Image resize_bilinear(const Image& in, int out_h, int out_w);
// (h, w) after scaling the shorter side to `size`; the longer side is truncated like torchvision:
// long = int(size * long / short).
std::pair<int, int> resized_hw(int h, int w, int size);
// Square crop at top = round((h - size) / 2), left = round((w - size) / 2) (ties to even, like
// torchvision). Precondition: size <= h and size <= w.
Image center_crop(const Image& in, int size);
// 3 channels -> 1 by ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B.
Image to_grayscale(const Image& in);
// 1 channel -> 3 equal channels.
Image gray_to_rgb(const Image& in);

// A validated Preprocess for samples of a given input size; InputError naming `what` when the
// options do not fit (mean/std count, zero std, crop larger than the image, grayscale of a
// 2-channel image).
class Pipeline {
 public:
  Pipeline(const Preprocess& pp, int in_c, const std::string& what);
  // Output channels after grayscale.
  int out_channels() const { return out_c_; }
  // Shape of one output sample for an input of (h, w): [C, H, W] or [H, W, C].
  Shape sample_shape(int in_h, int in_w, const std::string& what) const;
  // True when the pipeline leaves a [c][h][w] sample unchanged.
  bool is_identity() const;
  // Runs the pipeline on `img` (in_c channels) and writes one sample of shape `sample` (from
  // sample_shape) to dst; InputError naming `what` when this image comes out at another size.
  void run(Image img, const Shape& sample, float* dst, const std::string& what) const;

 private:
  Preprocess pp_;
  int in_c_ = 0, out_c_ = 0;
  std::vector<float> mean_, std_;  // per output channel
};

}  // namespace qforge::data

namespace qforge::data {
// True when pp asks for nothing (the defaults of Preprocess).
bool preprocess_is_default(const Preprocess& pp);
}  // namespace qforge::data
