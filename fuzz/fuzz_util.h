// Shared by the libFuzzer harnesses (fuzz/fuzz_*.cpp, built with -DQFORGE_FUZZ=ON).
// Contract of every harness: untrusted bytes end in a result or one InputError (CLI exit 2). Any
// other exception (InternalError from QF_CHECK, std::out_of_range, ...) escapes the harness and
// libFuzzer reports it as a crash, like a sanitizer report, a timeout or a malloc over the limit.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace qforge::fuzz {

// Runs f; an InputError is the expected outcome for malformed input and is swallowed.
template <typename F>
void expect_input_error_only(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  }
}

// A per-process scratch file for loaders that only read from a path (IDX, calibration tables,
// recipes). Lives in $TMPDIR, else in /dev/shm (memory: no disk write per input), else in /tmp;
// rewritten for every input.
class ScratchFile {
 public:
  explicit ScratchFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string d = dir && *dir ? dir : ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = d + "/qforge-fuzz-" + std::to_string(::getpid()) + suffix;
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& write(std::string_view bytes) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (w <= 0) std::abort();
      done += static_cast<size_t>(w);
    }
    ::close(fd);
    return path_;
  }

 private:
  std::string path_;
};

// Elements a harness lets one tensor have before it skips running a model: the harness's memory cap
// (libFuzzer's -malloc_limit_mb / -rss_limit_mb catch what slips through as a crash).
constexpr int64_t kMaxRunElements = int64_t{1} << 20;

// True when every value whose shape is fully known has at most kMaxRunElements elements, and the
// graph has no op that loops a data-dependent number of times.
inline bool within_run_budget(const ir::Graph& g) {
  auto small = [](const ir::ValueInfo& v) {
    if (!v.has_shape) return true;
    int64_t n = 1;
    for (const auto& d : v.dims) {
      if (!d.is_known()) return true;
      if (d.value > kMaxRunElements) return false;
      n *= d.value;
      if (n > kMaxRunElements) return false;
    }
    return true;
  };
  for (const auto& v : g.value_info)
    if (!small(v)) return false;
  for (const auto& v : g.outputs)
    if (!small(v)) return false;
  for (const auto& [name, t] : g.initializers)
    if (t.numel() > kMaxRunElements) return false;
  for (const auto& n : g.nodes)
    if (n.op_type == "Loop" || n.op_type == "Scan") return false;
  return true;
}

}  // namespace qforge::fuzz
