#include "quant/pack.h"

namespace qforge::quant {

void pack_4bit(const int8_t* codes, int64_t n, uint8_t* dst) {
  int64_t i = 0;
  for (; i + 1 < n; i += 2) dst[i >> 1] = pack_s4x2(codes[i], codes[i + 1]);
  if (i < n) dst[i >> 1] = pack_s4x2(codes[i], 0);
}

void unpack_s4(const uint8_t* src, int64_t n, int8_t* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(unpack_s4(src, i));
}

void unpack_u4(const uint8_t* src, int64_t n, int8_t* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(unpack_u4(src, i));
}

}  // namespace qforge::quant
