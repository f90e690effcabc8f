// Model-file invariants (issue 7, Build 3), one test each, on hand-built ModelProtos whose expected
// outcome follows from the ONNX spec (dims, element sizes, 4-bit packing two per byte rounded up,
// protobuf's 2 GiB limit) — never from running the importer first.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "../ir/onnx_test_util.h"
#include "core/file_io.h"
#include "ir/shape_inference.h"
#include "runtime/session.h"

namespace qforge {
namespace {

using namespace qforge::test;
using TP = onnx::TensorProto;
// 4-bit element types (onnx.proto TensorProto.DataType; newer than Debian's onnx headers).
constexpr int kUInt4 = 21, kInt4 = 22;

onnx::ModelProto with_init(int dtype, std::vector<int64_t> dims, const std::string& raw) {
  auto m = make_model(21);
  auto* g = m.mutable_graph();
  add_raw_init(g, "w", dtype, std::move(dims), raw);
  g->add_output()->set_name("w");
  return m;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- 1. dims: int64 products checked ----

TEST(HardeningModelInvariants, DimProductsAreCheckedInInt64) {
  // 2^32 · 2^32 = 2^64 and 3037000500² ≈ 9.22e18 both exceed INT64_MAX (9223372036854775807).
  for (std::vector<int64_t> dims : {std::vector<int64_t>{int64_t{1} << 32, int64_t{1} << 32},
                                    std::vector<int64_t>{3037000500, 3037000500},
                                    std::vector<int64_t>{2, 2, int64_t{1} << 62}}) {
    std::string e = input_error([&] { parse(with_init(TP::FLOAT, dims, "")); });
    EXPECT_TRUE(contains(e, "overflows int64")) << e;
  }
  // 3037000499² = 9223372030926249001 fits int64: counted exactly, then refused for its length.
  std::string e = input_error([&] { parse(with_init(TP::UINT8, {3037000499, 3037000499}, "")); });
  EXPECT_TRUE(contains(e, "need 9223372030926249001")) << e;
}

TEST(HardeningModelInvariants, HugeDeclaredGraphDimsDoNotOverflowShapeInference) {
  // Graph-input dims are declarations, not allocations: 2^40 x 2^40 imports; whatever shape
  // inference makes of the product (2^80), it must be an InputError or a result, never UB.
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "x", TP::FLOAT, {int64_t{1} << 40, int64_t{1} << 40});
  auto* f = add_node(g, "Flatten", {"x"}, {"y"}, "flat");
  attr_i(f, "axis", 2);
  g->add_output()->set_name("y");
  ir::Model model = parse(m);
  try {
    ir::infer_shapes(model);
  } catch (const InputError&) {
  }
}

// ---- 2. payload bytes == elements × element size, sub-byte types rounded up ----

TEST(HardeningModelInvariants, PayloadLengthMatchesElementsTimesSize) {
  struct Case {
    int dtype;
    std::vector<int64_t> dims;
    size_t need;  // bytes by the spec
  };
  const Case cases[] = {
      {TP::FLOAT, {2, 3}, 24}, {TP::DOUBLE, {3}, 24}, {TP::FLOAT16, {5}, 10}, {TP::INT64, {2}, 16},
      {TP::UINT8, {7}, 7},     {TP::BOOL, {3}, 3},    {kInt4, {3}, 2},     {kUInt4, {4}, 2},
      {kInt4, {1}, 1},      {kUInt4, {2, 3, 3}, 9}, {kInt4, {0}, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "dtype " << c.dtype << " need " << c.need);
    EXPECT_NO_THROW(parse(with_init(c.dtype, c.dims, std::string(c.need, '\x11'))));
    std::string shorter = input_error([&] { parse(with_init(c.dtype, c.dims, std::string(c.need + 1, '\x11'))); });
    EXPECT_TRUE(contains(shorter, fmt::format("raw_data has {} bytes", c.need + 1))) << shorter;
    if (c.need > 0) {
      std::string e = input_error([&] { parse(with_init(c.dtype, c.dims, std::string(c.need - 1, '\x11'))); });
      EXPECT_TRUE(contains(e, fmt::format("need {}", c.need))) << e;
    }
  }
  // int32_data for 4-bit types holds one packed byte per two elements: 3 elements → 2 values.
  auto packed = [](int n_values) {
    auto m = make_model(21);
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name("w");
    t->set_data_type(kInt4);
    t->add_dims(3);
    for (int i = 0; i < n_values; ++i) t->add_int32_data(0x21);
    m.mutable_graph()->add_output()->set_name("w");
    return m;
  };
  EXPECT_NO_THROW(parse(packed(2)));
  EXPECT_TRUE(contains(input_error([&] { parse(packed(3)); }), "int32_data has 3 values, dims [3] need 2"));
}

// ---- 3. memory budget before any allocation ----

TEST(HardeningModelInvariants, TenToTheTwelveElementsRefusedNotAttempted) {
  // 10^12 f32 elements = 4·10^12 bytes. Inline data is refused by its length check, external data
  // by the 16 GiB budget; none by "out of memory allocating": the allocation is never tried.
  TempDir dir;
  auto huge = [](const std::function<void(TP*)>& data) {
    auto m = make_model(13);
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name("w");
    t->set_data_type(TP::FLOAT);
    t->add_dims(1000000);
    t->add_dims(1000000);
    data(t);
    m.mutable_graph()->add_output()->set_name("w");
    return m;
  };
  std::string raw = input_error([&] { parse(huge([](TP* t) { t->set_raw_data("abcd"); })); });
  std::string typed = input_error([&] { parse(huge([](TP* t) { t->add_float_data(1); })); });
  std::string none = input_error([&] { parse(huge([](TP*) {})); });
  std::string ext = input_error([&] {
    parse(huge([](TP* t) {
            t->set_data_location(TP::EXTERNAL);
            auto* e = t->add_external_data();
            e->set_key("location");
            e->set_value("w.bin");
          }),
          dir.path());
  });
  for (const auto& e : {raw, typed, none, ext}) {
    EXPECT_EQ(e.rfind("model.onnx: initializer 'w': ", 0), 0u) << e;
    EXPECT_FALSE(contains(e, "out of memory")) << e;
  }
  EXPECT_TRUE(contains(raw, "raw_data has 4 bytes, dims [1000000,1000000] need 4000000000000")) << raw;
  EXPECT_TRUE(contains(ext, "need 4000000000000 bytes; the model's tensors would exceed the limit of 17179869184 bytes")) << ext;
  // The budget is over all tensors, attributes included: 3 × 40 bytes against a 100-byte budget.
  auto m = make_model(13);
  auto* g = m.mutable_graph();
  add_raw_init(g, "a", TP::FLOAT, {10}, std::string(40, '\0'));
  add_raw_init(g, "b", TP::FLOAT, {10}, std::string(40, '\0'));
  auto* c = add_node(g, "Constant", {}, {"c"}, "const");
  fill_raw(add_attr(c, "value", onnx::AttributeProto::TENSOR)->mutable_t(), "", TP::FLOAT, {10}, std::string(40, '\0'));
  g->add_output()->set_name("c");
  ir::ImportOptions opts;
  opts.max_tensor_bytes = 100;
  std::string e = input_error([&] { parse(m, "", opts); });
  EXPECT_TRUE(contains(e, "node 'const' (Constant): attribute 'value'")) << e;
  opts.max_tensor_bytes = 120;
  EXPECT_NO_THROW(parse(m, "", opts));
}

// ---- 4. external data confined to the model's folder ----

struct ExternalCase {
  TempDir dir;
  std::string model_dir = dir.path("model");
  ExternalCase() {
    std::filesystem::create_directories(model_dir + "/sub");
    std::ofstream(dir.path("outside.bin"), std::ios::binary) << std::string(8, 'O');
    // f32 bytes: [0, 0, 1.0, 2.0] (1.0f = 00 00 80 3f little-endian)
    std::ofstream(model_dir + "/w.bin", std::ios::binary) << std::string("\0\0\0\0\0\0\0\0\0\0\x80\x3f\0\0\0\x40", 16);
  }
  // Loads model/model.onnx whose f32[2] initializer lives at `location`; returns "" on success.
  std::string load(const std::string& location, const std::string& offset = "", const std::string& length = "") {
    auto m = make_model(13);
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name("w");
    t->set_data_type(TP::FLOAT);
    t->add_dims(2);
    t->set_data_location(TP::EXTERNAL);
    for (auto [k, v] : {std::pair<std::string, std::string>{"location", location}, {"offset", offset}, {"length", length}}) {
      if (v.empty() && k != "location") continue;
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    m.mutable_graph()->add_output()->set_name("w");
    std::string path = model_dir + "/model.onnx";
    write_file_atomic(path, bytes_of(m));
    try {
      ir::Model loaded = ir::load_onnx(path);
      const Tensor* w = loaded.graph.initializer("w");
      EXPECT_EQ(w->data<float>()[0], offset == "8" ? 1.f : 0.f);
      return "";
    } catch (const InputError& e) {
      return e.what();
    }
  }
};

TEST(HardeningModelInvariants, ExternalDataConfinedToTheModelFolder) {
  ExternalCase c;
  EXPECT_EQ(c.load("w.bin"), "");
  EXPECT_EQ(c.load("w.bin", "8", "8"), "");  // [1.0, 2.0] at offset 8
  std::filesystem::copy_file(c.model_dir + "/w.bin", c.model_dir + "/sub/w.bin");
  EXPECT_EQ(c.load("sub/w.bin"), "");
  EXPECT_TRUE(contains(c.load(c.dir.path("outside.bin")), "is an absolute path"));
  EXPECT_TRUE(contains(c.load("/dev/zero"), "is an absolute path"));
  EXPECT_TRUE(contains(c.load("../outside.bin"), "contains '..'"));
  EXPECT_TRUE(contains(c.load("sub/../../outside.bin"), "contains '..'"));
  EXPECT_TRUE(contains(c.load("sub/../w.bin"), "contains '..'"));  // refused even when it stays inside
  std::filesystem::create_symlink("../outside.bin", c.model_dir + "/link.bin");
  EXPECT_TRUE(contains(c.load("link.bin"), "resolves outside the model's folder"));
  std::filesystem::create_directory_symlink("..", c.model_dir + "/up");
  EXPECT_TRUE(contains(c.load("up/outside.bin"), "resolves outside the model's folder"));
  std::filesystem::create_symlink("/dev/zero", c.model_dir + "/zero.bin");
  EXPECT_TRUE(contains(c.load("zero.bin"), "resolves outside the model's folder"));
  // A symlink that stays inside the folder is followed.
  std::filesystem::create_symlink("w.bin", c.model_dir + "/alias.bin");
  EXPECT_EQ(c.load("alias.bin"), "");
}

TEST(HardeningModelInvariants, ExternalDataOffsetAndLengthWithinTheFile) {
  ExternalCase c;  // w.bin has 16 bytes; f32[2] needs 8
  EXPECT_EQ(c.load("w.bin", "8"), "");
  EXPECT_TRUE(contains(c.load("w.bin", "9"), "offset 9 + length 8 is past the end of 'w.bin' (16 bytes)"));
  EXPECT_TRUE(contains(c.load("w.bin", "16"), "past the end"));
  EXPECT_TRUE(contains(c.load("w.bin", "18446744073709551615"), "past the end"));  // offset + length wraps
  EXPECT_TRUE(contains(c.load("w.bin", "18446744073709551616"), "is not a non-negative integer"));
  EXPECT_TRUE(contains(c.load("w.bin", "0", "16"), "external data length is 16 bytes, dims [2] need 8"));
  EXPECT_TRUE(contains(c.load("w.bin", "0x10"), "is not a non-negative integer"));
}

TEST(HardeningModelInvariants, ExternalDataMustBeARegularFile) {
  ExternalCase c;
  EXPECT_TRUE(contains(c.load("sub"), "is not a regular file"));
  EXPECT_TRUE(contains(c.load(""), "has no 'location'"));
  // A FIFO in the model's folder: refused at once (opening it must not wait for a writer).
  ASSERT_EQ(::mkfifo((c.model_dir + "/fifo.bin").c_str(), 0600), 0);
  EXPECT_TRUE(contains(c.load("fifo.bin"), "is not a regular file"));
}

// ---- 5. subgraph nesting and protobuf recursion bounded ----

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
  return s;
}

TEST(HardeningModelInvariants, ProtobufRecursionIsBounded) {
  // ModelProto{ir_version: 8, graph{input{type: TypeProto{sequence_type{elem_type: TypeProto{...}}}}}}
  // nested 5000 deep, written as bytes (field numbers from onnx.proto): without protobuf's recursion
  // limit the parser's stack would go 10000 frames deep.
  std::string t;  // innermost TypeProto: empty
  for (int i = 0; i < 5000; ++i) {
    std::string seq = "\x0a" + varint(t.size()) + t;  // Sequence.elem_type = 1
    t = "\x22" + varint(seq.size()) + seq;            // TypeProto.sequence_type = 4
  }
  std::string vi = "\x0a\x01x\x12" + varint(t.size()) + t;  // ValueInfoProto name = 1, type = 2
  std::string graph = "\x5a" + varint(vi.size()) + vi;     // GraphProto.input = 11
  std::string model = std::string("\x08\x08", 2) + "\x3a" + varint(graph.size()) + graph;  // ir_version, graph = 7
  EXPECT_EQ(input_error([&] { ir::parse_onnx(model, "model.onnx", ""); }),
            "model.onnx: not a valid ONNX model (protobuf parse failed)");
}

TEST(HardeningModelInvariants, SubgraphNestingIsBounded) {
  // Through GRAPHS (lists of subgraphs), not only GRAPH attributes: 33 levels is one too many.
  auto nested = [](int depth) {
    auto m = make_model(13);
    onnx::GraphProto* g = m.mutable_graph();
    for (int d = 0; d < depth; ++d) {
      auto* n = add_node(g, "Scan", {}, {}, "scan" + std::to_string(d));
      g = add_attr(n, "bodies", onnx::AttributeProto::GRAPHS)->add_graphs();
    }
    return m;
  };
  EXPECT_NO_THROW(parse(nested(32)));
  EXPECT_EQ(input_error([&] { parse(nested(33)); }), "model.onnx: subgraphs nested deeper than 32 levels");
}

// ---- 6. over 2 GiB without external data: refused clearly, before reading ----

TEST(HardeningModelInvariants, ModelOverTwoGiBRefusedClearly) {
  TempDir dir;
  std::string path = dir.path("big.onnx");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  // Sparse: 2^31 + 16 bytes of apparent size, no disk used. protobuf refuses messages >= 2 GiB.
  ASSERT_EQ(::ftruncate(fd, (int64_t{1} << 31) + 16), 0);
  ::close(fd);
  std::string e = input_error([&] { ir::load_onnx(path); });
  EXPECT_EQ(e, path + ": model is 2147483664 bytes; ONNX protobuf files are limited to 2 GiB");
}

}  // namespace
}  // namespace qforge
