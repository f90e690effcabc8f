// Replays the fuzz corpora through the harness bodies (fuzz/fuzz_targets.h) in the unit-test build:
// - tests/hardening/regressions/<target>/<file>: inputs a fuzzer once crashed on, kept after the
//   fix. Each must now end in InputError (files named "ok-*": in a result, no error).
// - fuzz/corpus/<target>/<file>: the committed seeds, valid files: each must load without error.
// In the ASan build a memory error on any of them is a sanitizer report, which fails the run.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

#include "../../fuzz/fuzz_targets.h"
#include "core/file_io.h"

namespace qforge {
namespace {

namespace fs = std::filesystem;

using Body = std::function<void(const std::string& path, const std::string& bytes)>;

const std::map<std::string, Body>& bodies() {
  static const std::map<std::string, Body> b = {
      {"fuzz_onnx_load", [](const std::string&, const std::string& s) { fuzz::run_onnx_load(s); }},
      {"fuzz_e2e", [](const std::string&, const std::string& s) { fuzz::run_e2e(s); }},
      {"fuzz_npy", [](const std::string&, const std::string& s) { fuzz::run_npy(s); }},
      {"fuzz_image", [](const std::string&, const std::string& s) { fuzz::run_image(s, s.size() & 1); }},
      {"fuzz_idx", [](const std::string& p, const std::string&) { fuzz::run_idx_file(p); }},
      {"fuzz_calib_table", [](const std::string& p, const std::string&) { fuzz::run_calib_table(p); }},
      {"fuzz_recipe", [](const std::string& p, const std::string&) { fuzz::run_recipe(p); }},
  };
  return b;
}

std::vector<std::pair<std::string, std::string>> files_under(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> r;  // (target, path)
  if (!fs::exists(root)) return r;
  for (const auto& t : fs::directory_iterator(root)) {
    if (!t.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(t.path()))
      if (f.is_regular_file()) r.emplace_back(t.path().filename().string(), f.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}

TEST(HardeningFuzzRegressions, CrashInputsNowEndInInputError) {
  auto files = files_under(std::string(QFORGE_SOURCE_DIR) + "/tests/hardening/regressions");
  for (const auto& [target, path] : files) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(bodies().count(target)) << "no harness named " << target;
    std::string bytes = read_file(path);
    bool ok_expected = fs::path(path).filename().string().rfind("ok-", 0) == 0;
    try {
      bodies().at(target)(path, bytes);
      EXPECT_TRUE(ok_expected) << "expected an InputError";
    } catch (const InputError& e) {
      EXPECT_FALSE(ok_expected) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(HardeningFuzzRegressions, SeedCorpusLoads) {
  auto files = files_under(std::string(QFORGE_SOURCE_DIR) + "/fuzz/corpus");
  EXPECT_GE(files.size(), 20u);
  for (const auto& [target, path] : files) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(bodies().count(target)) << "no harness named " << target;
    EXPECT_NO_THROW(bodies().at(target)(path, read_file(path)));
  }
}

}  // namespace
}  // namespace qforge
