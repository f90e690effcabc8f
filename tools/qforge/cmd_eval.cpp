// qforge eval MODEL --data SPEC [--batch B] [--threads T] [--json] [preprocessing options]
#include <cstdio>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "dataset_options.h"
#include "eval/evaluate.h"
#include "ir/onnx_io.h"
#include "render.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

struct EvalCmdOptions {
  std::string model;
  DatasetOptions data;
  int batch = 64;
  int threads = 0;
  bool json = false;
};

}  // namespace

int cmd_eval(int argc, char** argv) {
  EvalCmdOptions o;
  CLI::App app{"Accuracy of a classifier on a labelled dataset: top-1, top-5, per-class accuracy and "
               "counts, confusion matrix, images/s. The model takes [N, sample...] and gives [N, classes].",
               "qforge eval"};
  app.add_option("model", o.model, "the ONNX model")->required();
  add_dataset_options(app, o.data);
  app.add_option("--batch", o.batch, "samples per run")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  add_threads_option(app, o.threads);
  app.add_flag("--json", o.json, "print one JSON object on stdout (the human summary goes to stderr)");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  ir::Model model = ir::load_onnx(o.model);
  std::unique_ptr<data::Dataset> ds = open_dataset(o.data);
  Progress progress("eval");
  eval::EvalOptions eo;
  eo.batch = o.batch;
  eo.threads = o.threads;
  eo.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  eval::EvalResult r = eval::evaluate(model, *ds, eo);
  progress.finish();

  std::string text = fmt::format("{:<12}{}\n", "model", o.model) + render_eval(r, !o.json);
  if (!o.json) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::fputs(text.c_str(), stderr);
  report::Json j;
  j["model"] = o.model;
  j.update(report::to_json(r));
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace qforge::cli
