#include "ir/model_files.h"

#include <algorithm>
#include <climits>
#include <filesystem>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include "core/error.h"
#include "core/file_io.h"
#include "ir/onnx_io.h"

namespace qforge::ir {
namespace {

void add_external(const onnx::TensorProto& t, const std::filesystem::path& dir, std::vector<std::string>& out) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  for (const auto& kv : t.external_data())
    if (kv.key() == "location" && !kv.value().empty()) out.push_back((dir / kv.value()).string());
}

void collect(const onnx::GraphProto& g, const std::filesystem::path& dir, std::vector<std::string>& out) {
  for (const auto& t : g.initializer()) add_external(t, dir, out);
  for (const auto& s : g.sparse_initializer()) {
    add_external(s.values(), dir, out);
    add_external(s.indices(), dir, out);
  }
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_t()) add_external(a.t(), dir, out);
      for (const auto& t : a.tensors()) add_external(t, dir, out);
      if (a.has_g()) collect(a.g(), dir, out);
      for (const auto& sub : a.graphs()) collect(sub, dir, out);
    }
}

}  // namespace

std::vector<std::string> model_files(const std::string& model_path) {
  std::vector<std::string> files{model_path};
  std::string bytes;
  try {
    bytes = read_file(model_path, static_cast<size_t>(INT_MAX));
  } catch (const InputError&) {
    return files;
  }
  onnx::ModelProto mp;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetTotalBytesLimit(INT_MAX);
  if (!mp.ParseFromCodedStream(&in)) return files;
  collect(mp.graph(), std::filesystem::path(model_path).parent_path(), files);
  std::sort(files.begin() + 1, files.end());
  files.erase(std::unique(files.begin() + 1, files.end()), files.end());
  return files;
}

void write_model_file(const std::string& path, std::string_view bytes, const std::vector<std::string>& inputs) {
  write_file_atomic(path, bytes, inputs, [&](const std::string& tmp) {
    const std::string back = read_file(tmp, static_cast<size_t>(INT_MAX));
    if (back != bytes) fail_input("{}: the written file reads back different from what was written", path);
    try {
      parse_onnx(back, path, "");
    } catch (const InputError& e) {
      fail_input("{}: the written model does not read back: {}", path, e.what());
    }
  });
}

}  // namespace qforge::ir
