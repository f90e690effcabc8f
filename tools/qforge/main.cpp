#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "commands.h"
#include "core/error.h"

// QFORGE_VERSION comes from CMake (project version).

namespace {

using qforge::cli::Command;

constexpr Command kCommands[] = {
    {"demo", qforge::cli::cmd_demo, "inspect and evaluate the bundled Fashion-MNIST model (the quick start)"},
    {"inspect", qforge::cli::cmd_inspect, "op histogram, parameters, bytes by dtype, inputs/outputs, opsets"},
    {"run", qforge::cli::cmd_run, "run a model on .npy inputs and write .npy outputs"},
    {"eval", qforge::cli::cmd_eval, "top-1/top-5, per-class accuracy and confusion matrix on a dataset"},
    {"quantize", qforge::cli::cmd_quantize, "post-training quantization to QDQ ONNX (int8, int4, nf4, fp16 presets)"},
    {"bench", qforge::cli::cmd_bench, "latency p50/p90/p99, throughput, peak memory; two models side by side"},
    {"train", qforge::cli::cmd_train, "train a bundled architecture or fine-tune a model, export float32 ONNX"},
    {"qat", qforge::cli::cmd_qat, "quantization-aware training: PTQ start, fine-tune with fake-quant, export QDQ ONNX"},
    {"analyze", qforge::cli::cmd_analyze, "per-layer error, sensitivity, class drift and fallbacks of a QDQ model vs FP32"},
};

void usage(FILE* f) {
  std::fprintf(f, "usage: qforge <command> [options]   (qforge <command> --help for its options)\n"
                  "       qforge --version\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(f, "  %-10s %s\n", c.name, c.summary);
}

// Error messages are one line: a multi-line message from a library is joined.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-V")) {
    std::printf("qforge %s\n", QFORGE_VERSION);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const qforge::InputError& e) {
      std::fprintf(stderr, "qforge %s: error: %s\n", c.name, one_line(e.what()).c_str());
      return 2;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "qforge %s: error: out of memory\n", c.name);
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "qforge %s: internal error: %s\n", c.name, one_line(e.what()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "qforge: error: unknown command '%s' (see 'qforge --help')\n", argv[1]);
  return 2;
}
