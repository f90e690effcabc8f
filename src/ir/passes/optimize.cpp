#include "ir/passes/passes.h"

namespace qforge::ir {

void optimize_for_inference(Graph& graph) { (void)graph; }

}  // namespace qforge::ir
