// TensorProto ⇄ Tensor, shared by the ONNX importer and exporter. Import validates untrusted
// tensors: dims (negative, int64 overflow), payload length against elements × element size (sub-byte
// types rounded up), typed-field counts and value ranges, a memory budget checked before any
// allocation, and external data confined to the model's folder. Export writes raw_data
// (little-endian), which round-trips bit for bit.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "ir/graph.h"

namespace onnx {
class TensorProto;
}

namespace qforge::ir {

// Per-import state for reading tensors: names in messages, external data folder, byte budget.
struct TensorReadCtx {
  std::string file;      // model name for messages ("model.onnx")
  std::string base_dir;  // folder external data is resolved in; "" = external data refused
  uint64_t max_bytes = 0;
  uint64_t used_bytes = 0;
};

// Reads a tensor; `what` names it in messages ("initializer 'w'"). Throws InputError
// "<file>: <what>: <reason>".
Tensor tensor_from_proto(const onnx::TensorProto& p, TensorReadCtx& ctx, const std::string& what);
// Writes `t` as raw_data (dims, data_type, raw_data; `name` when not empty).
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p);

// The value of a Constant node (attributes value, value_float(s), value_int(s)); InputError naming
// the node for string or missing values.
Tensor constant_node_value(const Node& n);

// `s` with control characters replaced and long names cut, for one-line messages.
std::string printable(const std::string& s);
// A whole message with control characters (newlines in names read from a file) replaced.
std::string one_line(const std::string& msg);

}  // namespace qforge::ir
