// The shape/data-movement family is split by concern; register_ops_shape (ops/shape.cpp) calls these.
#pragma once
#include <vector>

#include "runtime/op_registry.h"

namespace qforge::runtime {

void register_ops_shape_reshape(std::vector<OpDef>& ops);  // Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Identity, Dropout
void register_ops_shape_slice(std::vector<OpDef>& ops);    // Slice, Gather, Split, Concat
void register_ops_shape_const(std::vector<OpDef>& ops);    // Shape, Constant, ConstantOfShape, Range, Expand, Tile

// Copies input 0 into output 0 byte for byte (same element count), for ops that only change the shape.
void compute_copy_input(KernelCtx& k);
// Output 0 with input 0's dtype and the given dims; refuses element types the byte kernels cannot move.
TypeShape typed_like_input(const InferCtx& c, std::vector<ir::Dim> dims);

}  // namespace qforge::runtime
