// Element types. The enumerator values are ONNX TensorProto.DataType codes, so import/export is a
// cast and unknown codes stay recognisable. Names follow STYLE §2: f32 f16 bf16 s8 u8 s4 u4 nf4 s32.
// nf4 has no ONNX code; it lives only inside qforge (exported as u4 + a lookup table).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qforge {

enum class DType : int32_t {
  undefined = 0,
  f32 = 1,
  u8 = 2,
  s8 = 3,
  u16 = 4,
  s16 = 5,
  s32 = 6,
  s64 = 7,
  string = 8,
  boolean = 9,
  f16 = 10,
  f64 = 11,
  u32 = 12,
  u64 = 13,
  c64 = 14,
  c128 = 15,
  bf16 = 16,
  f8e4m3fn = 17,
  f8e4m3fnuz = 18,
  f8e5m2 = 19,
  f8e5m2fnuz = 20,
  u4 = 21,
  s4 = 22,
  nf4 = 1000,
};

// Bits per element (4 for s4/u4/nf4, 0 for string/undefined).
int dtype_bits(DType t);
// Bytes needed for n elements, sub-byte types rounded up.
size_t dtype_storage_bytes(DType t, int64_t n);
std::string_view dtype_name(DType t);              // "f32", "s8", ...
std::optional<DType> dtype_from_onnx(int32_t code);  // nullopt for codes qforge does not know
bool dtype_is_float(DType t);
bool dtype_is_integer(DType t);

}  // namespace qforge
