// Untrusted model bytes: every malformed input must end in one InputError whose one-line message
// names the file — never a crash, another exception type, or an allocation sized by the file.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/file_io.h"
#include "onnx_test_util.h"

namespace qforge {
namespace {

using namespace qforge::test;
using TP = onnx::TensorProto;

void expect_named_one_line(const std::string& msg, const std::string& file = "model.onnx") {
  EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

onnx::ModelProto small_model() {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {"N", 4});
  add_f32_init(g, "w", {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  add_raw_init(g, "b", TP::FLOAT, {2}, std::string(8, '\0'));
  add_node(g, "MatMul", {"x", "w"}, {"t"}, "mm");
  add_node(g, "Add", {"t", "b"}, {"y"}, "add");
  add_output(g, "y", TP::FLOAT, {"N", 2});
  auto* kv = m.add_metadata_props();
  kv->set_key("k");
  kv->set_value("v");
  return m;
}

ir::Model parse_bytes(const std::string& bytes, const ir::ImportOptions& opts = {}) {
  return ir::parse_onnx(bytes, "model.onnx", "", opts);
}

TEST(OnnxBadInput, TruncatedModel) {
  std::string bytes = bytes_of(small_model());
  ASSERT_NO_THROW(parse_bytes(bytes));
  for (size_t cut : {size_t{1}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(cut);
    expect_named_one_line(input_error([&] { parse_bytes(bytes.substr(0, cut)); }));
  }
  // Every prefix: a clean InputError or (cut at a field boundary) a valid smaller model.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    try {
      parse_bytes(bytes.substr(0, cut));
    } catch (const InputError& e) {
      expect_named_one_line(e.what());
    }
  }
}

TEST(OnnxBadInput, RandomBytes) {
  EXPECT_EQ(input_error([&] { parse_bytes("\xff\xff\xff\xff"); }),
            "model.onnx: not a valid ONNX model (protobuf parse failed)");
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(1 + rng() % 3000, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    expect_named_one_line(input_error([&] { parse_bytes(bytes); }));
  }
}

TEST(OnnxBadInput, RandomBitFlipsInAValidModel) {
  std::string good = bytes_of(small_model());
  std::mt19937 rng(99);
  for (int trial = 0; trial < 500; ++trial) {
    std::string bytes = good;
    bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8));
    try {
      parse_bytes(bytes);
    } catch (const InputError& e) {
      expect_named_one_line(e.what());
    }
  }
}

onnx::ModelProto model_with_init(const std::function<void(TP*)>& fill) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  auto* t = g->add_initializer();
  t->set_name("w");
  fill(t);
  g->add_output()->set_name("w");
  return m;
}

TEST(OnnxBadInput, RawDataLengthMismatch) {
  auto m = model_with_init([](TP* t) { fill_raw(t, "", TP::FLOAT, {2, 3}, std::string(12, '\0')); });
  EXPECT_EQ(input_error([&] { parse(m); }), "model.onnx: initializer 'w': raw_data has 12 bytes, dims [2,3] need 24");
  auto m4 = model_with_init([](TP* t) { fill_raw(t, "", 22, {3}, std::string(1, '\0')); });  // s4 x3 needs 2
  EXPECT_EQ(input_error([&] { parse(m4); }), "model.onnx: initializer 'w': raw_data has 1 bytes, dims [3] need 2");
}

TEST(OnnxBadInput, TypedCountMismatch) {
  auto m = model_with_init([](TP* t) {
    t->set_data_type(TP::FLOAT);
    t->add_dims(3);
    t->add_float_data(1);
  });
  EXPECT_EQ(input_error([&] { parse(m); }), "model.onnx: initializer 'w': float_data has 1 values, dims [3] need 3");
  auto wrong_field = model_with_init([](TP* t) {
    t->set_data_type(TP::INT64);
    t->add_dims(1);
    t->add_int32_data(1);
  });
  expect_named_one_line(input_error([&] { parse(wrong_field); }));
}

TEST(OnnxBadInput, DimsOverflowInt64) {
  auto m = model_with_init([](TP* t) { fill_raw(t, "", TP::FLOAT, {int64_t{1} << 62, 4}, ""); });
  std::string e = input_error([&] { parse(m); });
  expect_named_one_line(e);
  EXPECT_NE(e.find("overflows int64"), std::string::npos) << e;
}

TEST(OnnxBadInput, NegativeDims) {
  auto m = model_with_init([](TP* t) { fill_raw(t, "", TP::FLOAT, {-1, 3}, ""); });
  std::string e = input_error([&] { parse(m); });
  expect_named_one_line(e);
  EXPECT_NE(e.find("negative dimension -1"), std::string::npos) << e;

  // A negative dim_value in a graph input's type is read as "dynamic", as ONNX Runtime does.
  auto vi = small_model();
  vi.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(-1);
  EXPECT_EQ(parse(vi).graph.inputs[0].dims[1], ir::Dim{});
}

TEST(OnnxBadInput, HugeDeclaredTensorsRefusedBeforeAllocation) {
  // 10^12 f32 elements: 4 TB, refused whatever the data fields say.
  auto typed = model_with_init([](TP* t) {
    t->set_data_type(TP::FLOAT);
    t->add_dims(1000000);
    t->add_dims(1000000);
    t->add_float_data(1);
  });
  expect_named_one_line(input_error([&] { parse(typed); }));
  auto raw = model_with_init([](TP* t) { fill_raw(t, "", TP::FLOAT, {1000000, 1000000}, "abcd"); });
  expect_named_one_line(input_error([&] { parse(raw); }));
  // External data is read into a buffer of the declared size: the budget refuses it first.
  TempDir dir;
  auto ext = model_with_init([](TP* t) {
    t->set_data_type(TP::FLOAT);
    t->add_dims(1000000);
    t->add_dims(1000000);
    t->set_data_location(TP::EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value("w.bin");
  });
  std::string e = input_error([&] { parse(ext, dir.path()); });
  expect_named_one_line(e);
  EXPECT_NE(e.find("exceed the limit of 17179869184 bytes"), std::string::npos) << e;
}

TEST(OnnxBadInput, TensorByteBudgetCountsAllTensors) {
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_raw_init(g, "a", TP::FLOAT, {16}, std::string(64, '\0'));
  add_raw_init(g, "b", TP::FLOAT, {16}, std::string(64, '\0'));
  g->add_output()->set_name("a");
  ir::ImportOptions opts;
  opts.max_tensor_bytes = 100;
  std::string e = input_error([&] { parse(m, "", opts); });
  EXPECT_EQ(e.rfind("model.onnx: initializer 'b': ", 0), 0u) << e;
  opts.max_tensor_bytes = 128;
  EXPECT_NO_THROW(parse(m, "", opts));
}

TEST(OnnxBadInput, UnknownAndStringDataTypes) {
  auto m = model_with_init([](TP* t) { fill_raw(t, "", 99, {1}, "x"); });
  EXPECT_EQ(input_error([&] { parse(m); }), "model.onnx: initializer 'w': unknown data_type 99");
  auto s = model_with_init([](TP* t) {
    t->set_data_type(TP::STRING);
    t->add_dims(1);
    t->add_string_data("hi");
  });
  EXPECT_EQ(input_error([&] { parse(s); }), "model.onnx: initializer 'w': string tensors are not supported");
}

TEST(OnnxBadInput, StructuralErrors) {
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(8);
  EXPECT_EQ(input_error([&] { parse(no_graph); }), "model.onnx: not an ONNX model (no graph)");
  EXPECT_EQ(input_error([&] { parse_bytes(""); }), "model.onnx: not an ONNX model (no ir_version)");

  auto cycle = make_model(13);
  add_node(cycle.mutable_graph(), "Relu", {"b"}, {"a"}, "r1");
  add_node(cycle.mutable_graph(), "Relu", {"a"}, {"b"}, "r2");
  std::string e = input_error([&] { parse(cycle); });
  expect_named_one_line(e);
  EXPECT_NE(e.find("cycle"), std::string::npos) << e;

  auto dangling = make_model(13);
  add_node(dangling.mutable_graph(), "Relu", {"no\nwhere"}, {"a"}, "r");
  EXPECT_EQ(input_error([&] { parse(dangling); }),
            "model.onnx: node 'r' (Relu): input 'no?where' is not produced by any node, initializer or graph input");

  auto twice = make_model(13);
  add_input(twice.mutable_graph(), "x", TP::FLOAT, {1});
  add_node(twice.mutable_graph(), "Relu", {"x"}, {"a"}, "r1");
  add_node(twice.mutable_graph(), "Neg", {"x"}, {"a"}, "r2");
  EXPECT_EQ(input_error([&] { parse(twice); }),
            "model.onnx: failed to import node 'r2' (Neg): output 'a' is already defined elsewhere in the graph");

  auto no_out = make_model(13);
  add_output(no_out.mutable_graph(), "y", TP::FLOAT, {1});
  EXPECT_EQ(input_error([&] { parse(no_out); }), "model.onnx: graph output 'y' is not produced by any node");

  auto seq = make_model(13);
  auto* in = seq.mutable_graph()->add_input();
  in->set_name("s");
  in->mutable_type()->mutable_sequence_type();
  expect_named_one_line(input_error([&] { parse(seq); }));

  auto newline = model_with_init([](TP* t) { fill_raw(t, "", TP::FLOAT, {2}, "x"); });
  newline.mutable_graph()->mutable_initializer(0)->set_name("bad\nname");
  expect_named_one_line(input_error([&] { parse(newline); }));
}

onnx::ModelProto nested_ifs(int depth) {
  auto m = make_model(13);
  onnx::GraphProto* g = m.mutable_graph();
  for (int d = 0; d < depth; ++d) {
    auto* n = add_node(g, "If", {}, {}, "if" + std::to_string(d));
    g = add_attr(n, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  }
  return m;
}

TEST(OnnxBadInput, DeeplyNestedSubgraphs) {
  EXPECT_NO_THROW(parse(nested_ifs(32)));
  EXPECT_EQ(input_error([&] { parse(nested_ifs(33)); }), "model.onnx: subgraphs nested deeper than 32 levels");
  // Deeper still: protobuf's own recursion limit stops the parse.
  EXPECT_EQ(input_error([&] { parse(nested_ifs(200)); }), "model.onnx: not a valid ONNX model (protobuf parse failed)");
}

// ---- external data confinement ----

struct ExternalFixture {
  TempDir dir;
  std::string model_dir;
  ExternalFixture() {
    model_dir = dir.path("model");
    std::filesystem::create_directories(model_dir);
    std::ofstream(dir.path("secret.bin"), std::ios::binary) << std::string(8, 'S');
    std::ofstream(model_dir + "/w.bin", std::ios::binary) << std::string(8, 'W');
  }
  // Writes model.onnx with one f32[2] initializer stored at `location` and loads it.
  std::string load_error(const std::string& location, const std::string& offset = "0",
                         const std::string& length = "8") {
    auto m = model_with_init([&](TP* t) {
      t->set_data_type(TP::FLOAT);
      t->add_dims(2);
      t->set_data_location(TP::EXTERNAL);
      const std::vector<std::pair<std::string, std::string>> kv = {
          {"location", location}, {"offset", offset}, {"length", length}};
      for (const auto& [k, v] : kv) {
        auto* e = t->add_external_data();
        e->set_key(k);
        e->set_value(v);
      }
    });
    std::string path = model_dir + "/model.onnx";
    write_file_atomic(path, bytes_of(m));
    std::string e = input_error([&] { ir::load_onnx(path); });
    expect_named_one_line(e, path);
    return e;
  }
};

TEST(OnnxBadInputExternal, AbsolutePath) {
  ExternalFixture f;
  std::string e = f.load_error(f.dir.path("secret.bin"));
  EXPECT_NE(e.find("is an absolute path"), std::string::npos) << e;
}

TEST(OnnxBadInputExternal, DotDotComponent) {
  ExternalFixture f;
  EXPECT_NE(f.load_error("../secret.bin").find("contains '..'"), std::string::npos);
  EXPECT_NE(f.load_error("sub/../../secret.bin").find("contains '..'"), std::string::npos);
}

TEST(OnnxBadInputExternal, SymlinkEscapingTheFolder) {
  ExternalFixture f;
  std::filesystem::create_symlink(f.dir.path("secret.bin"), f.model_dir + "/link.bin");
  std::filesystem::create_directory_symlink(f.dir.path(), f.model_dir + "/up");
  EXPECT_NE(f.load_error("link.bin").find("resolves outside the model's folder"), std::string::npos);
  EXPECT_NE(f.load_error("up/secret.bin").find("resolves outside the model's folder"), std::string::npos);
}

TEST(OnnxBadInputExternal, MissingFile) {
  ExternalFixture f;
  std::string e = f.load_error("nothere.bin");
  EXPECT_NE(e.find("cannot open external data file 'nothere.bin'"), std::string::npos) << e;
}

TEST(OnnxBadInputExternal, PastTheEnd) {
  ExternalFixture f;
  std::string e = f.load_error("w.bin", "4", "8");
  EXPECT_NE(e.find("offset 4 + length 8 is past the end of 'w.bin' (8 bytes)"), std::string::npos) << e;
  e = f.load_error("w.bin", "18446744073709551615", "8");
  EXPECT_NE(e.find("past the end"), std::string::npos) << e;
}

TEST(OnnxBadInputExternal, LengthDisagreesWithDims) {
  ExternalFixture f;
  std::string e = f.load_error("w.bin", "0", "4");
  EXPECT_NE(e.find("external data length is 4 bytes, dims [2] need 8"), std::string::npos) << e;
  EXPECT_NE(f.load_error("w.bin", "-1").find("offset '-1' is not a non-negative integer"), std::string::npos);
}

TEST(OnnxBadInputExternal, NotAllowedWithoutModelFolder) {
  auto m = model_with_init([](TP* t) {
    t->set_data_type(TP::FLOAT);
    t->add_dims(2);
    t->set_data_location(TP::EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value("w.bin");
  });
  EXPECT_EQ(input_error([&] { parse(m, ""); }),
            "model.onnx: initializer 'w': external data is not allowed here (no model folder)");
}

}  // namespace
}  // namespace qforge
