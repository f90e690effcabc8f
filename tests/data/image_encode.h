// PNG and JPEG bytes written with libpng's simplified writer and libjpeg's compressor: the image
// fixtures of the decoding tests (tests/data/test_images.cpp) and the image seeds of the fuzz corpus
// (fuzz/make_corpus.cpp). No gtest here: a writer failure aborts.
#pragma once
#include <png.h>

#include <cstdlib>
#include <string>
#include <vector>

// N.B. jpeglib.h needs <cstdio> first.
#include <cstdio>
#include <jpeglib.h>

namespace qforge::testing {

// `format`: a PNG_FORMAT_* of libpng's simplified API; `px` interleaved samples as that format lays them.
inline std::string encode_png(int w, int h, uint32_t format, const void* px) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = w;
  img.height = h;
  img.format = format;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, nullptr, &size, 0, px, 0, nullptr)) std::abort();
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&img, out.data(), &size, 0, px, 0, nullptr)) std::abort();
  out.resize(size);
  return out;
}

// channels 1 (a gray JPEG) or 3 (YCbCr JPEG from RGB). `full_chroma`: 4:4:4 sampling instead of
// libjpeg's default 4:2:0; `progressive`: a progressive scan script.
inline std::string encode_jpeg(int w, int h, int channels, const std::vector<uint8_t>& px, int quality,
                               bool full_chroma, bool progressive) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &mem, &size);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (full_chroma)
    for (int i = 0; i < cinfo.num_components; ++i) cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(px.data()) + static_cast<size_t>(cinfo.next_scanline) * w * channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<char*>(mem), size);
  std::free(mem);
  return out;
}

}  // namespace qforge::testing
