// Vector kernels of the lowered elementwise ops (ops/qlinear_misc.cpp).
//
// Elementwise QAdd / QMul of two same-shape 8-bit tensors, computed with the float formula of the
// lowered op's table (ops/qlinear_misc.cpp) instead of looking it up:
//   da = float(qa − za) · sa,  db = float(qb − zb) · sb,  v = da + db  (QMul: da · db)
//   y  = quant::quantize_value(v, ys, yz, qmin, qmax)
// Every step is one IEEE operation (convert, multiply, add, divide, compare, the 1.5·2^23 rounding),
// so the vector kernel gives the table's bytes exactly; the op still checks all 65536 code pairs
// against its table once at prepare and keeps the table lookup if any differs.
#pragma once
#include <cstdint>

namespace qforge::runtime {

struct QBinaryParams {
  float sa = 1, sb = 1, ys = 1;
  int32_t za = 0, zb = 0, yz = 0, qmin = 0, qmax = 255;
  bool a_s8 = false, b_s8 = false;  // codes read as s8 (else u8)
  bool mul = false;
};

// y[i] for i < n (bytes of y's dtype). AVX-512 (F + BW).
void qbinary_8__avx512(const QBinaryParams& p, const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n);

// y[i] = table[x[i] ^ flip] for i < n: a 256-byte table lookup, 64 bytes per step with two VPERMI2B
// (one per half of the table) and a blend on the index's top bit. Needs AVX-512 VBMI (cpu_features()).
void qlut_8__avx512vbmi(const uint8_t* table, uint8_t flip, const uint8_t* x, uint8_t* y, int64_t n);

}  // namespace qforge::runtime
