// qforge inspect MODEL [--json] [--save OUT.onnx [--opset N]]
#include <cstdio>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "eval/inspect.h"
#include "ir/onnx_io.h"
#include "ir/shape_inference.h"
#include "render.h"
#include "report/json.h"

namespace qforge::cli {

namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  std::string save;
  int64_t opset = 0;
};

}  // namespace

int cmd_inspect(int argc, char** argv) {
  InspectOptions o;
  CLI::App app{"Show what a model is made of: op histogram, parameters, bytes by dtype, inputs and "
               "outputs with their shapes, opsets, producer.",
               "qforge inspect"};
  app.add_option("model", o.model, "the ONNX model")->required();
  app.add_flag("--json", o.json, "print one JSON object on stdout");
  CLI::Option* save = app.add_option("--save", o.save, "write the imported model back as ONNX (canonical form)");
  app.add_option("--opset", o.opset, "default-domain opset for --save (11-21; default: the model's own)")
      ->check(CLI::Range(11, 21))
      ->needs(save);
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  ir::Model model = ir::load_onnx(o.model);
  if (!o.save.empty()) {
    ir::ExportOptions eo;
    eo.opset = o.opset;
    ir::save_onnx(model, o.save, eo, o.model);
  }
  // Shapes of outputs a model leaves undeclared come from qforge's inference; a model it cannot infer
  // (e.g. an unsupported op) is still summarised as declared, with the reason.
  std::string inference_error;
  ir::Model inferred = model;
  try {
    ir::infer_shapes(inferred);
  } catch (const InputError& e) {
    inference_error = e.what();
    inferred = model;
  }
  eval::ModelSummary s = eval::summarize_model(inferred);

  if (o.json) {
    report::Json j;
    j["model"] = o.model;
    j.update(report::to_json(s));
    j["shape_inference"] = inference_error.empty() ? report::Json("ok") : report::Json(inference_error);
    if (!o.save.empty()) j["saved"] = o.save;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::string text = render_model_summary(o.model, s);
  if (!inference_error.empty()) text += fmt::format("{:<12}{}\n", "shapes", "not inferred: " + inference_error);
  if (!o.save.empty()) text += fmt::format("{:<12}{}\n", "saved", o.save);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace qforge::cli
