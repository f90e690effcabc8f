// The mutated-model corpus (issue 7, "Targets"): every hostile variant of a valid model ends with
// exit 0, or exit 2 and one error line naming the model — never a crash, a hang, an internal error
// (exit 1) or a sanitizer report. In the ASan build (scripts/test.sh) the CLI under test is itself
// instrumented, so an out-of-bounds read or UB in the loader shows here as a non-0/2 exit.
#include <gtest/gtest.h>

#include <map>

#include "../temp_dir.h"
#include "core/file_io.h"
#include "core/tensor.h"
#include "data/npy.h"
#include "mutated_corpus.h"
#include "run_process.h"

namespace qforge {
namespace {

using hardening::Mutant;
using hardening::Original;

std::vector<Original> originals() {
  std::vector<Original> o;
  for (const auto& m : hardening::small_models()) o.push_back({m.name, m.proto.SerializeAsString(), m.input_shape});
  o.push_back({"fmnist_mlp", read_file(std::string(QFORGE_SOURCE_DIR) + "/models/fmnist_mlp.onnx"), {1, 1, 28, 28}});
  return o;
}

// What a run of the CLI must look like: exit 0, or exit 2 with exactly one line that starts with
// "qforge <cmd>: error: " (naming the model file for inspect).
::testing::AssertionResult clean(hardening::ProcessResult r, const std::string& cmd, const std::string& model) {
  // ASan's note about an allocation it refused (allocator_may_return_null) is not a report.
  const std::string note = "WARNING: AddressSanitizer failed to allocate";
  for (size_t at; (at = r.err.find(note)) != std::string::npos;) {
    size_t begin = r.err.rfind('\n', at), end = r.err.find('\n', at);
    begin = begin == std::string::npos ? 0 : begin + 1;
    r.err.erase(begin, end == std::string::npos ? std::string::npos : end - begin + 1);
  }
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << "qforge " << cmd << " " << model << ": " << why
                                         << " (exit " << r.exit_code << ", signal " << r.signal << ")\n" << r.err;
  };
  if (r.timed_out) return fail("did not finish within the time limit");
  if (r.err.find("Sanitizer") != std::string::npos || r.err.find("runtime error:") != std::string::npos)
    return fail("sanitizer report");
  if (r.exit_code == 0) return ::testing::AssertionSuccess();
  if (r.exit_code != 2) return fail("exit code is neither 0 nor 2");
  if (r.err_lines() != 1) return fail("the error is not one line");
  if (r.err.rfind("qforge " + cmd + ": error: ", 0) != 0) return fail("the error line has the wrong form");
  // inspect fails only while loading, which names the file; run may fail later, naming the node.
  if (cmd == "inspect" && r.err.find(model) == std::string::npos) return fail("the error does not name the model");
  return ::testing::AssertionSuccess();
}

// The CLI under test: this build's, or $QFORGE_HARDENING_CLI (to try the corpus on another build).
std::string cli() {
  const char* other = std::getenv("QFORGE_HARDENING_CLI");
  return other && *other ? other : QFORGE_CLI;
}

TEST(HardeningMutatedModels, EveryMutantEndsCleanly) {
  testing::TempDir dir;
  std::vector<Original> orig = originals();
  std::vector<Mutant> corpus = hardening::write_mutated_corpus(dir.path(), orig);
  ASSERT_GE(corpus.size(), 200u);
  std::map<std::string, std::string> data_of;  // original → an npy: dataset matching its input
  for (const auto& o : orig) {
    Shape two = o.input_shape;  // two samples of the input's shape without its batch dim
    two[0] = 2;
    Tensor x(DType::f32, two);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
    Tensor labels(DType::s64, {2});  // class 0 for both
    data::write_npy(dir.path("x_" + o.name + ".npy"), x);
    data::write_npy(dir.path("l_" + o.name + ".npy"), labels);
    data_of[o.name] = "npy:" + dir.path("x_" + o.name + ".npy") + "," + dir.path("l_" + o.name + ".npy");
  }
  const std::string err = dir.path("stderr.txt");
  // Under ASan, let an impossible allocation fail the way the system allocator does (nullptr →
  // std::bad_alloc → exit 2) instead of aborting. How large a tensor the runtime may try to allocate
  // is the session's business; this test checks that the CLI ends cleanly.
  const char* asan = std::getenv("ASAN_OPTIONS");
  ::setenv("ASAN_OPTIONS", (std::string(asan ? asan : "") + ":allocator_may_return_null=1").c_str(), 1);
  int exit0 = 0, exit2 = 0, runs = 0;
  std::map<std::string, int> outcomes;  // "<command> exit <code>" → count
  for (const auto& m : corpus) {
    SCOPED_TRACE(m.kind);
    auto r = hardening::run_process({cli(), "inspect", m.file}, err, 60);
    auto verdict = clean(r, "inspect", m.file);
    EXPECT_TRUE(verdict);
    ++runs;
    if (!verdict) continue;
    outcomes["inspect exit " + std::to_string(r.exit_code)]++;
    if (m.kind == "external-valid") EXPECT_EQ(r.exit_code, 0) << r.err;
    else if (m.kind.rfind("external-", 0) == 0) EXPECT_EQ(r.exit_code, 2) << m.kind;
    (r.exit_code == 0 ? exit0 : exit2)++;
    if (r.exit_code != 0) continue;  // eval and quantize load the model the same way: they would fail the same way
    // The model loads: evaluate it on its two samples, then quantize it calibrated on them.
    const std::vector<std::vector<std::string>> commands = {
        {cli(), "eval", m.file, "--data", data_of[m.original], "--batch", "1", "--threads", "1"},
        {cli(), "quantize", m.file, "-o", dir.path("q.onnx"), "--calib", data_of[m.original], "--threads", "1"},
    };
    for (const auto& args : commands) {
      auto rr = hardening::run_process(args, err, 60);
      ++runs;
      EXPECT_TRUE(clean(rr, args[1], m.file));
      outcomes[args[1] + " exit " + std::to_string(rr.exit_code)]++;
      if (m.kind == "external-valid") EXPECT_EQ(rr.exit_code, 0) << rr.err;
    }
  }
  // Both outcomes occur: the corpus is neither all-broken nor all-harmless.
  EXPECT_GT(exit0, 20);
  EXPECT_GT(exit2, 100);
  std::printf("[ mutated  ] %zu mutants, %d CLI runs:", corpus.size(), runs);
  for (const auto& [what, n] : outcomes) std::printf(" %s: %d;", what.c_str(), n);
  std::printf("\n");
}

}  // namespace
}  // namespace qforge
