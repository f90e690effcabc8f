// The FP32 inference passes that optimize_for_inference runs, one file each. Each rewrites the
// graph in place, keeps every graph input, graph output and graph-output value name, and leaves
// initializers it copies from untouched (another node may share them): rewritten weights get new
// names. The qforge.* attributes and the qforge.MatMulBias op they create exist only inside a
// runtime::Session; the importer never produces them.
#pragma once
#include <string>

#include "ir/graph.h"

namespace qforge::ir {

// Conv → BatchNormalization (inference), where the Conv output feeds only the BN and W, B and the
// BN parameters are f32 initializers: W' = W · s, B' = (B − mean) · s + bias, s = scale / √(var + ε).
void fuse_conv_bn(Graph& graph);
// MatMul(X, W) → Add(·, b) with W a 2-D f32 initializer [K, N] and b a 1-D f32 initializer [N]:
// one qforge.MatMulBias(X, W, b).
void fuse_matmul_add(Graph& graph);
// Conv / Gemm / MatMul / qforge.MatMulBias → Relu | Clip (constant min ≤ max) | LeakyRelu, where the
// producer's output feeds only the activation: attribute qforge.activation = "Relu" | "Clip" |
// "LeakyRelu" (+ qforge.activation_min / _max / _alpha) on the producer.
void fuse_activation(Graph& graph);

// Helpers shared by the passes.
bool is_graph_output(const Graph& graph, const std::string& value);
// Number of node inputs (over all nodes) reading `value`.
int use_count(const Graph& graph, const std::string& value);
// `base`, or `base` with a numeric suffix, that names no initializer or value yet.
std::string unique_value_name(const Graph& graph, const std::string& base);
// Drops initializers that no node reads and that are not graph inputs or outputs.
void remove_unused_initializers(Graph& graph);

}  // namespace qforge::ir
