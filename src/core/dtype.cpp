#include "core/dtype.h"

namespace qforge {

int dtype_bits(DType t) {
  switch (t) {
    case DType::f32: case DType::s32: case DType::u32: return 32;
    case DType::u8: case DType::s8: case DType::boolean: return 8;
    case DType::f8e4m3fn: case DType::f8e4m3fnuz: case DType::f8e5m2: case DType::f8e5m2fnuz: return 8;
    case DType::u16: case DType::s16: case DType::f16: case DType::bf16: return 16;
    case DType::s64: case DType::u64: case DType::f64: case DType::c64: return 64;
    case DType::c128: return 128;
    case DType::u4: case DType::s4: case DType::nf4: return 4;
    case DType::string: case DType::undefined: return 0;
  }
  return 0;
}

size_t dtype_storage_bytes(DType t, int64_t n) {
  return static_cast<size_t>((static_cast<uint64_t>(n) * dtype_bits(t) + 7) / 8);
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::undefined: return "undefined";
    case DType::f32: return "f32";
    case DType::u8: return "u8";
    case DType::s8: return "s8";
    case DType::u16: return "u16";
    case DType::s16: return "s16";
    case DType::s32: return "s32";
    case DType::s64: return "s64";
    case DType::string: return "string";
    case DType::boolean: return "bool";
    case DType::f16: return "f16";
    case DType::f64: return "f64";
    case DType::u32: return "u32";
    case DType::u64: return "u64";
    case DType::c64: return "c64";
    case DType::c128: return "c128";
    case DType::bf16: return "bf16";
    case DType::f8e4m3fn: return "f8e4m3fn";
    case DType::f8e4m3fnuz: return "f8e4m3fnuz";
    case DType::f8e5m2: return "f8e5m2";
    case DType::f8e5m2fnuz: return "f8e5m2fnuz";
    case DType::u4: return "u4";
    case DType::s4: return "s4";
    case DType::nf4: return "nf4";
  }
  return "?";
}

std::optional<DType> dtype_from_onnx(int32_t code) {
  if (code >= 1 && code <= 22) return static_cast<DType>(code);
  return std::nullopt;
}

bool dtype_is_float(DType t) {
  return t == DType::f32 || t == DType::f16 || t == DType::bf16 || t == DType::f64;
}

bool dtype_is_integer(DType t) {
  switch (t) {
    case DType::u8: case DType::s8: case DType::u16: case DType::s16: case DType::s32:
    case DType::s64: case DType::u32: case DType::u64: case DType::u4: case DType::s4:
      return true;
    default:
      return false;
  }
}

}  // namespace qforge
