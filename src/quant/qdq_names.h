// Names qforge gives the values and nodes it adds to a QDQ model, for a tensor or initializer T:
//   T_q   the quantized integers (a QuantizeLinear output or a stored initializer)
//   T_dq  the DequantizeLinear output the consumers read (a graph output keeps T: the producer then
//         writes T_QuantizeLinear_Input, ONNX Runtime's naming)
//   T_scale, T_zp          the scale and zero point initializers
//   T_Q, T_DQ              the QuantizeLinear and DequantizeLinear nodes
// Short on purpose: on the bundled models the names were ~8% of an int8 file (ONNX Runtime's longer
// suffixes _quantized, _DequantizeLinear, ... cost 3–5 KB per model; bench/qdq_size_breakdown.py).
// Readers (QAT, the tests) use these constants, never the literals.
#pragma once

namespace qforge::quant {

inline constexpr const char* kQuantizedSuffix = "_q";
inline constexpr const char* kDequantizedSuffix = "_dq";
inline constexpr const char* kScaleSuffix = "_scale";
inline constexpr const char* kZeroPointSuffix = "_zp";
inline constexpr const char* kQuantizeNodeSuffix = "_Q";
inline constexpr const char* kDequantizeNodeSuffix = "_DQ";
inline constexpr const char* kGraphOutputSourceSuffix = "_QuantizeLinear_Input";

}  // namespace qforge::quant
