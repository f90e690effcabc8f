// Graph passes: each takes a graph and rewrites it in place, keeping its outputs' values (within float
// rounding). One file per pass, named like its function (STYLE §2).
#pragma once
#include "ir/graph.h"

namespace qforge::ir {

// The FP32 inference pipeline the runtime applies before planning (BatchNorm folding into Conv,
// activation fusion into the producing kernel, ...). Does not change graph inputs or outputs.
void optimize_for_inference(Graph& graph);

}  // namespace qforge::ir
