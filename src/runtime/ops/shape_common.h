// Helpers shared by the data-movement, reduction, normalisation and resize ops: reading small integer
// inputs (axes, shapes, pads) when their values are known, products of possibly symbolic dims, and
// the element size of byte-copying kernels.
#pragma once
#include <optional>
#include <vector>

#include "runtime/ops/infer_util.h"

namespace qforge::runtime {

// Input i as int64 values when it is present and its value is known; nullopt otherwise.
// InputError (naming the node) when the value is not an integer tensor.
std::optional<std::vector<int64_t>> known_ints(const InferCtx& c, size_t i, const char* what);
// Input i of a kernel as int64 values (must be an integer tensor).
std::vector<int64_t> kernel_ints(const KernelCtx& k, size_t i, const char* what);
// Bytes per element for ops that move whole elements; sub-byte and string dtypes are refused.
size_t element_bytes(const ir::Node& node, DType t);
// Product of dims: known when all are known; a single symbol times known 1s keeps the symbol;
// unknown otherwise.
ir::Dim dim_product(const std::vector<ir::Dim>& dims, size_t begin, size_t end);
// Normalises a list of axes against rank; duplicates are an InputError.
std::vector<int> normalize_axes(const ir::Node& node, const std::vector<int64_t>& axes, int rank);
// Requires dtype to be one of the listed ones.
void require_dtype(const ir::Node& node, DType t, std::initializer_list<DType> allowed, const char* what);
// A TypeShape of the given rank with all dims unknown.
TypeShape unknown_dims(DType t, int rank);
// Row-major strides in elements.
std::vector<int64_t> row_major_strides(const Shape& shape);

}  // namespace qforge::runtime
