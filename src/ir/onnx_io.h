// ONNX protobuf ⇄ ir::Model. Import validates untrusted bytes (sizes, dims, data lengths, external
// data confined to the model's folder) and maps every supported opset (11–21) onto the opset-free IR;
// export writes a chosen opset. Errors are InputError naming the file and, where relevant, the
// node or tensor: "model.onnx: initializer 'w': raw_data has 12 bytes, dims [2,3] need 24".
#pragma once
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace qforge::ir {

struct ImportOptions {
  // Refuse a model whose tensors together would need more than this many bytes in memory.
  uint64_t max_tensor_bytes = uint64_t{16} << 30;
};

// Reads and imports `path`; external data is resolved relative to the model's folder.
Model load_onnx(const std::string& path, const ImportOptions& opts = {});
// Imports serialized bytes; `name` is used in messages, `base_dir` resolves external data ("" = none allowed).
Model parse_onnx(std::string_view bytes, const std::string& name, const std::string& base_dir,
                 const ImportOptions& opts = {});

struct ExportOptions {
  int64_t opset = 0;  // default-domain opset to write; 0 = the model's own; 11–21
};

// Serialized ModelProto (all tensors inline). Deterministic: the same model gives the same bytes.
std::string serialize_onnx(const Model& model, const ExportOptions& opts = {});
// serialize_onnx + write_model_file (ir/model_files.h: read back and imported before the rename);
// refuses to overwrite `input_path` or an external-data file it references, when given.
void save_onnx(const Model& model, const std::string& path, const ExportOptions& opts = {},
               const std::string& input_path = {});

}  // namespace qforge::ir
