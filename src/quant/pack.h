// 4-bit packing (s4, u4 and nf4 codes): two elements per byte, element 2i in the LOW nibble and
// element 2i+1 in the high nibble (ONNX order); an odd count leaves the last high nibble 0.
//   byte k = (code[2k+1] & 0xF) << 4 | (code[2k] & 0xF);  s4 nibbles are two's complement.
#pragma once
#include <cstdint>

namespace qforge::quant {

// One byte from two codes (s4 in [-8, 7] or u4 / nf4 in [0, 15]); lo is the even element.
inline uint8_t pack_s4x2(int32_t lo, int32_t hi) {
  return static_cast<uint8_t>((static_cast<uint32_t>(hi) & 0xFu) << 4 | (static_cast<uint32_t>(lo) & 0xFu));
}
inline uint8_t pack_u4x2(int32_t lo, int32_t hi) { return pack_s4x2(lo, hi); }

// Element i of a packed 4-bit array.
inline int32_t unpack_u4(const uint8_t* p, int64_t i) {
  const uint8_t b = p[i >> 1];
  return (i & 1) ? (b >> 4) : (b & 0xF);
}
inline int32_t unpack_s4(const uint8_t* p, int64_t i) {
  const int32_t nib = unpack_u4(p, i);
  return nib >= 8 ? nib - 16 : nib;
}

// dst: ceil(n / 2) bytes from n codes (one per int8_t).
void pack_4bit(const int8_t* codes, int64_t n, uint8_t* dst);
// dst: n codes from ceil(n / 2) bytes, sign-extended (s4) or not (u4 / nf4).
void unpack_s4(const uint8_t* src, int64_t n, int8_t* dst);
void unpack_u4(const uint8_t* src, int64_t n, int8_t* dst);

}  // namespace qforge::quant
