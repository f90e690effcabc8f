// FP32 model latency with runtime::Session: loads MODEL, feeds random (or given) inputs at the given
// batch (the first axis of every input whose first dim is symbolic or unknown), runs warmup + timed
// iterations on one thread count and prints one JSON object with the latencies (ms).
//
//   bench_fp32 MODEL [--batch B] [--threads T] [--warmup W] [--iters N] [--no-optimize]
//              [--input-raw FILE] [--output-raw FILE] [--profile | --profile-nodes]
//
// --input-raw: f32 values of the first input (C order); --output-raw: writes the first output's f32
// values after the last run (for output checks against ONNX Runtime); --profile: adds per-op-type
// time (median ms per run, from the value hook's timestamps) to the JSON; --profile-nodes: per node.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "ir/onnx_io.h"
#include "runtime/session.h"

using namespace qforge;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model, input_raw, output_raw;
  int64_t batch = 1;
  int threads = 1, warmup = 10, iters = 50;
  bool optimize = true, profile = false, profile_nodes = false;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_fp32 MODEL [--batch B] [--threads T] [--warmup W] [--iters N] [--no-optimize]\n"
               "                  [--input-raw FILE] [--output-raw FILE] [--profile | --profile-nodes]\n");
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
    if (a == "--batch") o.batch = std::stoll(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--warmup") o.warmup = std::stoi(next());
    else if (a == "--iters") o.iters = std::stoi(next());
    else if (a == "--no-optimize") o.optimize = false;
    else if (a == "--profile") o.profile = true;
    else if (a == "--profile-nodes") o.profile = o.profile_nodes = true;
    else if (a == "--input-raw") o.input_raw = next();
    else if (a == "--output-raw") o.output_raw = next();
    else if (a.rfind("--", 0) == 0 || !o.model.empty()) usage();
    else o.model = a;
  }
  if (o.model.empty() || o.batch < 1 || o.threads < 1 || o.iters < 1 || o.warmup < 0) usage();
  return o;
}

Tensor make_input(const ir::ValueInfo& v, int64_t batch, uint32_t seed, const std::string& raw) {
  if (!v.has_shape) fail_input("input '{}' has no shape in the model", v.name);
  Shape s;
  for (size_t d = 0; d < v.dims.size(); ++d) {
    if (v.dims[d].is_known()) s.push_back(d == 0 && v.dims[d].value == 1 ? batch : v.dims[d].value);
    else if (d == 0) s.push_back(batch);
    else fail_input("input '{}': axis {} is symbolic; only the batch axis may be", v.name, d);
  }
  if (v.dtype != DType::f32) fail_input("input '{}' is {}, the benchmark feeds f32", v.name, dtype_name(v.dtype));
  Tensor t(DType::f32, s);
  if (!raw.empty()) {
    std::ifstream f(raw, std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes())))
      fail_input("{}: fewer than {} bytes", raw, t.nbytes());
    return t;
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& x : t.span<float>()) x = u(rng);
  return t;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    set_num_threads(o.threads);
    const ir::Model model = ir::load_onnx(o.model);
    runtime::SessionOptions so;
    so.threads = o.threads;
    so.optimize = o.optimize;
    runtime::Session session(model, so);
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < session.inputs().size(); ++i) {
      const ir::ValueInfo& v = session.inputs()[i];
      if (session.graph().initializer(v.name)) continue;
      inputs.push_back(make_input(v, o.batch, static_cast<uint32_t>(1234 + i), i == 0 ? o.input_raw : ""));
    }
    // Per op type time from the hook's timestamps: each node's outputs arrive right after it ran.
    std::map<std::string, std::string> op_of;
    for (const auto& n : session.graph().nodes)
      for (const auto& out : n.outputs)
        op_of[out] = (n.domain.empty() ? n.op_type : n.domain + "." + n.op_type) + (o.profile_nodes ? " " + n.name : "");
    std::map<std::string, double> op_ms;                 // this run
    std::map<std::string, std::vector<double>> op_runs;  // per run
    Clock::time_point last;
    bool timing_ops = false;
    if (o.profile)
      session.set_value_hook([&](const std::string& name, const Tensor&) {
        const auto now = Clock::now();
        auto it = op_of.find(name);
        if (timing_ops && it != op_of.end())
          op_ms[it->second] += std::chrono::duration<double, std::milli>(now - last).count();
        last = Clock::now();
      });
    std::vector<Tensor> outs;
    for (int i = 0; i < o.warmup; ++i) outs = session.run(inputs);
    std::vector<double> ms;
    for (int i = 0; i < o.iters; ++i) {
      timing_ops = o.profile;
      last = Clock::now();
      const auto t0 = Clock::now();
      outs = session.run(inputs);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      for (auto& [op, t] : op_ms) op_runs[op].push_back(t);
      op_ms.clear();
    }
    if (!o.output_raw.empty()) {
      std::ofstream f(o.output_raw, std::ios::binary);
      f.write(reinterpret_cast<const char*>(outs[0].raw()), static_cast<std::streamsize>(outs[0].nbytes()));
    }
    std::printf("{\"model\": \"%s\", \"batch\": %lld, \"threads\": %d, \"isa\": \"%s\", \"optimize\": %s, "
                "\"iters\": %d, \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"min_ms\": %.4f, \"latencies_ms\": [",
                o.model.c_str(), static_cast<long long>(o.batch), o.threads, std::string(isa_name(active_isa())).c_str(),
                o.optimize ? "true" : "false", o.iters, percentile(ms, 0.5), percentile(ms, 0.9),
                *std::min_element(ms.begin(), ms.end()));
    for (size_t i = 0; i < ms.size(); ++i) std::printf("%s%.4f", i ? ", " : "", ms[i]);
    std::printf("]");
    if (o.profile) {
      std::printf(", \"op_p50_ms\": {");
      bool first = true;
      for (const auto& [op, t] : op_runs) {
        std::printf("%s\"%s\": %.4f", first ? "" : ", ", op.c_str(), percentile(t, 0.5));
        first = false;
      }
      std::printf("}");
    }
    std::printf("}\n");
    return 0;
  } catch (const InputError& e) {
    std::fprintf(stderr, "bench_fp32: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fp32: internal error: %s\n", e.what());
    return 1;
  }
}
