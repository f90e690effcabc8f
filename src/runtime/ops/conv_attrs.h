// Window attributes shared by Conv, ConvTranspose and the pools (kernel_shape, strides, dilations,
// pads, auto_pad, ceil_mode, output_padding, output_shape): reading, validation, and the output
// size of each spatial axis by the ONNX formulas. Also the qforge.activation* attributes that the
// fuse_activation pass puts on Conv / Gemm / MatMul nodes.
#pragma once
#include <string>
#include <vector>

#include "runtime/kernels/fused_activation.h"
#include "runtime/op_registry.h"

namespace qforge::runtime {

enum class AutoPad { notset, same_upper, same_lower, valid };

struct WindowAttrs {
  int nd = 0;  // spatial rank
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: [begin..., end...]
  AutoPad auto_pad = AutoPad::notset;
  bool ceil_mode = false;
};

// Reads the attributes for `nd` spatial axes. kernel_from_w: the weight's spatial dims (-1 where
// unknown) for Conv / ConvTranspose; empty for pools, which require kernel_shape.
WindowAttrs read_window_attrs(const ir::Node& node, int nd, const std::vector<int64_t>& kernel_from_w);

struct AxisWindow {
  int64_t out = 0, pad_begin = 0, pad_end = 0;
};
// Conv (ceil_mode false) and pools: output size and the pads actually applied on axis i.
AxisWindow conv_axis(const ir::Node& node, const WindowAttrs& a, int i, int64_t in);
// ConvTranspose: honours output_padding and output_shape (pads may come out negative, which
// crops / extends the output as the spec's formula says).
AxisWindow conv_transpose_axis(const ir::Node& node, const WindowAttrs& a, int i, int64_t in);

// The activation fused into this node by ir::fuse_activation, or none.
FusedActivation fused_activation_of(const ir::Node& node);

}  // namespace qforge::runtime
