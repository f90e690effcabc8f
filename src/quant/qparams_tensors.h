// QParams ↔ the scale / zero_point inputs and axis / block_size attributes of ONNX QuantizeLinear and
// DequantizeLinear (opset 21 layout): a scalar scale is per tensor; with block_size 0 a 1-D scale of
// length dim[axis] is per axis; with block_size B > 0 the scale has x's shape with dim[axis] replaced
// by ceil(dim[axis] / B) (= QParams per group). zero_point has the scale's shape and the quantized dtype.
#pragma once
#include <string>

#include "core/tensor.h"
#include "quant/qparams.h"

namespace qforge::quant {

struct QParamTensors {
  Tensor scale;       // f32, QParams::scale_shape(x)
  Tensor zero_point;  // p.format (4-bit packed); empty for nf4
  int64_t axis = 1;   // ONNX default when per tensor
  int64_t block_size = 0;
};

// Precondition: p fits x (integer format or nf4).
QParamTensors qparams_to_tensors(const QParams& p, const Shape& x);

// Parameters read from a model, for a tensor of shape x quantized to `format`. zero_point may be null
// (all zeros). axis may be negative (ONNX). Every problem (dtype, shape, count, non-positive or
// non-finite scale, zero point out of range) is an InputError naming `name`. The result has
// symmetric = reduced_range = false, so quantize() saturates to the full storage range like ONNX.
QParams qparams_from_tensors(DType format, const Tensor& scale, const Tensor* zero_point, int64_t axis,
                             int64_t block_size, const Shape& x, const std::string& name);

}  // namespace qforge::quant
