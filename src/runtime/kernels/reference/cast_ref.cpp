#include "runtime/kernels/reference/cast_ref.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/kernels/reference/dtype_visit_ref.h"
#include "runtime/kernels/reference/parallel_ref.h"

namespace qforge::runtime {
namespace {

// Truncating float → int as the x86 instructions (cvttsd2si) do: NaN or out of range gives the
// "integer indefinite" value (lowest) of the 32- or 64-bit conversion.
inline int32_t trunc_to_s32(double v) {
  return (v > -2147483649.0 && v < 2147483648.0) ? static_cast<int32_t>(v) : std::numeric_limits<int32_t>::min();
}
inline int64_t trunc_to_s64(double v) {
  return (v >= -9223372036854775808.0 && v < 9223372036854775808.0) ? static_cast<int64_t>(v)
                                                                    : std::numeric_limits<int64_t>::min();
}

template <class To>
To float_to_int(double v) {
  if constexpr (std::is_same_v<To, int64_t>) {
    return trunc_to_s64(v);
  } else if constexpr (std::is_same_v<To, uint64_t>) {
    if (v >= 0 && v < 18446744073709551616.0) return static_cast<uint64_t>(v);
    return static_cast<uint64_t>(trunc_to_s64(v));
  } else if constexpr (std::is_same_v<To, uint32_t>) {
    return static_cast<uint32_t>(trunc_to_s64(v));  // low 32 bits of the 64-bit conversion
  } else {
    return static_cast<To>(trunc_to_s32(v));  // s32, and the low bits for s8 u8 s16 u16
  }
}

template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<From, Half16>) {
    return convert<To>(f16_to_f32(v.bits));
  } else if constexpr (std::is_same_v<From, BFloat16>) {
    return convert<To>(bf16_to_f32(v.bits));
  } else if constexpr (std::is_same_v<From, Bool8>) {
    return convert<To>(static_cast<uint8_t>(v.v != 0));
  } else if constexpr (std::is_same_v<To, Bool8>) {
    return Bool8{static_cast<uint8_t>(v != From(0))};  // NaN != 0: true
  } else if constexpr (std::is_same_v<To, Half16>) {
    return Half16{f32_to_f16(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16{f32_to_bf16(static_cast<float>(v))};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return float_to_int<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);  // int → int wraps (C++20), int → float rounds to nearest
  }
}

// restrict parameters (LLVM honours restrict only there) let 1-byte stores vectorise.
template <class From, class To>
void convert_range(const From* __restrict src, To* __restrict dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = convert<To>(src[i]);
}

}  // namespace

bool cast_supports(DType t) {
  return visit_castable_dtype(t, [](auto) {});
}

void cast_ref(const Tensor& x, Tensor& y, int threads) {
  QF_CHECK(x.numel() == y.numel());
  const int64_t n = x.numel();
  if (x.dtype() == y.dtype()) {
    if (n > 0) std::copy_n(static_cast<const std::byte*>(x.raw()), x.nbytes(), static_cast<std::byte*>(y.raw()));
    return;
  }
  bool ok = false;
  visit_castable_dtype(x.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    ok = visit_castable_dtype(y.dtype(), [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* src = x.data<From>();
      To* dst = y.data<To>();
      parallel_chunks(n, threads, [&](int64_t i0, int64_t i1) { convert_range(src + i0, dst + i0, i1 - i0); });
    });
  });
  QF_CHECK(ok, "cast_ref: unsupported dtype pair");
}

}  // namespace qforge::runtime
