// The integer ops the QDQ lowering (runtime/lower/lower_qdq.h) puts into a graph, domain "qforge".
// Shared conventions (inputs are the lowering's canonical form, checked there against the model):
//  - a quantized value is a u8 or s8 tensor with a scalar f32 scale and a scalar zero point of the
//    same dtype, real = scale · (q − zero_point) (ONNX DequantizeLinear);
//  - an op's output dtype is its output zero point's dtype; attributes qforge.qmin / qforge.qmax
//    (default: the dtype's range) are the fused clamp of a Relu / Clip that was folded in.
// Ops:
//  qforge.QConv(x, x_scale, x_zp, w, w_scale, y_scale, y_zp [, bias])        qlinear_conv.cpp
//      Conv attributes; w s8 [M][C/G][k...] with zero point 0, w_scale f32 [M], bias s32 [M] at scale
//      x_scale · w_scale[m].
//  qforge.QGemm(a, a_scale, a_zp, b, b_scale, y_scale, y_zp [, bias])        qlinear_gemm.cpp
//      b s8 constant 2-D, [K][N] (transB 0) or [N][K] (transB 1), b_scale f32 [N], bias s32 [N];
//      a [..., K] (MatMul: leading dims are rows; Gemm lowers only with transA 0, alpha = beta = 1).
//  qforge.QLut(x, table)                                                       qlinear_misc.cpp
//      y[i] = table[x[i] as u8 index] (s8 x: x + 128); the table (256 entries, y's dtype) is
//      Q_out(f(DQ_in(v))) for every v, computed at lowering: an exact replacement of DQ → f → Q.
//  qforge.QAdd / qforge.QMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)  qlinear_misc.cpp
//      y = quantize(DQ(a) ∘ DQ(b)) with the float ops of the unlowered graph (numpy broadcasting),
//      tabulated over all 256 × 256 code pairs at prepare.
//  qforge.QAvgPool(x, x_scale, x_zp, y_scale, y_zp)                          qlinear_pool.cpp
//      AveragePool attributes, or qforge.global = 1 for GlobalAveragePool.
//  qforge.QMaxPool(x)                                                          qlinear_pool.cpp
//      MaxPool (attributes as MaxPool, no Indices output) on u8 / s8.
// Channels-last (lower/lower_layout.cpp): QConv, QAvgPool and QMaxPool with a rank-4 (2-D) x take
// the int attributes qforge.nhwc_in (x is [N,H,W,C]) and qforge.nhwc_out (y is [N,OH,OW,M]); the
// declared shape is the physical one. Every combination works: an op transposes internally where its
// kernel wants the other layout. QLut / QAdd / QMul are elementwise (QAdd / QMul broadcasting two
// rank-4 values commutes with permuting both the same way): they take no attribute.
#pragma once
#include <cstdint>
#include <vector>

#include "runtime/op_registry.h"

namespace qforge::runtime {

void register_ops_qlinear_conv(std::vector<OpDef>& ops);
void register_ops_qlinear_gemm(std::vector<OpDef>& ops);
void register_ops_qlinear_misc(std::vector<OpDef>& ops);
void register_ops_qlinear_pool(std::vector<OpDef>& ops);

bool is_q8(DType t);  // u8 or s8
// The one element of a scalar (numel 1) constant; InputError naming the node otherwise.
float q_scalar_f32(const ir::Node& node, const Tensor* t, const char* what);
int32_t q_scalar_zp(const ir::Node& node, const Tensor* t, const char* what);
// Fused clamp of the node (qforge.qmin / qforge.qmax within the type's range).
void q_clamp(const ir::Node& node, DType out, int32_t& qmin, int32_t& qmax);
// x as u8: itself, or (s8) x ^ 0x80 written to tmp; *zp is shifted the same way.
const uint8_t* q_as_u8(const Tensor& x, std::vector<uint8_t>& tmp, int32_t& zp, int threads);
// Input i's dtype must be u8 / s8 (InputError naming the node otherwise).
void require_q8(const InferCtx& c, size_t i, const char* what);

// ---- channels-last ----
bool q_nhwc_in(const ir::Node& node);   // qforge.nhwc_in
bool q_nhwc_out(const ir::Node& node);  // qforge.nhwc_out
// Dims [N,H,W,C] → [N,C,H,W] and back; unknown rank passes through, another rank than 4 is an
// InputError naming the node (`what`: the attribute).
TypeShape q_dims_nchw(const ir::Node& node, const TypeShape& nhwc, const char* what);
TypeShape q_dims_nhwc(const ir::Node& node, const TypeShape& nchw, const char* what);
Shape q_shape_nchw(const Shape& nhwc);  // precondition: rank 4
// Byte layout changes of n images, channels c, plane p: [n][c][p] → [n][p][c] and back.
void q_to_nhwc(const uint8_t* x, uint8_t* y, int64_t n, int64_t c, int64_t p, int threads);
void q_to_nchw(const uint8_t* x, uint8_t* y, int64_t n, int64_t c, int64_t p, int threads);

}  // namespace qforge::runtime
