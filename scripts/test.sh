#!/usr/bin/env bash
# README command (b), also what CI runs (.ci/run): install what is missing (same list as setup.sh),
# build everything into build/ and run the whole test suite with ctest — the C++ unit tests, the CLI
# tests and the ONNX Runtime oracle tests (which create their own Python virtual environment).
# Non-interactive: reads nothing from stdin.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deps.sh
source "$root/scripts/deps.sh"

jobs="${QFORGE_JOBS:-2}"
qforge_install_deps
qforge_configure "$root" "$root/build"
cmake --build "$root/build" -j"$jobs"
cd "$root/build"
ctest --output-on-failure -j"$jobs" </dev/null

# Hardening (issue 7): the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (zero
# reports: any report aborts the run), then a short bounded pass of every fuzzer. One instrumented
# build folder, build-asan, serves both (QFORGE_FUZZ=ON implies address,undefined). It roughly doubles
# the build time (docs/robustness.md, "Cost in CI"); QFORGE_CI_HARDENING=0 skips it.
if [[ "${QFORGE_CI_HARDENING:-1}" != 0 ]]; then
  qforge_log "sanitizer build and fuzzers (build-asan)"
  CXX="${CXX:-clang++}" cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Release -DQFORGE_FUZZ=ON \
    -DQFORGE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$root/build-asan" -j"$jobs" --target qforge_tests qforge_cli qforge_fuzzers
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$root/build-asan/tests/qforge_tests" --gtest_brief=1 </dev/null
  FUZZ_BUILD_DIR="$root/build-asan" FUZZ_SECONDS="${QFORGE_CI_FUZZ_SECONDS:-10}" bash "$root/scripts/fuzz.sh" </dev/null
fi
