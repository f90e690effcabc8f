// qforge train (--arch cnn|mobilenet|resnet | --model MODEL) --data SPEC -o OUT [--epochs N] [--seed S]
//              [--batch B] [--lr LR] [--optimizer adamw|sgd] [--schedule onecycle|cosine|constant]
//              [--weight-decay WD] [--momentum M] [--crop-pad P] [--hflip] [--val SPEC] [--threads T] [--json]
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli_util.h"
#include "commands.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/file_io.h"
#include "dataset_options.h"
#include "ir/onnx_io.h"
#include "report/json.h"
#include "train/arch.h"
#include "train/trainer.h"

namespace qforge::cli {

namespace {

struct TrainCmdOptions {
  std::string arch, model, out;
  DatasetOptions data;
  std::string val;
  train::TrainConfig cfg;
  int64_t classes = 0;  // 0: from the dataset
  bool json = false;
};

std::string fmt_epoch(const train::EpochStats& s, int64_t epochs) {
  std::string line = fmt::format("epoch {:>2}/{}  loss {:.4f}  train acc {:.2f}%  {:.0f} img/s  {:.1f} s", s.epoch,
                                 epochs, s.loss, 100 * s.accuracy, s.images_per_s, s.seconds);
  if (s.val_top1 >= 0) line += fmt::format("  val top-1 {:.2f}%", 100 * s.val_top1);
  return line;
}

}  // namespace

int cmd_train(int argc, char** argv) {
  TrainCmdOptions o;
  CLI::App app{"Train a classifier on the ONNX graph and export it as a float32 ONNX model: one of the bundled "
               "architectures from scratch (--arch), or an imported model (--model, fine-tuning). Deterministic "
               "for a given --seed and --threads.",
               "qforge train"};
  auto* arch = app.add_option("--arch", o.arch, "build this architecture: cnn, mobilenet or resnet");
  app.add_option("--model", o.model, "fine-tune this ONNX model instead")->excludes(arch);
  app.add_option("-o,--output", o.out, "the trained model (.onnx)")->required();
  add_dataset_options(app, o.data);
  app.add_option("--val", o.val, "evaluate top-1 on this dataset after each epoch (same preprocessing as --data)");
  app.add_option("--epochs", o.cfg.epochs, "passes over the training set")->capture_default_str();
  app.add_option("--batch", o.cfg.batch, "samples per step")->capture_default_str();
  app.add_option("--lr", o.cfg.lr, "peak learning rate")->capture_default_str();
  app.add_option("--optimizer", o.cfg.optimizer, "adamw or sgd")->capture_default_str();
  app.add_option("--schedule", o.cfg.schedule, "learning-rate schedule: onecycle, cosine or constant")
      ->capture_default_str();
  app.add_option("--weight-decay", o.cfg.weight_decay, "decoupled (adamw) or L2 (sgd) weight decay, not on "
                                                       "biases and BatchNorm")
      ->capture_default_str();
  app.add_option("--momentum", o.cfg.momentum, "sgd momentum")->capture_default_str();
  app.add_option("--seed", o.cfg.seed, "seed for the weights, data order and augmentation")->capture_default_str();
  app.add_option("--crop-pad", o.cfg.augment.crop_pad, "augmentation: random crop after zero-padding by this many "
                                                       "pixels (0: off)")
      ->capture_default_str();
  app.add_flag("--hflip", o.cfg.augment.hflip, "augmentation: random horizontal flip");
  app.add_option("--classes", o.classes, "--arch: number of classes (default: the dataset's)");
  int threads = 0;
  add_threads_option(app, threads);
  app.add_flag("--json", o.json, "print one JSON object on stdout (the progress goes to stderr)");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;
  o.cfg.threads = threads;
  if (o.arch.empty() == o.model.empty()) fail_input("give either --arch NAME or --model MODEL");
  if (o.data.spec.empty()) fail_input("--data is required");
  if (!o.model.empty() && same_file(o.model, o.out))
    fail_input("-o {}: refusing to overwrite the input model", o.out);

  std::unique_ptr<data::Dataset> ds = open_dataset(o.data);
  std::unique_ptr<data::Dataset> val;
  if (!o.val.empty()) {
    DatasetOptions vo = o.data;
    vo.spec = o.val;
    val = open_dataset(vo);
  }
  ir::Model model;
  if (!o.arch.empty()) {
    const Shape s = ds->sample_shape();
    if (s.size() != 3) fail_input("{}: --arch needs image samples [C, H, W], got {}", ds->describe(), shape_str(s));
    train::ArchOptions ao;
    ao.channels = s[0], ao.height = s[1], ao.width = s[2];
    if (o.classes < 0) fail_input("--classes must be positive, got {}", o.classes);
    ao.classes = o.classes > 0 ? o.classes : ds->num_classes();
    ao.seed = o.cfg.seed;
    model = train::build_arch(o.arch, ao);
  } else {
    model = ir::load_onnx(o.model);
  }
  train::check_trainable(model, *ds, o.cfg);
  if (val) train::check_trainable(model, *val, o.cfg);

  const std::string what = o.arch.empty() ? o.model : "--arch " + o.arch;
  std::fprintf(stderr, "training %s on %s: %lld samples, %lld epochs, batch %lld, %s lr %.3g (%s), %d threads\n",
               what.c_str(), ds->describe().c_str(), static_cast<long long>(ds->size()),
               static_cast<long long>(o.cfg.epochs), static_cast<long long>(o.cfg.batch), o.cfg.optimizer.c_str(),
               o.cfg.lr, o.cfg.schedule.c_str(), threads > 0 ? threads : default_threads());
  Progress bar("train");
  train::TrainResult r = train::train_model(model, *ds, val.get(), o.cfg, [&](const train::Progress& p) {
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
  r.model.doc_string = fmt::format("trained by qforge train ({}, {} epochs, seed {})", what, o.cfg.epochs, o.cfg.seed);
  ir::save_onnx(r.model, o.out, {}, o.model);
  if (r.stopped) {
    std::fprintf(stderr, "qforge train: error: %s; wrote %s\n", r.stop_reason.c_str(), o.out.c_str());
    return 2;
  }
  std::fprintf(stderr, "wrote %s (%s bytes) in %.1f s\n", o.out.c_str(),
               group_digits(static_cast<int64_t>(std::filesystem::file_size(o.out))).c_str(), r.seconds);
  if (o.json) {
    report::Json j;
    j["model"] = o.out;
    j["source"] = what;
    j["epochs"] = report::epochs_json(r.epochs);
    j["seconds"] = r.seconds;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace qforge::cli
