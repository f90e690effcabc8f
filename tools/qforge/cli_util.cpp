#include "cli_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace qforge::cli {

namespace fs = std::filesystem;

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "%s: error: %s (see '%s --help')\n", app.get_name().c_str(), msg.c_str(),
                 app.get_name().c_str());
    return 2;
  }
  return std::nullopt;
}

void add_threads_option(CLI::App& app, int& threads) {
  app.add_option("--threads", threads, "threads the kernels use (0 = all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
}

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done, int64_t total, const std::string& extra) {
  if (!enabled_ || total <= 0) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld%s\033[K", label_.c_str(), bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), extra.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

std::string find_bundled_model(const std::string& file) {
  std::vector<std::string> looked;
  if (const char* env = std::getenv("QFORGE_MODELS_DIR"); env && *env) {
    fs::path p = fs::path(env) / file;
    if (fs::is_regular_file(p)) return p.string();
    fail_input("{}: bundled model not found (QFORGE_MODELS_DIR is set to '{}')", p.string(), env);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      fs::path p = dir / "models" / file;
      if (fs::is_regular_file(p, ec)) return p.string();
      looked.push_back((dir / "models").string());
      if (dir == dir.root_path()) break;
    }
  }
#ifdef QFORGE_SOURCE_DIR
  fs::path p = fs::path(QFORGE_SOURCE_DIR) / "models" / file;
  if (fs::is_regular_file(p, ec)) return p.string();
  looked.push_back((fs::path(QFORGE_SOURCE_DIR) / "models").string());
#endif
  std::string where;
  for (const auto& l : looked) where += (where.empty() ? "" : ", ") + l;
  fail_input("{}: bundled model not found (looked in {}); set QFORGE_MODELS_DIR to its folder", file,
             where.empty() ? "no folder" : where);
}

std::string group_digits(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return v < 0 ? "-" + s : s;
}

}  // namespace qforge::cli
