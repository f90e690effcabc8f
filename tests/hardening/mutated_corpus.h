// The mutated-model corpus (issue 7): ≥ 200 hostile variants of valid models, generated
// deterministically (fixed seeds) into a folder: bit flips, truncations, byte-run damage,
// protobuf-level shape / type / attribute / opset edits, and external data pointing out of the
// model's folder or past the end of its file. Used by test_mutated_models.cpp, which runs
// `qforge inspect` and `qforge run` on every file.
#pragma once
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "small_models.h"

namespace qforge::hardening {

struct Original {
  std::string name;
  std::string bytes;
  std::vector<int64_t> input_shape;  // f32 input that makes the original run
};

struct Mutant {
  std::string file;      // path of the mutated model
  std::string original;  // name of the model it came from
  std::string kind;      // "bitflip", "truncate", "bytes", "edit:<what>", "external:<what>"
};

namespace mutate {

using Edit = std::function<void(onnx::ModelProto&)>;
using TP = onnx::TensorProto;
// 4-bit element types (onnx.proto TensorProto.DataType; newer than Debian's onnx headers).
constexpr int kUInt4 = 21, kInt4 = 22;

inline std::vector<std::pair<std::string, Edit>> proto_edits() {
  auto init0 = [](onnx::ModelProto& m) { return m.mutable_graph()->mutable_initializer(0); };
  auto node0 = [](onnx::ModelProto& m) { return m.mutable_graph()->mutable_node(0); };
  auto in_dims = [](onnx::ModelProto& m) {
    return m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  };
  // The attribute `name` of n, added when missing, cleared to hold one value of kind `type`.
  auto attr = [](onnx::NodeProto* n, const std::string& name, onnx::AttributeProto::AttributeType type) {
    onnx::AttributeProto* a = nullptr;
    for (auto& x : *n->mutable_attribute())
      if (x.name() == name) a = &x;
    if (!a) {
      a = n->add_attribute();
      a->set_name(name);
    }
    a->clear_ints();
    a->set_type(type);
    return a;
  };
  auto set_attr_ints = [=](onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = attr(n, name, onnx::AttributeProto::INTS);
    for (auto i : v) a->add_ints(i);
  };
  auto set_attr_int = [=](onnx::NodeProto* n, const std::string& name, int64_t v) {
    attr(n, name, onnx::AttributeProto::INT)->set_i(v);
  };
  std::vector<std::pair<std::string, Edit>> e;
  e.push_back({"init-dim-doubled", [=](auto& m) { auto* t = init0(m); t->set_dims(0, t->dims(0) * 2); }});
  e.push_back({"init-dim-negative", [=](auto& m) { init0(m)->set_dims(0, -3); }});
  e.push_back({"init-dim-zero", [=](auto& m) { init0(m)->set_dims(0, 0); }});
  e.push_back({"init-dim-2^40", [=](auto& m) { init0(m)->set_dims(0, int64_t{1} << 40); }});
  e.push_back({"init-dims-overflow", [=](auto& m) {
    auto* t = init0(m);
    t->clear_dims();
    t->add_dims(int64_t{1} << 32);
    t->add_dims(int64_t{1} << 32);
  }});
  e.push_back({"init-dims-10^12", [=](auto& m) {
    auto* t = init0(m);
    t->clear_dims();
    t->add_dims(1000000);
    t->add_dims(1000000);
  }});
  e.push_back({"init-extra-dim", [=](auto& m) { init0(m)->add_dims(1); }});
  e.push_back({"init-dims-cleared", [=](auto& m) { init0(m)->clear_dims(); }});
  for (int dt : std::initializer_list<int>{TP::INT64, TP::FLOAT16, kInt4, kUInt4, TP::STRING, TP::DOUBLE, TP::BOOL, 99, 0})
    e.push_back({"init-dtype-" + std::to_string(dt), [=](auto& m) { init0(m)->set_data_type(dt); }});
  e.push_back({"init-raw-short", [=](auto& m) {
    auto* t = init0(m);
    std::string r = t->raw_data();
    if (!r.empty()) r.pop_back();
    t->set_raw_data(r);
  }});
  e.push_back({"init-raw-long", [=](auto& m) { auto* t = init0(m); t->set_raw_data(t->raw_data() + "xyzw"); }});
  e.push_back({"init-raw-and-typed", [=](auto& m) { init0(m)->add_float_data(1.f); }});
  e.push_back({"init-typed-count", [=](auto& m) {
    auto* t = init0(m);
    t->clear_raw_data();
    for (int i = 0; i < 3; ++i) t->add_float_data(0.5f);
  }});
  e.push_back({"init-segment", [=](auto& m) { init0(m)->mutable_segment()->set_begin(1); }});
  e.push_back({"init-duplicate", [=](auto& m) { *m.mutable_graph()->add_initializer() = *init0(m); }});
  e.push_back({"init-name-empty", [=](auto& m) { init0(m)->set_name(""); }});
  e.push_back({"input-dim-2^40", [=](auto& m) {
    auto* s = in_dims(m);
    for (auto& d : *s->mutable_dim()) d.set_dim_value(int64_t{1} << 40);
  }});
  e.push_back({"input-dim-zero", [=](auto& m) { in_dims(m)->mutable_dim(in_dims(m)->dim_size() - 1)->set_dim_value(0); }});
  e.push_back({"input-dim-negative", [=](auto& m) { in_dims(m)->mutable_dim(in_dims(m)->dim_size() - 1)->set_dim_value(-7); }});
  e.push_back({"input-rank-plus-one", [=](auto& m) { in_dims(m)->add_dim()->set_dim_value(3); }});
  e.push_back({"input-rank-zero", [=](auto& m) { in_dims(m)->clear_dim(); }});
  e.push_back({"input-elem-int64", [=](auto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TP::INT64);
  }});
  e.push_back({"input-elem-unknown", [=](auto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(77);
  }});
  e.push_back({"input-sequence", [=](auto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_sequence_type();
  }});
  e.push_back({"node-op-unknown", [=](auto& m) { node0(m)->set_op_type("NoSuchOp"); }});
  e.push_back({"node-op-empty", [=](auto& m) { node0(m)->set_op_type(""); }});
  e.push_back({"node-op-swapped", [=](auto& m) {
    auto* g = m.mutable_graph();
    std::string a = g->node(0).op_type();
    g->mutable_node(0)->set_op_type(g->node(g->node_size() - 1).op_type());
    g->mutable_node(g->node_size() - 1)->set_op_type(a);
  }});
  e.push_back({"node-input-dropped", [=](auto& m) {
    auto* n = node0(m);
    n->mutable_input()->RemoveLast();
  }});
  e.push_back({"node-input-extra", [=](auto& m) { node0(m)->add_input(node0(m)->input(0)); }});
  e.push_back({"node-input-dangling", [=](auto& m) { node0(m)->set_input(0, "nowhere"); }});
  e.push_back({"node-output-renamed", [=](auto& m) { node0(m)->set_output(0, "renamed"); }});
  e.push_back({"node-cycle", [=](auto& m) {
    auto* g = m.mutable_graph();
    g->mutable_node(0)->set_input(0, g->node(g->node_size() - 1).output(0));
  }});
  e.push_back({"node-duplicate-output", [=](auto& m) {
    auto* g = m.mutable_graph();
    g->mutable_node(g->node_size() - 1)->set_output(0, g->node(0).output(0));
  }});
  e.push_back({"nodes-reversed", [=](auto& m) {
    auto* nodes = m.mutable_graph()->mutable_node();
    for (int i = 0, j = nodes->size() - 1; i < j; ++i, --j) nodes->SwapElements(i, j);
  }});
  e.push_back({"graph-output-cleared", [=](auto& m) { m.mutable_graph()->clear_output(); }});
  e.push_back({"graph-output-unknown", [=](auto& m) { m.mutable_graph()->mutable_output(0)->set_name("ghost"); }});
  e.push_back({"graph-nodes-cleared", [=](auto& m) { m.mutable_graph()->clear_node(); }});
  for (int64_t v : {1, 10, 22, 999, -1})
    e.push_back({"opset-" + std::to_string(v), [=](auto& m) { m.mutable_opset_import(0)->set_version(v); }});
  e.push_back({"opset-cleared", [=](auto& m) { m.clear_opset_import(); }});
  e.push_back({"opset-twice", [=](auto& m) { *m.add_opset_import() = m.opset_import(0); }});
  e.push_back({"ir-version-cleared", [=](auto& m) { m.clear_ir_version(); }});
  // Attributes on every node: broken geometry, axes out of range, wrong kinds.
  e.push_back({"attr-kernel-zero", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv" || n.op_type().find("Pool") != std::string::npos) set_attr_ints(&n, "kernel_shape", {0, 0}); }});
  e.push_back({"attr-kernel-huge", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv" || n.op_type().find("Pool") != std::string::npos) set_attr_ints(&n, "kernel_shape", {1 << 30, 1 << 30}); }});
  e.push_back({"attr-strides-zero", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv" || n.op_type().find("Pool") != std::string::npos) set_attr_ints(&n, "strides", {0, 0}); }});
  e.push_back({"attr-pads-negative", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv" || n.op_type().find("Pool") != std::string::npos) set_attr_ints(&n, "pads", {-5, -5, -5, -5}); }});
  e.push_back({"attr-pads-huge", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv" || n.op_type().find("Pool") != std::string::npos) set_attr_ints(&n, "pads", {int64_t{1} << 40, 0, 0, 0}); }});
  e.push_back({"attr-dilations-huge", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv") set_attr_ints(&n, "dilations", {int64_t{1} << 62, 1}); }});
  e.push_back({"attr-group-zero", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv") set_attr_int(&n, "group", 0); }});
  e.push_back({"attr-group-3", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Conv") set_attr_int(&n, "group", 3); }});
  e.push_back({"attr-axis-99", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) set_attr_int(&n, "axis", 99); }});
  e.push_back({"attr-axis-min", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) set_attr_int(&n, "axis", INT64_MIN); }});
  e.push_back({"attr-transB-7", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Gemm") set_attr_int(&n, "transB", 7); }});
  e.push_back({"attr-perm-bad", [=](auto& m) { for (auto& n : *m.mutable_graph()->mutable_node()) if (n.op_type() == "Transpose") set_attr_ints(&n, "perm", {0, 0, 9, -1}); }});
  e.push_back({"attr-wrong-kind", [=](auto& m) {
    for (auto& n : *m.mutable_graph()->mutable_node())
      for (auto& a : *n.mutable_attribute()) {
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(1e30f);
      }
  }});
  e.push_back({"attr-untyped-empty", [=](auto& m) {
    auto* a = node0(m)->add_attribute();
    a->set_name("empty");
  }});
  // Initializers that feed shapes (Reshape targets, Slice bounds, Resize scales) rewritten.
  e.push_back({"int64-inits-huge", [=](auto& m) {
    for (auto& t : *m.mutable_graph()->mutable_initializer())
      if (t.data_type() == TP::INT64)
        for (int i = 0; i < t.int64_data_size(); ++i) t.set_int64_data(i, INT64_MAX - i);
  }});
  e.push_back({"int64-inits-negative", [=](auto& m) {
    for (auto& t : *m.mutable_graph()->mutable_initializer())
      if (t.data_type() == TP::INT64)
        for (int i = 0; i < t.int64_data_size(); ++i) t.set_int64_data(i, INT64_MIN + i);
  }});
  e.push_back({"float-inits-nan", [=](auto& m) {
    for (auto& t : *m.mutable_graph()->mutable_initializer()) {
      for (int i = 0; i < t.float_data_size(); ++i) t.set_float_data(i, std::numeric_limits<float>::quiet_NaN());
      std::string r = t.raw_data();
      for (size_t i = 0; i + 4 <= r.size() && t.data_type() == TP::FLOAT; i += 4) r.replace(i, 4, "\x00\x00\xc0\x7f", 4);
      if (!r.empty()) t.set_raw_data(r);
    }
  }});
  return e;
}

// Moves initializer 0 to external data: `location` (bytes written to `bin` inside `dir` when not
// empty), with the given offset/length strings ("" = absent).
inline void to_external(onnx::ModelProto& m, const std::string& location, const std::string& offset,
                        const std::string& length) {
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->clear_raw_data();
  t->clear_float_data();
  t->set_data_location(TP::EXTERNAL);
  auto kv = [&](const std::string& k, const std::string& v) {
    if (v.empty() && k != "location") return;
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", location);
  kv("offset", offset);
  kv("length", length);
}

}  // namespace mutate

// Writes the corpus into `dir` (which must exist) and returns its files. Layout:
//   dir/outside.bin                 a file outside every model folder (the target of escapes)
//   dir/m/NNN_<kind>.onnx           the mutants; dir/m/ also holds w.bin (valid external data),
//                                   link_out.bin → ../outside.bin, up → .., a FIFO and a folder
inline std::vector<Mutant> write_mutated_corpus(const std::string& dir, const std::vector<Original>& originals) {
  namespace fs = std::filesystem;
  std::vector<Mutant> out;
  std::string mdir = dir + "/m";
  fs::create_directories(mdir + "/folder");
  auto write = [&](const std::string& original, const std::string& kind, const std::string& bytes) {
    std::string safe;
    for (char c : kind) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
    std::string path = mdir + "/" + std::to_string(out.size()) + "_" + original + "_" + safe + ".onnx";
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.push_back({path, original, kind});
  };
  std::mt19937_64 rng(20240607);
  const auto edits = mutate::proto_edits();
  for (size_t oi = 0; oi < originals.size(); ++oi) {
    const Original& o = originals[oi];
    const std::string& b = o.bytes;
    // Bit flips: half anywhere, half in the first 512 bytes (headers, names, dims).
    for (int k = 0; k < 8; ++k) {
      std::string s = b;
      int flips = 1 + static_cast<int>(rng() % 8);
      size_t span = k % 2 ? std::min<size_t>(512, s.size()) : s.size();
      for (int f = 0; f < flips; ++f) s[rng() % span] ^= static_cast<char>(1u << (rng() % 8));
      write(o.name, "bitflip", s);
    }
    // Truncations: tiny, random, one byte short.
    for (size_t cut : {size_t{1}, size_t{7}, b.size() / 2, b.size() - 5, b.size() - 1, static_cast<size_t>(rng() % b.size())})
      write(o.name, "truncate", b.substr(0, cut));
    // Byte runs: overwritten with 0xff, duplicated chunk, garbage inserted, varint max bytes.
    {
      std::string s = b;
      size_t at = rng() % s.size();
      for (size_t i = at; i < std::min(s.size(), at + 16); ++i) s[i] = '\xff';
      write(o.name, "bytes-ff", s);
      s = b;
      size_t c = rng() % (s.size() / 2);
      write(o.name, "bytes-dup", s.substr(0, c + 32) + s.substr(c));
      s = b;
      s.insert(rng() % s.size(), std::string("\x0a\xff\xff\xff\xff\x0f", 6));
      write(o.name, "bytes-huge-length", s);
      write(o.name, "bytes-appended", b + std::string("\x12\x05hello\x3a\x02", 9));
    }
    // Protobuf-level edits: edit e goes to 3 of every 5 originals (e, e + 1 and e + 3 mod 5), so each
    // edit meets several architectures while the corpus stays a few hundred files.
    onnx::ModelProto base;
    if (!base.ParseFromString(b)) continue;
    for (size_t e = 0; e < edits.size(); ++e) {
      const size_t r = (oi + 5 - e % 5) % 5;
      if (r != 0 && r != 1 && r != 3) continue;
      const auto& [what, edit] = edits[e];
      onnx::ModelProto m = base;
      edit(m);
      write(o.name, "edit-" + what, m.SerializeAsString());
    }
  }
  // Hostile external data, on the first original (its initializer 0).
  {
    std::ofstream(dir + "/outside.bin", std::ios::binary) << std::string(1 << 16, 'S');
    // w.bin: 512 zero bytes, exactly what the first original's initializer 0 (f32 [16, 8]) needs.
    std::ofstream(mdir + "/w.bin", std::ios::binary) << std::string(512, '\0');
    fs::create_symlink("../outside.bin", mdir + "/link_out.bin");
    fs::create_directory_symlink("..", mdir + "/up");
    ::mkfifo((mdir + "/fifo.bin").c_str(), 0600);
    onnx::ModelProto base;
    base.ParseFromString(originals.front().bytes);
    const std::vector<std::vector<std::string>> cases = {
        {"valid", "w.bin", "", ""},  // the control: the same model with sound external data loads
        {"absolute", dir + "/outside.bin", "", ""},
        {"etc-passwd", "/etc/passwd", "", ""},
        {"dotdot", "../outside.bin", "", ""},
        {"inner-dotdot", "folder/../../outside.bin", "", ""},
        {"symlink-out", "link_out.bin", "", ""},
        {"dir-symlink-out", "up/outside.bin", "", ""},
        {"missing", "nothere.bin", "", ""},
        {"empty-location", "", "", ""},
        {"a-folder", "folder", "", ""},
        {"a-fifo", "fifo.bin", "", ""},
        {"dev-zero", "/dev/zero", "", ""},
        {"offset-past-end", "w.bin", "60", ""},
        {"offset-max", "w.bin", "18446744073709551615", ""},
        {"offset-negative", "w.bin", "-8", ""},
        {"offset-text", "w.bin", "12abc", ""},
        {"length-short", "w.bin", "0", "4"},
        {"length-huge", "w.bin", "0", "18446744073709551615"},
        {"nul-in-location", std::string("w.bin\0/../../outside.bin", 25), "", ""},
    };
    for (const auto& c : cases) {
      onnx::ModelProto m = base;
      mutate::to_external(m, c[1], c[2], c[3]);
      write(originals.front().name, "external-" + c[0], m.SerializeAsString());
    }
  }
  return out;
}

}  // namespace qforge::hardening
