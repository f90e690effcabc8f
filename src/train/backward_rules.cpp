#include "train/backward_rules.h"

namespace qforge::train {

namespace {
constexpr BackwardRule kRules[] = {
    {"Conv", backward_conv},
    {"Gemm", backward_gemm},
    {"MatMul", backward_matmul},
    {"Add", backward_add},
    {"Sub", backward_sub},
    {"Mul", backward_mul},
    {"Div", backward_div},
    {"Relu", backward_relu},
    {"Clip", backward_clip},
    {"HardSwish", backward_hardswish},
    {"Sigmoid", backward_sigmoid},
    {"Sqrt", backward_sqrt},
    {"MaxPool", backward_maxpool},
    {"AveragePool", backward_avgpool},
    {"GlobalAveragePool", backward_global_avgpool},
    {"Flatten", backward_reshape},
    {"Reshape", backward_reshape},
    {"Concat", backward_concat},
    {"BatchNormalization", backward_batch_norm},
    {"FakeQuant", backward_fake_quant, "qforge"},
};
}  // namespace

std::span<const BackwardRule> backward_rules() { return kRules; }

const BackwardRule* find_backward_rule(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = {};
  for (const auto& r : kRules)
    if (r.op_type == op_type && r.domain == domain) return &r;
  return nullptr;
}

}  // namespace qforge::train
