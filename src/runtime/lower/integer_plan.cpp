#include "runtime/lower/integer_plan.h"

#include <algorithm>

#include "core/error.h"
#include "runtime/lower/lower_dynamic.h"
#include "runtime/lower/lower_weight_only.h"

namespace qforge::runtime {

IntegerPlan integer_plan(const ir::Model& model) {
  IntegerPlan p;
  ir::Graph g = model.graph;
  p.quantized = has_qdq(g) || std::any_of(g.nodes.begin(), g.nodes.end(), [](const ir::Node& n) {
                  return n.op_type == "DynamicQuantizeLinear" || n.op_type == "MatMulInteger";
                });
  if (!p.quantized) return p;
  try {
    const LoweringResult r = lower_qdq(g);
    p.integer_nodes = r.lowered + lower_dynamic(g) + lower_weight_only(g);
    p.fallbacks = r.fallbacks;
  } catch (const InputError& e) {
    p.error = e.what();
  }
  return p;
}

}  // namespace qforge::runtime
