// libFuzzer harness: raw bytes → model → calibrate on two random samples → run → export (body: fuzz_targets.h).
#include "fuzz_targets.h"

using namespace qforge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_error_only([&] { fuzz::run_e2e(bytes); });
  return 0;
}
