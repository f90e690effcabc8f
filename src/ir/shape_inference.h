// Static shape and type inference over the whole graph with qforge's own per-op rules (the InferFn
// of each OpDef), keeping symbolic dims (a batch "N") symbolic. Fills graph.value_info for every
// intermediate value and completes graph outputs. Values computable from constants (Shape of a
// known shape, initializer-only subgraphs) are propagated so Reshape targets resolve.
#pragma once
#include "ir/graph.h"

namespace qforge::ir {

// Throws InputError naming the node on an unsupported op or incompatible shapes.
void infer_shapes(Model& model);

}  // namespace qforge::ir
