// Compile-time dispatch from a runtime DType to the C++ element type, used by the elementwise
// kernels to instantiate one loop per type (the switch runs once per call, never per element).
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"

namespace qforge::runtime {

// Storage of ONNX bool: one byte, any nonzero value reads as true.
struct Bool8 {
  uint8_t v;
};
// IEEE binary16 / bfloat16 storage (converted through float).
struct Half16 {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) for the real-number types f32 f64 s8 u8 s16 u16 s32 u32 s64 u64; returns
// false (without calling) for any other dtype.
template <class Fn>
bool visit_real_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: fn(TypeTag<float>{}); return true;
    case DType::f64: fn(TypeTag<double>{}); return true;
    case DType::s8: fn(TypeTag<int8_t>{}); return true;
    case DType::u8: fn(TypeTag<uint8_t>{}); return true;
    case DType::s16: fn(TypeTag<int16_t>{}); return true;
    case DType::u16: fn(TypeTag<uint16_t>{}); return true;
    case DType::s32: fn(TypeTag<int32_t>{}); return true;
    case DType::u32: fn(TypeTag<uint32_t>{}); return true;
    case DType::s64: fn(TypeTag<int64_t>{}); return true;
    case DType::u64: fn(TypeTag<uint64_t>{}); return true;
    default: return false;
  }
}

// The real types plus bool, f16 and bf16 (for Cast).
template <class Fn>
bool visit_castable_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::boolean: fn(TypeTag<Bool8>{}); return true;
    case DType::f16: fn(TypeTag<Half16>{}); return true;
    case DType::bf16: fn(TypeTag<BFloat16>{}); return true;
    default: return visit_real_dtype(t, fn);
  }
}

// Element types by size, for ops that only move elements (Where): 1, 2, 4 or 8 bytes.
template <class Fn>
bool visit_by_size(DType t, Fn&& fn) {
  switch (dtype_bits(t)) {
    case 8: fn(TypeTag<uint8_t>{}); return true;
    case 16: fn(TypeTag<uint16_t>{}); return true;
    case 32: fn(TypeTag<uint32_t>{}); return true;
    case 64: fn(TypeTag<uint64_t>{}); return true;
    default: return false;
  }
}

// Integer arithmetic that wraps (two's complement) instead of overflowing into UB; narrow types
// compute in uint32 so that integer promotion cannot overflow a signed int either.
template <class T>
using WrapUnsigned = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

template <class T>
inline T wrap_add(T a, T b) {
  using U = WrapUnsigned<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <class T>
inline T wrap_sub(T a, T b) {
  using U = WrapUnsigned<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <class T>
inline T wrap_mul(T a, T b) {
  using U = WrapUnsigned<T>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}
template <class T>
inline T wrap_neg(T a) {
  using U = WrapUnsigned<T>;
  return static_cast<T>(U{0} - static_cast<U>(a));
}

}  // namespace qforge::runtime
