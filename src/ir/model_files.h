// Model files on disk as inputs and outputs (issue 7, output safety). An input model is the .onnx file
// plus every external-data file its tensors reference; an output must replace none of them (compared
// by file identity, so hard links and symlinks count). A model is written to a temporary file in the
// target folder, fsynced, read back and imported, and only then renamed into place: a model qforge
// cannot read back never lands at the target.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qforge::ir {

// The model file and the external-data files its tensors reference (initializers, Constant values,
// subgraphs), each once, as paths relative to the model's folder joined onto it. Call it on a model
// that load_onnx accepted; a file it cannot parse gives just {model_path}.
std::vector<std::string> model_files(const std::string& model_path);

// write_file_atomic(path, bytes, inputs) whose temporary file is read back and imported (parse_onnx,
// all tensors inline as serialize_onnx writes them) before the rename; InputError when it does not
// read back, with nothing left at `path`.
void write_model_file(const std::string& path, std::string_view bytes, const std::vector<std::string>& inputs);

}  // namespace qforge::ir
