// qforge demo [--json] [--threads T]: what qforge does today, end to end, on the bundled model —
// import and inspect it, then measure its accuracy on Fashion-MNIST's test set.
#include <cstdio>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "eval/inspect.h"
#include "ir/onnx_io.h"
#include "render.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

constexpr const char* kDemoModel = "fmnist_mlp.onnx";
constexpr const char* kDemoData = "fashion-mnist:test";

struct DemoOptions {
  bool json = false;
  int threads = 0;
};

}  // namespace

int cmd_demo(int argc, char** argv) {
  DemoOptions o;
  CLI::App app{fmt::format("Walk through what qforge does today on the bundled model models/{}: import and "
                           "inspect it, then evaluate it on {}.", kDemoModel, kDemoData),
               "qforge demo"};
  app.add_flag("--json", o.json, "print one JSON object on stdout (the walkthrough goes to stderr)");
  add_threads_option(app, o.threads);
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  std::FILE* human = o.json ? stderr : stdout;
  const std::string path = find_bundled_model(kDemoModel);
  ir::Model model = ir::load_onnx(path);
  eval::ModelSummary summary = eval::summarize_model(model);
  std::fprintf(human, "== 1. import and inspect (qforge inspect %s)\n\n%s\n", path.c_str(),
               render_model_summary(path, summary).c_str());
  std::fflush(human);

  std::unique_ptr<data::Dataset> ds = data::open_dataset(kDemoData);
  std::fprintf(human, "== 2. evaluate in FP32 (qforge eval %s --data %s)\n\n", path.c_str(), kDemoData);
  std::fflush(human);
  Progress progress("eval");
  eval::EvalOptions eo;
  eo.threads = o.threads;
  eo.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  eval::EvalResult r = eval::evaluate(model, *ds, eo);
  progress.finish();
  std::fprintf(human, "%s\n", render_eval(r, true).c_str());
  std::fprintf(human,
               "== what's next\n\n"
               "  qforge inspect MODEL          summarise your own ONNX model\n"
               "  qforge eval MODEL --data ...  measure it on fashion-mnist, idx:, npy: or images: data\n"
               "  qforge run MODEL --input X.npy --output Y.npy   run it on your own tensors\n"
               "  INT8/INT4 quantization and FP32-vs-quantized comparisons are planned next.\n");

  if (o.json) {
    report::Json j;
    j["model"] = path;
    j["inspect"] = report::to_json(summary);
    j["eval"] = report::to_json(r);
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace qforge::cli
