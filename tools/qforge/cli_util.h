// Pieces every subcommand shares: option parsing with qforge's exit codes, the progress bar,
// locating the bundled models, and loading a model by path.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "ir/graph.h"

namespace qforge::cli {

// Parses argv (argv[0] = the command name). Returns an exit code when the command must stop now:
// 0 after printing --help to stdout, 2 after printing a usage error to stderr as one line
// "qforge <cmd>: error: <problem> (see 'qforge <cmd> --help')". nullopt: go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// A "--threads" option shared by the commands that run a model (0 = all cores).
void add_threads_option(CLI::App& app, int& threads);

// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void update(int64_t done, int64_t total, const std::string& extra = {});  // extra: after the count
  void finish();  // clears the line

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Path of a bundled model file (e.g. "fmnist_mlp.onnx"): $QFORGE_MODELS_DIR, else a models/ folder
// next to or above the executable, else the source tree the binary was built from. InputError
// listing where it looked when none has it.
std::string find_bundled_model(const std::string& file);

// "1234567" -> "1,234,567".
std::string group_digits(int64_t v);

}  // namespace qforge::cli
