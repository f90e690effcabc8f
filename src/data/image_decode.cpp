#include "data/image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

// N.B. libjpeg's headers need <cstdio> first.
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "core/error.h"

namespace qforge::data {
namespace {

// Decoded samples, interleaved [h][w][channels], 8 or 16 bits (16-bit big-endian, as PNG stores).
struct RawImage {
  uint32_t w = 0, h = 0;
  int channels = 0;
  int bit_depth = 8;
  std::vector<uint8_t> pixels;
};

Image raw_to_image(const RawImage& raw) {
  Image img(raw.channels, static_cast<int>(raw.h), static_cast<int>(raw.w));
  size_t plane = static_cast<size_t>(raw.h) * raw.w;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < raw.channels; ++c) {
      size_t k = i * raw.channels + c;
      img.px[c * plane + i] = raw.bit_depth == 16
                                  ? static_cast<float>((raw.pixels[2 * k] << 8) | raw.pixels[2 * k + 1]) / 65535.0f
                                  : static_cast<float>(raw.pixels[k]) / 255.0f;
    }
  return img;
}

// ---- PNG ----------------------------------------------------------------------------------------
// libpng reports errors by longjmp to the setjmp in png_decode_raw. That function holds no C++
// object whose destructor a longjmp could skip: the vectors it touches are owned by its caller or
// declared before setjmp in its own frame, which the longjmp returns into rather than unwinds.

struct PngState {
  std::string_view bytes;
  size_t pos = 0;
  char msg[256] = {};
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* st = static_cast<PngState*>(png_get_io_ptr(png));
  if (n > st->bytes.size() - st->pos) png_error(png, "unexpected end of file (truncated)");
  std::memcpy(out, st->bytes.data() + st->pos, n);
  st->pos += n;
}

[[noreturn]] void png_on_error(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(st->msg, sizeof st->msg, "%s", msg);
  std::longjmp(png_jmpbuf(png), 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // e.g. a bad iCCP profile: not our concern

bool png_decode_raw(PngState& st, RawImage& out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, png_on_error, png_on_warning);
  if (!png) {
    std::snprintf(st.msg, sizeof st.msg, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    if (!info) std::snprintf(st.msg, sizeof st.msg, "out of memory");
    return false;
  }
  png_set_read_fn(png, &st, png_read_bytes);
  png_read_info(png, info);
  out.w = png_get_image_width(png, info);
  out.h = png_get_image_height(png, info);
  if (static_cast<int64_t>(out.w) * out.h > kMaxImagePixels) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "image of %ux%u is larger than the limit of %lld pixels", out.w, out.h,
                  static_cast<long long>(kMaxImagePixels));
    png_error(png, msg);
  }
  int color = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out.channels = png_get_channels(png, info);
  out.bit_depth = png_get_bit_depth(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  out.pixels.resize(row_bytes * out.h);
  rows.resize(out.h);
  for (uint32_t y = 0; y < out.h; ++y) rows[y] = out.pixels.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);  // reads up to IEND: a file cut after the pixel data fails here
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// ---- JPEG ---------------------------------------------------------------------------------------
// Same setjmp discipline as PNG. Warnings that mean lost or corrupt pixel data are errors here
// (libjpeg would otherwise fill the missing part with gray); harmless ones are ignored.

struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char msg[JMSG_LENGTH_MAX + 64] = {};
};

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  char buf[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buf);
  std::snprintf(e->msg, sizeof e->msg, "%s", buf);
  std::longjmp(e->jump, 1);
}

void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION: jpeg_on_error(cinfo);
    default: cinfo->err->num_warnings++;
  }
}

// Adobe CMYK JPEGs store inverted ink values: R = C * K / 255 on the stored values.
void cmyk_to_rgb(RawImage& img, bool inverted) {
  size_t n = static_cast<size_t>(img.w) * img.h;
  for (size_t i = 0; i < n; ++i) {
    int k = img.pixels[4 * i + 3];
    if (!inverted) k = 255 - k;
    for (int c = 0; c < 3; ++c) {
      int v = img.pixels[4 * i + c];
      if (!inverted) v = 255 - v;
      img.pixels[3 * i + c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
  img.pixels.resize(3 * n);
  img.channels = 3;
}

bool jpeg_decode_raw(std::string_view bytes, JpegErrors& err, RawImage& out) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  jpeg_create_decompress(&cinfo);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    std::snprintf(err.msg, sizeof err.msg, "image of %ux%u is larger than the limit of %lld pixels",
                  cinfo.image_width, cinfo.image_height, static_cast<long long>(kMaxImagePixels));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out.w = cinfo.output_width;
  out.h = cinfo.output_height;
  out.channels = cinfo.output_components;
  out.bit_depth = 8;
  size_t row_bytes = static_cast<size_t>(out.w) * out.channels;
  out.pixels.resize(row_bytes * out.h);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + cinfo.output_scanline * row_bytes;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  bool inverted = cinfo.saw_Adobe_marker;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (cmyk) cmyk_to_rgb(out, inverted);
  return true;
}

}  // namespace

ImageFormat sniff_image_format(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return ImageFormat::png;
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return ImageFormat::jpeg;
  return ImageFormat::unknown;
}

Image decode_png(std::string_view bytes, const std::string& name) {
  PngState st;
  st.bytes = bytes;
  RawImage raw;
  if (!png_decode_raw(st, raw)) fail_input("{}: corrupt PNG: {}", name, st.msg);
  if (raw.channels != 1 && raw.channels != 3)
    fail_input("{}: PNG with {} channels is not supported", name, raw.channels);
  return raw_to_image(raw);
}

Image decode_jpeg(std::string_view bytes, const std::string& name) {
  JpegErrors err;
  RawImage raw;
  if (!jpeg_decode_raw(bytes, err, raw)) fail_input("{}: corrupt JPEG: {}", name, err.msg);
  if (raw.channels != 1 && raw.channels != 3)
    fail_input("{}: JPEG with {} channels is not supported", name, raw.channels);
  return raw_to_image(raw);
}

Image decode_image(std::string_view bytes, const std::string& name) {
  switch (sniff_image_format(bytes)) {
    case ImageFormat::png: return decode_png(bytes, name);
    case ImageFormat::jpeg: return decode_jpeg(bytes, name);
    default: fail_input("{}: not a PNG or JPEG file", name);
  }
}

}  // namespace qforge::data
