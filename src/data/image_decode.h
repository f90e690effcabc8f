// PNG (libpng) and JPEG (libjpeg) decoding to a float Image in [0, 1]. Alpha is dropped, palette
// and low-bit gray expand to 8 bits, 16-bit PNG samples scale by 1/65535, CMYK JPEG converts to RGB.
// No gamma or colour management is applied (like PIL). The result has 1 (gray) or 3 (RGB) channels.
#pragma once
#include <string>
#include <string_view>

#include "data/preprocess.h"

namespace qforge::data {

// Largest image decoded (width * height); bigger ones are refused before allocating.
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

enum class ImageFormat { unknown, png, jpeg };
ImageFormat sniff_image_format(std::string_view bytes);

// InputError "<name>: ..." on a corrupt, truncated or unsupported file.
Image decode_image(std::string_view bytes, const std::string& name);
Image decode_png(std::string_view bytes, const std::string& name);
Image decode_jpeg(std::string_view bytes, const std::string& name);

}  // namespace qforge::data
