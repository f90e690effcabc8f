// qforge run MODEL --input X.npy [--input NAME=Y.npy ...] [--output OUT.npy ...] [--threads T] [--json]
// The oracle tests (tests/oracle/) drive qforge through exactly this interface.
#include <chrono>
#include <cstdio>
#include <set>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/npy.h"
#include "eval/inspect.h"
#include "ir/onnx_io.h"
#include "render.h"
#include "report/json.h"
#include "runtime/session.h"

namespace qforge::cli {

namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;   // FILE or NAME=FILE
  std::vector<std::string> outputs;  // one per graph output, in order
  int threads = 0;
  bool json = false;
};

// Files for the model's data inputs, in graph-input order. NAME=FILE binds by name (only when NAME
// is an input of the model, so paths containing '=' still work); plain files fill the remaining
// inputs in order.
std::vector<std::string> bind_inputs(const std::vector<std::string>& names, const std::vector<std::string>& specs) {
  std::vector<std::string> files(names.size());
  std::vector<std::string> positional;
  for (const auto& spec : specs) {
    size_t eq = spec.find('=');
    bool named = false;
    if (eq != std::string::npos) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] != spec.substr(0, eq)) continue;
        if (!files[i].empty()) fail_input("--input: model input '{}' is given twice", names[i]);
        files[i] = spec.substr(eq + 1);
        named = true;
      }
    }
    if (!named) positional.push_back(spec);
  }
  size_t next = 0;
  for (auto& f : files) {
    if (!f.empty()) continue;
    if (next == positional.size()) break;
    f = positional[next++];
  }
  if (next < positional.size())
    fail_input("--input: {} files given but the model has {} input(s)", specs.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i)
    if (files[i].empty()) fail_input("--input: no file for model input '{}'", names[i]);
  return files;
}

void check_outputs(const RunOptions& o, const std::vector<std::string>& input_files, size_t num_outputs) {
  if (o.outputs.size() > num_outputs)
    fail_input("--output: {} files given but the model has {} output(s)", o.outputs.size(), num_outputs);
  std::set<std::string> seen;
  for (const auto& out : o.outputs) {
    if (!seen.insert(out).second) fail_input("--output: {}: given twice", out);
    for (const auto& in : input_files)
      if (same_file(out, in)) fail_input("--output: {}: is an input file; refusing to overwrite it", out);
    if (same_file(out, o.model)) fail_input("--output: {}: is the model file; refusing to overwrite it", out);
  }
}

}  // namespace

int cmd_run(int argc, char** argv) {
  RunOptions o;
  CLI::App app{"Run a model on .npy inputs; write its outputs as .npy or print a summary of each.",
               "qforge run"};
  app.add_option("model", o.model, "the ONNX model")->required();
  app.add_option("--input,-i", o.inputs, "an input as FILE.npy (graph-input order) or NAME=FILE.npy; repeat per input")
      ->required()
      ->allow_extra_args(false);
  app.add_option("--output,-o", o.outputs,
                 "where to write a graph output (.npy), one per output in order; outputs without one are "
                 "not written")
      ->allow_extra_args(false);
  add_threads_option(app, o.threads);
  app.add_flag("--json", o.json, "print one JSON object on stdout");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  ir::Model model = ir::load_onnx(o.model);
  runtime::SessionOptions so;
  so.threads = o.threads;
  runtime::Session sess(model, so);

  std::vector<std::string> names;
  for (const auto& v : sess.inputs())
    if (!sess.graph().initializer(v.name)) names.push_back(v.name);
  std::vector<std::string> files = bind_inputs(names, o.inputs);
  check_outputs(o, files, sess.outputs().size());
  std::vector<Tensor> inputs;
  for (const auto& f : files) inputs.push_back(data::read_npy(f));

  auto t0 = std::chrono::steady_clock::now();
  std::vector<Tensor> outputs = sess.run(inputs);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < o.outputs.size(); ++i) data::write_npy(o.outputs[i], outputs[i]);

  report::Json j;
  j["model"] = o.model;
  j["outputs"] = report::Json::array();
  std::string text;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string& name = sess.outputs()[i].name;
    eval::TensorSummary s = eval::summarize_tensor(outputs[i]);
    report::Json oj = report::to_json(name, s);
    oj["file"] = i < o.outputs.size() ? report::Json(o.outputs[i]) : report::Json(nullptr);
    j["outputs"].push_back(oj);
    text += render_tensor(name, s) + (i < o.outputs.size() ? "  -> " + o.outputs[i] : "") + "\n";
  }
  j["seconds"] = seconds;
  j["threads"] = sess.threads();
  if (o.json) std::printf("%s\n", j.dump(2).c_str());
  else std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace qforge::cli
