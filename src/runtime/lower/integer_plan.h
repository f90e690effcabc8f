// What the integer runtime makes of a model, without running it: the lowerings a Session applies
// (lower_qdq.h, lower_dynamic.h, lower_weight_only.h) on a copy of the graph, the integer nodes they
// create and the nodes left in float with their reasons. For inspect and analyze (bench reads the
// same from its Session).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/lower/lower_qdq.h"

namespace qforge::runtime {

struct IntegerPlan {
  bool quantized = false;      // the model has QDQ nodes or a dynamic / weight-only quantized form
  int integer_nodes = 0;       // qforge integer nodes a Session would run
  std::vector<LoweringFallback> fallbacks;
  std::string error;           // the InputError a Session would raise at load ("" when none)
};

IntegerPlan integer_plan(const ir::Model& model);

}  // namespace qforge::runtime
