// The built `qforge` binary run as a user runs it, for the CLI tests of every command: a fixture with a
// fresh folder per test, run() returning exit code, stdout and stderr, and one_error_line().
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "ir/onnx_io.h"
#include "../eval/tiny_model.h"

namespace qforge::cli_test {

namespace fs = std::filesystem;

struct CliResult {
  int code = -1;
  std::string out, err;
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    return n;
  }
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / fmt::format("qforge_cli_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  CliResult run(const std::vector<std::string>& args, const std::string& env = "") const {
    std::string cmd = env + " " + shell_quote(QFORGE_CLI);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    cmd += fmt::format(" >{} 2>{} </dev/null", shell_quote(path("stdout")), shell_quote(path("stderr")));
    int status = std::system(cmd.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(path("stdout"));
    r.err = read_file(path("stderr"));
    return r;
  }

  // The pixel classifier (scores = the 4 pixels of a [1,2,2] sample) written as ONNX.
  std::string tiny_model() const {
    std::string p = path("tiny.onnx");
    ir::save_onnx(testing_models::flatten_bias_classifier(), p);
    return p;
  }

  fs::path dir_;
};

inline ::testing::AssertionResult one_error_line(const CliResult& r, const std::string& must_contain) {
  if (r.err_lines() != 1) return ::testing::AssertionFailure() << "stderr is not one line: " << r.err;
  if (r.err.find(must_contain) == std::string::npos)
    return ::testing::AssertionFailure() << "stderr lacks '" << must_contain << "': " << r.err;
  return ::testing::AssertionSuccess();
}

}  // namespace qforge::cli_test
