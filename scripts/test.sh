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
