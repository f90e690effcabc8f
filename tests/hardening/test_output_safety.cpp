// Output safety (issue 7, Build 4): a write either replaces the target whole or leaves it as it was,
// never replaces an input (by file identity: hard links and symlinks included) or an external-data
// file the input model references, reads a written model back before the rename, and leaves no
// temporary file behind. Library level (write_file_atomic, write_model_file, model_files) and CLI
// level (`qforge quantize`, `qforge inspect --save`: exit 2 with one line, nothing at the target).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>

#include "../cli/cli_fixture.h"
#include "../ir/onnx_test_util.h"
#include "../quant/quantizer_test_models.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/npy.h"
#include "ir/model_files.h"
#include "ir/onnx_io.h"

namespace qforge {
namespace {

namespace fs = std::filesystem;
using test::input_error;
using testing::TempDir;

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> n;
  for (const auto& e : fs::directory_iterator(dir)) n.push_back(e.path().filename().string());
  std::sort(n.begin(), n.end());
  return n;
}

// Runs f with writes limited to `bytes` per file: write() then fails with EFBIG, like a full disk
// (SIGXFSZ ignored; the limit and the ignored signal are inherited by a child process).
template <typename F>
void with_file_size_limit(rlim_t bytes, F&& f) {
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = bytes;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  f();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
}

TEST(HardeningOutputSafety, AtomicWriteReplacesWholeAndLeavesNoTemporary) {
  TempDir dir;
  std::string p = dir.path("out.bin");
  write_file_atomic(p, "first version");
  write_file_atomic(p, "2nd");
  EXPECT_EQ(read_file(p), "2nd");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(HardeningOutputSafety, NeverOverwritesAnInputByIdentity) {
  TempDir dir;
  std::string in = dir.write("model.onnx", "input bytes");
  fs::create_hard_link(in, dir.path("hard.onnx"));
  fs::create_symlink("model.onnx", dir.path("soft.onnx"));
  for (const char* target : {"model.onnx", "hard.onnx", "soft.onnx", "./model.onnx"}) {
    SCOPED_TRACE(target);
    std::string e = input_error([&] { write_file_atomic(dir.path(target), "clobbered", {in}); });
    EXPECT_NE(e.find("refusing to overwrite the input file"), std::string::npos) << e;
  }
  EXPECT_EQ(read_file(in), "input bytes");
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"hard.onnx", "model.onnx", "soft.onnx"}));
}

TEST(HardeningOutputSafety, FailedWritesLeaveNothingAtTheTarget) {
  TempDir dir;
  // The target folder does not exist.
  EXPECT_NE(input_error([&] { write_file_atomic(dir.path("missing/out.bin"), "x"); }).find("missing/out.bin"),
            std::string::npos);
  // The target is a folder: the rename fails, the folder and its content stay.
  fs::create_directory(dir.path("taken"));
  dir.write("taken/keep.txt", "keep");
  input_error([&] { write_file_atomic(dir.path("taken"), "x"); });
  EXPECT_EQ(read_file(dir.path("taken/keep.txt")), "keep");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"taken"});
}

TEST(HardeningOutputSafety, FullDiskKeepsThePreviousFile) {
  TempDir dir;
  std::string p = dir.write("out.bin", "previous");
  std::string e;
  with_file_size_limit(1024, [&] { e = input_error([&] { write_file_atomic(p, std::string(1 << 16, 'x')); }); });
  EXPECT_NE(e.find("write failed"), std::string::npos) << e;
  EXPECT_EQ(read_file(p), "previous");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(HardeningOutputSafety, ACheckThatFailsBeforeTheRenameLeavesTheTargetAsItWas) {
  TempDir dir;
  std::string p = dir.write("out.bin", "previous");
  std::string seen;
  std::string e = input_error([&] {
    write_file_atomic(p, "new bytes", {}, [&](const std::string& tmp) {
      seen = read_file(tmp);  // the temporary file is complete when the check runs
      fail_input("rejected");
    });
  });
  EXPECT_EQ(e, "rejected");
  EXPECT_EQ(seen, "new bytes");
  EXPECT_EQ(read_file(p), "previous");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(HardeningOutputSafety, AWrittenModelIsReadBackBeforeTheRename) {
  TempDir dir;
  const std::string good = ir::serialize_onnx(quant::testmodels::tiny_mlp());
  ir::write_model_file(dir.path("m.onnx"), good, {});
  EXPECT_EQ(read_file(dir.path("m.onnx")), good);
  // Bytes that are not a model (a truncated one) never land at the target.
  std::string e = input_error([&] { ir::write_model_file(dir.path("bad.onnx"), good.substr(0, good.size() - 3), {}); });
  EXPECT_NE(e.find("bad.onnx: the written model does not read back"), std::string::npos) << e;
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"m.onnx"});
}

// A copy of the tiny MLP in `dir` whose initializer w1 lives in external data file w1.bin; returns the
// model path.
std::string model_with_external_data(const std::string& dir) {
  onnx::ModelProto mp;
  EXPECT_TRUE(mp.ParseFromString(ir::serialize_onnx(quant::testmodels::tiny_mlp())));
  for (auto& t : *mp.mutable_graph()->mutable_initializer()) {
    if (t.name() != "w1") continue;
    TempDir::write_to(dir + "/w1.bin", t.raw_data());
    t.clear_raw_data();
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* kv = t.add_external_data();
    kv->set_key("location");
    kv->set_value("w1.bin");
  }
  return TempDir::write_to(dir + "/mlp.onnx", test::bytes_of(mp));
}

TEST(HardeningOutputSafety, ModelFilesListTheExternalData) {
  TempDir dir;
  const std::string model = model_with_external_data(dir.path());
  ASSERT_NO_THROW(ir::load_onnx(model));
  EXPECT_EQ(ir::model_files(model), (std::vector<std::string>{model, dir.path("w1.bin")}));
  const std::string inline_model = dir.write("inline.onnx", ir::serialize_onnx(quant::testmodels::tiny_mlp()));
  EXPECT_EQ(ir::model_files(inline_model), std::vector<std::string>{inline_model});
}

class HardeningOutputSafetyCli : public cli_test::Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    data::write_npy(path("calib.npy"), quant::testmodels::uniform({8, 16}, -1, 1, 5));
  }
  cli_test::CliResult quantize(const std::string& model, const std::string& out) const {
    return run({"quantize", model, "-o", out, "--calib", "npy:" + path("calib.npy")});
  }
};

TEST_F(HardeningOutputSafetyCli, QuantizeNeverReplacesTheModelOrItsExternalData) {
  const std::string model = model_with_external_data(dir_.string());
  const std::string data_before = read_file(path("w1.bin")), model_before = read_file(model);
  fs::create_hard_link(path("w1.bin"), path("hard.bin"));
  fs::create_symlink("w1.bin", path("soft.bin"));
  fs::create_symlink("mlp.onnx", path("soft.onnx"));
  for (const char* target : {"w1.bin", "hard.bin", "soft.bin", "mlp.onnx", "soft.onnx"}) {
    SCOPED_TRACE(target);
    const cli_test::CliResult r = quantize(model, path(target));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(cli_test::one_error_line(r, "input")) << r.err;
  }
  EXPECT_EQ(read_file(path("w1.bin")), data_before);
  EXPECT_EQ(read_file(model), model_before);
  // Elsewhere it writes, and what it wrote loads.
  const cli_test::CliResult ok = quantize(model, path("mlp.q.onnx"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NO_THROW(ir::load_onnx(path("mlp.q.onnx")));
}

TEST_F(HardeningOutputSafetyCli, QuantizeWriteErrorsExitTwoWithNothingAtTheTarget) {
  const std::string model = std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx";
  const std::vector<std::string> calib = {"--calib", "fashion-mnist:test:8"};
  // A folder that does not exist.
  cli_test::CliResult r = run({"quantize", model, "-o", path("missing/mlp.q.onnx"), calib[0], calib[1]});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(cli_test::one_error_line(r, "missing/mlp.q.onnx"));
  // A full disk while writing: files are limited to 64 KiB; the INT8 MLP is over 200 KB (its 234,752
  // weights alone), while stdout, stderr and OpenMP's shared-memory file stay far below.
  with_file_size_limit(64 << 10, [&] { r = run({"quantize", model, "-o", path("full.onnx"), calib[0], calib[1]}); });
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(cli_test::one_error_line(r, "write failed"));
  for (const auto& name : names_in(dir_.string())) EXPECT_EQ(name.find("full"), std::string::npos) << name;
}

TEST_F(HardeningOutputSafetyCli, InspectSaveRefusesToOverwriteItsInput) {
  const std::string model = path("mlp.onnx");
  fs::copy_file(std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx", model);
  const std::string before = read_file(model);
  fs::create_hard_link(model, path("hard.onnx"));
  fs::create_symlink("mlp.onnx", path("soft.onnx"));
  for (const char* target : {"mlp.onnx", "hard.onnx", "soft.onnx"}) {
    SCOPED_TRACE(target);
    const cli_test::CliResult r = run({"inspect", model, "--save", path(target)});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(cli_test::one_error_line(r, "refusing to overwrite the input file"));
  }
  EXPECT_EQ(read_file(model), before);
  // Saving elsewhere works, and the saved model loads again.
  EXPECT_EQ(run({"inspect", model, "--save", path("copy.onnx")}).code, 0);
  EXPECT_EQ(run({"inspect", path("copy.onnx")}).code, 0);
}

}  // namespace
}  // namespace qforge
