// libFuzzer harness: calibration table bytes → reader → dump → read back (body: fuzz_targets.h).
#include "fuzz_targets.h"

using namespace qforge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ScratchFile scratch(".json");
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string& path = scratch.write(bytes);
  fuzz::expect_input_error_only([&] { fuzz::run_calib_table(path); });
  return 0;
}
