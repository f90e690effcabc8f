// qforge qat MODEL -o OUT --data SPEC [--epochs N] [--preset P] [--per-tensor] [--exclude ...] [--calib SPEC]
//            [--calib-size N] [--lsq] [--lr LR] [--optimizer sgd|adamw] [--schedule cosine|onecycle|constant]
//            [--batch B] [--momentum M] [--weight-decay WD] [--crop-pad P] [--hflip] [--val SPEC] [--seed S]
//            [--freeze-bn-after E] [--threads T] [--json]
// Quantization-aware training (train/qat.h, docs/qat.md): calibrate + PTQ with the preset (the same
// pipeline as qforge quantize), fine-tune the fake-quantized graph, keep the best checkpoint by --val
// top-1 (the PTQ start included), export the QDQ model. --freeze-bn-after E > 0 trains the convs folded
// from Conv → BatchNormalization with batch statistics for E epochs (train/qat.h).
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/file_io.h"
#include "dataset_options.h"
#include "ir/model_files.h"
#include "ir/onnx_io.h"
#include "quant/quantize_pipeline.h"
#include "report/json.h"
#include "train/qat.h"

namespace qforge::cli {

namespace {

constexpr int64_t kDefaultFreezeBnAfter = 0;  // docs/qat.md, "BatchNormalization": why

struct QatCmdOptions {
  std::string model, out, val, preset = "int8";
  DatasetOptions data;
  std::string calib;
  int64_t calib_size = 512;
  int64_t freeze_bn_after = kDefaultFreezeBnAfter;
  bool per_tensor = false, lsq = false, json = false;
  std::vector<std::string> exclude;
  train::TrainConfig cfg;
};

constexpr int64_t kCalibBatch = 32;

quant::Recipe qat_recipe(const QatCmdOptions& o) {
  quant::Recipe r = quant::recipe_from_preset(o.preset);
  const bool integer_weights = r.weights.dtype == DType::s8 || r.weights.dtype == DType::u8 ||
                               r.weights.dtype == DType::s4 || r.weights.dtype == DType::u4;
  if ((r.mode != quant::QuantMode::static_ && r.mode != quant::QuantMode::weight_only) || !integer_weights)
    fail_input("--preset {}: QAT trains static or weight-only presets with integer weights (int8, w4a8, w4a16)",
               o.preset);
  if (o.per_tensor) {
    r.weights.granularity = quant::QGranularity::per_tensor;
    r.weights.group_size = 0;
  }
  for (const std::string& e : o.exclude)
    if (!e.empty()) r.exclude.push_back(e);
  r.calib_size = o.calib_size;
  quant::check_recipe(r, "(command line)");
  return r;
}

std::string fmt_epoch(const train::EpochStats& s, int64_t epochs) {
  std::string line = fmt::format("epoch {:>2}/{}  loss {:.4f}  train acc {:.2f}%  {:.0f} img/s  {:.1f} s", s.epoch,
                                 epochs, s.loss, 100 * s.accuracy, s.images_per_s, s.seconds);
  if (s.val_top1 >= 0) line += fmt::format("  val top-1 {:.2f}%", 100 * s.val_top1);
  return line;
}

}  // namespace

int cmd_qat(int argc, char** argv) {
  QatCmdOptions o;
  o.cfg.epochs = 3;
  o.cfg.lr = 0.005;
  o.cfg.optimizer = "sgd";
  o.cfg.schedule = "cosine";
  o.cfg.weight_decay = 0;
  CLI::App app{"Quantization-aware training: calibrate and quantize MODEL with a preset (as qforge quantize), "
               "fine-tune the fake-quantized graph on --data, export the best checkpoint as QDQ ONNX (runs in "
               "qforge and ONNX Runtime). BatchNormalization is folded into the export; --freeze-bn-after E trains "
               "it with batch statistics for the first E epochs (docs/qat.md).",
               "qforge qat"};
  app.add_option("model", o.model, "the FP32 ONNX model")->required();
  app.add_option("-o,--output", o.out, "the quantized model to write (.onnx)")->required();
  add_dataset_options(app, o.data);
  app.add_option("--val", o.val, "evaluate top-1 after each epoch and keep the best checkpoint");
  app.add_option("--calib", o.calib, "calibration data (default: the first --calib-size samples of --data)");
  app.add_option("--calib-size", o.calib_size, "calibration samples")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--preset", o.preset, "int8, w4a8 or w4a16 (see qforge quantize --help)")->capture_default_str();
  app.add_flag("--per-tensor", o.per_tensor, "one weight scale per tensor instead of per channel / group");
  app.add_option("--exclude", o.exclude, "node names or op types to leave in float (comma-separated)")->delimiter(',');
  app.add_flag("--lsq", o.lsq, "learned step size: train the scales (and activation zero points) too");
  app.add_option("--freeze-bn-after", o.freeze_bn_after,
                 "epochs in which BatchNormalization trains with batch statistics before its running statistics "
                 "are frozen (0: folded into the convs from the first step)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--epochs", o.cfg.epochs, "passes over the training set")->capture_default_str();
  app.add_option("--batch", o.cfg.batch, "samples per step")->capture_default_str();
  app.add_option("--lr", o.cfg.lr, "peak learning rate")->capture_default_str();
  app.add_option("--optimizer", o.cfg.optimizer, "sgd or adamw")->capture_default_str();
  app.add_option("--schedule", o.cfg.schedule, "cosine, onecycle or constant")->capture_default_str();
  app.add_option("--momentum", o.cfg.momentum, "sgd momentum")->capture_default_str();
  app.add_option("--weight-decay", o.cfg.weight_decay, "weight decay (not on biases and scales)")->capture_default_str();
  app.add_option("--crop-pad", o.cfg.augment.crop_pad, "augmentation: random crop after zero-padding (0: off)")
      ->capture_default_str();
  app.add_flag("--hflip", o.cfg.augment.hflip, "augmentation: random horizontal flip");
  app.add_option("--seed", o.cfg.seed, "seed for the data order and augmentation")->capture_default_str();
  int threads = 0;
  add_threads_option(app, threads);
  app.add_flag("--json", o.json, "print one JSON object on stdout (the progress goes to stderr)");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;
  o.cfg.threads = threads;
  if (o.data.spec.empty()) fail_input("--data is required");
  namespace fs = std::filesystem;
  if (same_file(o.model, o.out) || (fs::exists(o.model) && fs::weakly_canonical(o.out) == fs::weakly_canonical(o.model)))
    fail_input("-o {}: refusing to overwrite the input model", o.out);
  const quant::Recipe recipe = qat_recipe(o);
  const ir::Model fp32 = ir::load_onnx(o.model);
  std::unique_ptr<data::Dataset> ds = open_dataset(o.data);
  std::unique_ptr<data::Dataset> val, calib;
  auto open_like_data = [&](const std::string& spec) {
    DatasetOptions d = o.data;
    d.spec = spec;
    return open_dataset(d);
  };
  if (!o.val.empty()) val = open_like_data(o.val);
  if (!o.calib.empty()) calib = open_like_data(o.calib);
  train::check_trainable(fp32, *ds, o.cfg);  // also names an op without a backward rule
  if (val) train::check_trainable(fp32, *val, o.cfg);

  data::Dataset& cds = calib ? *calib : *ds;
  if (cds.size() == 0) fail_input("calibration set '{}' is empty", cds.describe());
  const int64_t ncal = std::min<int64_t>(recipe.calib_size, cds.size());
  quant::BatchSourceFactory factory = [&cds, ncal]() -> quant::BatchSource {
    auto pos = std::make_shared<int64_t>(0);
    return [&cds, ncal, pos]() -> std::vector<Tensor> {
      if (*pos >= ncal) return {};
      data::Batch b = cds.read(*pos, std::min(kCalibBatch, ncal - *pos));
      *pos += kCalibBatch;
      return {b.x};
    };
  };
  const int nthreads = threads > 0 ? threads : default_threads();
  std::fprintf(stderr, "qat %s: preset %s%s%s, calibrating on %lld samples of %s\n", o.model.c_str(),
               recipe.preset.c_str(), o.per_tensor ? " per-tensor" : "", o.lsq ? ", LSQ" : "",
               static_cast<long long>(ncal), cds.describe().c_str());
  const quant::PipelineResult ptq = quant::quantize_pipeline(fp32, recipe, &factory, nullptr, threads);
  double fp32_top1 = -1, ptq_top1 = -1;
  if (val) {
    fp32_top1 = train::evaluate_top1(fp32, *val, nthreads);
    ptq_top1 = train::evaluate_top1(ptq.result.model, *val, nthreads);
    std::fprintf(stderr, "start: FP32 top-1 %.2f%%, PTQ top-1 %.2f%% on %s\n", 100 * fp32_top1, 100 * ptq_top1,
                 val->describe().c_str());
  }
  const ir::Model folded = quant::fold_batch_norms(fp32);
  train::QatGraph g = train::qat_graph_from_qdq(
      ptq.result.model, &folded, recipe,
      {.lsq = o.lsq, .freeze_bn_after = o.freeze_bn_after, .fp32_with_bn = o.freeze_bn_after > 0 ? &fp32 : nullptr});
  std::fprintf(stderr, "training %s: %lld samples, %lld epochs, batch %lld, %s lr %.3g (%s), %lld fake-quant nodes, "
               "%s, %d threads\n",
               ds->describe().c_str(), static_cast<long long>(ds->size()), static_cast<long long>(o.cfg.epochs),
               static_cast<long long>(o.cfg.batch), o.cfg.optimizer.c_str(), o.cfg.lr, o.cfg.schedule.c_str(),
               static_cast<long long>(g.fake_quant_nodes),
               g.bn_folds.empty() ? "BatchNormalization folded"
                                  : fmt::format("{} BatchNormalization with batch statistics for {} epoch(s)",
                                                g.bn_folds.size(), o.freeze_bn_after).c_str(),
               nthreads);
  Progress bar("qat");
  train::QatResult r = train::qat_train(g, *ds, val.get(), o.cfg, ptq_top1, [&](const train::Progress& p) {
    if (!p.epoch_end) {
      bar.update(p.done, p.total,
                 fmt::format("  epoch {}/{}  loss {:.4f}  acc {:.2f}%  {:.0f} img/s", p.epoch, p.epochs, p.loss,
                             100 * p.accuracy, p.images_per_s));
      return;
    }
    bar.finish();
    std::fprintf(stderr, "%s\n", fmt_epoch(p.stats, p.epochs).c_str());
  });
  bar.finish();
  ir::Model& out = r.model;
  std::erase_if(out.metadata_props, [](const auto& kv) { return kv.first == "qforge.qat"; });
  out.metadata_props.emplace_back(
      "qforge.qat", fmt::format(R"({{"epochs":{},"best_epoch":{},"lsq":{},"freeze_bn_after":{},"data":"{}"}})",
                                o.cfg.epochs, r.best_epoch, o.lsq ? "true" : "false", o.freeze_bn_after,
                                ds->describe()));
  ir::write_model_file(o.out, ir::serialize_onnx(out), ir::model_files(o.model));
  if (r.stopped) {
    std::fprintf(stderr, "qforge qat: error: %s; wrote %s\n", r.stop_reason.c_str(), o.out.c_str());
    return 2;
  }
  std::fprintf(stderr, "wrote %s (best: %s%s) in %.1f s\n", o.out.c_str(),
               r.best_epoch == 0 ? "the PTQ start" : fmt::format("epoch {}", r.best_epoch).c_str(),
               r.best_top1 >= 0 ? fmt::format(", val top-1 {:.2f}%", 100 * r.best_top1).c_str() : "", r.seconds);
  if (o.json) {
    report::Json j;
    j["model"] = o.model;
    j["output"] = o.out;
    j["preset"] = recipe.preset;
    j["per_tensor"] = o.per_tensor;
    j["lsq"] = o.lsq;
    j["freeze_bn_after"] = o.freeze_bn_after;
    j["bn_trained"] = static_cast<int64_t>(g.bn_folds.size());
    if (val) {
      j["fp32_top1"] = fp32_top1;
      j["ptq_top1"] = ptq_top1;
      j["top1"] = r.best_top1;
    }
    j["best_epoch"] = r.best_epoch;
    j["epochs"] = report::epochs_json(r.epochs);
    j["seconds"] = r.seconds;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace qforge::cli
