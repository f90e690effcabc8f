#include "core/error.h"

namespace qforge {

void fail_check(const char* file, int line, const char* expr, const std::string& msg) {
  std::string m = fmt::format("{}:{}: check failed: {}", file, line, expr);
  if (!msg.empty()) m += " (" + msg + ")";
  throw InternalError(m);
}

}  // namespace qforge
