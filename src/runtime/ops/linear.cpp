// Linear-algebra ops, split by kernel family: ops/conv.cpp (Conv, ConvTranspose) and ops/gemm.cpp
// (Gemm, MatMul, qforge.MatMulBias).
#include "runtime/op_registry.h"

namespace qforge::runtime {

void register_ops_conv(std::vector<OpDef>& ops);
void register_ops_gemm(std::vector<OpDef>& ops);

void register_ops_linear(std::vector<OpDef>& ops) {
  register_ops_conv(ops);
  register_ops_gemm(ops);
}

}  // namespace qforge::runtime
