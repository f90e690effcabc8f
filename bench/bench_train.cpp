// Training throughput of a bundled architecture (train::build_arch): forward + softmax
// cross-entropy + backward + AdamW step on Fashion-MNIST-shaped batches (N×1×28×28 uniform [0, 1]
// pixels, random labels 0..9, fixed seed), timed over --images images after --warmup batches.
// Prints one JSON object: images/s (wall clock), the mean step time, and the process CPU time of the
// timed steps (cpu_seconds, all threads together; a steadier figure on a loaded machine).
// bench/train_vs_torch.py runs it next to the identical PyTorch model.
//
// How to run:
//   cmake --build build --target bench_train
//   build/bench/bench_train --arch cnn|mobilenet|resnet [--batch 128] [--threads T] [--images N]
//                           [--warmup W] [--seed S]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "train/arch.h"
#include "train/optim.h"
#include "train/train_graph.h"

using namespace qforge;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string arch = "cnn";
  int64_t batch = 128, images = 2560, warmup = 2;
  int threads = 1;
  uint64_t seed = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_train --arch cnn|mobilenet|resnet [--batch B] [--threads T] [--images N]\n"
               "                   [--warmup W] [--seed S]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--arch") o.arch = next();
    else if (a == "--batch") o.batch = std::stoll(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--images") o.images = std::stoll(next());
    else if (a == "--warmup") o.warmup = std::stoll(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else usage();
  }
  if (o.batch < 1 || o.threads < 1 || o.images < 1 || o.warmup < 0) usage();
  return o;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Batch {
  Tensor x;
  std::vector<int64_t> labels;
};

Batch make_batch(int64_t n, std::mt19937_64& rng) {
  Batch b{Tensor(DType::f32, {n, 1, 28, 28}), std::vector<int64_t>(static_cast<size_t>(n))};
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (float& v : b.x.span<float>()) v = u(rng);
  for (auto& l : b.labels) l = static_cast<int64_t>(rng() % 10);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    set_num_threads(o.threads);
    train::ArchOptions ao;
    ao.seed = o.seed;
    train::TrainGraph tg(train::build_arch(o.arch, ao), {.threads = o.threads});
    train::AdamW opt({.weight_decay = 0.0005});
    std::mt19937_64 rng(o.seed + 1);
    std::vector<Batch> batches;  // a few distinct batches, cycled (data loading is not timed)
    for (int i = 0; i < 4; ++i) batches.push_back(make_batch(o.batch, rng));
    size_t next = 0;
    auto step = [&] {
      const Batch& b = batches[next++ % batches.size()];
      const train::StepResult r = tg.forward_backward(b.x, b.labels);
      opt.step(tg.parameters(), 0.003);
      return r.loss;
    };
    for (int64_t i = 0; i < o.warmup; ++i) step();
    const int64_t steps = (o.images + o.batch - 1) / o.batch;
    double loss = 0;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    for (int64_t i = 0; i < steps; ++i) loss = step();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - c0;
    const double imgs = static_cast<double>(steps * o.batch);
    std::printf(
        "{\"arch\": \"%s\", \"batch\": %lld, \"threads\": %d, \"isa\": \"%s\", \"images\": %.0f, \"seconds\": %.4f, "
        "\"images_per_s\": %.2f, \"ms_per_step\": %.3f, \"cpu_seconds\": %.4f, \"last_loss\": %.5f}\n",
        o.arch.c_str(), static_cast<long long>(o.batch), o.threads, std::string(isa_name(active_isa())).c_str(), imgs,
        s, imgs / s, 1e3 * s / static_cast<double>(steps), cpu, loss);
  } catch (const InputError& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 2;
  }
  return 0;
}
