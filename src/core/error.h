// Two tiers of error (STYLE §6), never mixed:
//  - QF_CHECK: programmer errors and kernel preconditions; always on; throws InternalError (exit 1)
//    carrying file, line and the failed expression.
//  - InputError: untrusted input (model bytes, data files, CLI arguments, shapes read from a model);
//    the CLI turns it into exit code 2. Message form:
//    "failed to import node 'conv1' (Conv): kernel_shape has 3 dims, expected 2".
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace qforge {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& what) : std::logic_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] void fail_check(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace qforge

#define QF_CHECK(cond, ...)                                                          \
  do {                                                                               \
    if (!(cond)) ::qforge::fail_check(__FILE__, __LINE__, #cond, std::string{__VA_ARGS__}); \
  } while (0)
