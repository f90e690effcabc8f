#include "runtime/op_registry.h"

namespace qforge::runtime {

void register_ops_pool(std::vector<OpDef>& ops) { (void)ops; }

}  // namespace qforge::runtime
