// qforge bench MODEL [MODEL2] [--batch B] [--threads T] [--warmup W] [--iters N] [--no-lower] [--json]
// Latency percentiles, throughput and peak memory of one model, or of two measured in the same run
// with their iterations interleaved (A, B, A, B, ...) so both see the same machine load, and the
// ratio. Inputs are random data of each model's input shapes with the first (batch) dimension set
// to B. Nodes that run in float inside a quantized model (fallbacks) are listed.
//
// Peak memory (peak_rss_bytes): the process's resident-set high-water mark (VmHWM in
// /proc/self/status) while only that model is loaded — session creation (weight packing) plus its
// warm-up runs — measured per model in a first phase: the high-water mark is reset before each
// model by writing 5 to /proc/self/clear_refs, and the model's session is destroyed afterwards, so
// each figure is "this process with this one model", not the sum of both. Where the reset is not
// permitted the figure is the process's getrusage(ru_maxrss) (monotonic: the second model's figure
// then includes the first's peak); "peak_rss_method" says which was used.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "ir/onnx_io.h"
#include "report/json.h"
#include "runtime/session.h"

namespace qforge::cli {

namespace {

struct BenchOptions {
  std::vector<std::string> models;
  int batch = 1, threads = 0, warmup = 5, iters = 50;
  bool no_lower = false, json = false;
};

struct ModelBench {
  std::string path;
  ir::Model model;
  std::vector<Tensor> inputs;
  std::unique_ptr<runtime::Session> session;
  std::vector<double> ms;
  int64_t peak_rss = 0;
  std::vector<runtime::LoweringFallback> fallbacks;
  int lowered = 0;
};

int64_t status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, n, key) == 0) return std::stoll(line.substr(n + 1));
  return -1;
}

bool reset_hwm() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

int64_t peak_rss_bytes(bool reset_worked) {
  if (reset_worked) {
    const int64_t kib = status_kib("VmHWM:");
    if (kib >= 0) return kib * 1024;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

std::vector<Tensor> random_inputs(const runtime::Session& s, const std::string& path, int batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<Tensor> out;
  for (const auto& v : s.inputs()) {
    if (s.graph().initializer(v.name)) continue;
    if (!v.has_shape) fail_input("{}: input '{}' has no shape; bench needs one", path, v.name);
    Shape shape;
    for (size_t d = 0; d < v.dims.size(); ++d) {
      if (d == 0) shape.push_back(batch);
      else if (v.dims[d].is_known()) shape.push_back(v.dims[d].value);
      else fail_input("{}: input '{}' dimension {} is not fixed; bench sets only the batch dimension", path, v.name, d);
    }
    if (v.dtype != DType::f32 && v.dtype != DType::undefined)
      fail_input("{}: input '{}' is {}; bench feeds f32 inputs only", path, v.name, dtype_name(v.dtype));
    Tensor t(DType::f32, shape);
    for (auto& x : t.span<float>()) x = nd(rng);
    out.push_back(std::move(t));
  }
  return out;
}

double run_ms(ModelBench& b) {
  const auto t0 = std::chrono::steady_clock::now();
  b.session->run(b.inputs);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  const size_t n = sorted.size();
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  return sorted[std::clamp<size_t>(rank, 1, n) - 1];
}

runtime::SessionOptions session_options(const BenchOptions& o) {
  runtime::SessionOptions so;
  so.threads = o.threads;
  so.lower_qdq = !o.no_lower;
  return so;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  BenchOptions o;
  CLI::App app{"Measure latency (p50/p90/p99), throughput and peak memory of one model, or of two side by side "
               "(interleaved in one run, with the ratio).",
               "qforge bench"};
  app.add_option("models", o.models, "MODEL [MODEL2]: ONNX models")->required()->expected(1, 2);
  app.add_option("--batch", o.batch, "batch size (the inputs' first dimension)")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  add_threads_option(app, o.threads);
  app.add_option("--warmup", o.warmup, "untimed runs per model first")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app.add_option("--iters", o.iters, "timed runs per model")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_flag("--no-lower", o.no_lower, "run QDQ models without the integer lowering (DQ → float op → Q)");
  app.add_flag("--json", o.json, "print one JSON object on stdout");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;

  std::vector<ModelBench> benches(o.models.size());
  bool reset_ok = true;
  // Phase 1, one model at a time: load, plan, warm up; its own memory high-water mark.
  for (size_t i = 0; i < benches.size(); ++i) {
    ModelBench& b = benches[i];
    b.path = o.models[i];
    b.model = ir::load_onnx(b.path);
    reset_ok = reset_hwm() && reset_ok;
    b.session = std::make_unique<runtime::Session>(b.model, session_options(o));
    b.inputs = random_inputs(*b.session, b.path, o.batch, 1234 + static_cast<uint32_t>(i));
    b.fallbacks = b.session->fallbacks();
    b.lowered = b.session->lowered_nodes();
    for (int w = 0; w < std::max(o.warmup, 1); ++w) run_ms(b);
    b.peak_rss = peak_rss_bytes(reset_ok);
    b.session.reset();
  }
  // Phase 2: both sessions alive, timed runs interleaved.
  for (auto& b : benches) {
    b.session = std::make_unique<runtime::Session>(b.model, session_options(o));
    for (int w = 0; w < o.warmup; ++w) run_ms(b);
  }
  for (int it = 0; it < o.iters; ++it)
    for (auto& b : benches) b.ms.push_back(run_ms(b));

  report::Json j;
  j["batch"] = o.batch;
  j["threads"] = benches[0].session->threads();
  j["iters"] = o.iters;
  j["peak_rss_method"] = reset_ok ? "VmHWM after clear_refs reset, per model alone" : "getrusage ru_maxrss (cumulative)";
  j["results"] = report::Json::array();
  std::string text;
  std::vector<double> p50s;
  for (auto& b : benches) {
    std::vector<double> s = b.ms;
    std::sort(s.begin(), s.end());
    double sum = 0;
    for (double v : s) sum += v;
    const double mean = sum / static_cast<double>(s.size());
    const double p50 = percentile(s, 50), p90 = percentile(s, 90), p99 = percentile(s, 99);
    const double throughput = o.batch * 1000.0 / mean;
    p50s.push_back(p50);
    report::Json r;
    r["model"] = b.path;
    r["p50_ms"] = p50;
    r["p90_ms"] = p90;
    r["p99_ms"] = p99;
    r["mean_ms"] = mean;
    r["throughput"] = throughput;
    r["peak_rss_bytes"] = b.peak_rss;
    r["lowered_nodes"] = b.lowered;
    r["fallbacks"] = report::Json::array();
    for (const auto& f : b.fallbacks) r["fallbacks"].push_back({{"node", f.node}, {"op_type", f.op_type}, {"reason", f.reason}});
    j["results"].push_back(r);
    text += fmt::format("{}\n  latency ms  p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  (mean {:.3f}, {} runs)\n"
                        "  throughput  {:.1f} samples/s   peak RSS {:.1f} MiB   integer nodes {}\n",
                        b.path, p50, p90, p99, mean, s.size(), throughput, b.peak_rss / 1048576.0, b.lowered);
    if (!b.fallbacks.empty()) {
      text += fmt::format("  {} node(s) run in float (fallback):\n", b.fallbacks.size());
      for (const auto& f : b.fallbacks) text += fmt::format("    {} ({}): {}\n", f.node, f.op_type, f.reason);
    }
  }
  if (benches.size() == 2) {
    const double ratio = p50s[0] / p50s[1];
    j["ratio_p50"] = ratio;
    text += fmt::format("ratio (p50 of {} / p50 of {}): {:.2f}x\n", benches[0].path, benches[1].path, ratio);
  }
  text = fmt::format("batch {}, threads {}\n", o.batch, benches[0].session->threads()) + text;
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    std::fputs(text.c_str(), stderr);
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return 0;
}

}  // namespace qforge::cli
