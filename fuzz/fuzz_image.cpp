// libFuzzer harness: raw bytes → PNG/JPEG decoding → preprocessing pipeline (body: fuzz_targets.h).
#include "fuzz_targets.h"

using namespace qforge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_error_only([&] { fuzz::run_image(bytes, (size & 1) != 0); });
  return 0;
}
