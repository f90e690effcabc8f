#!/usr/bin/env bash
# README command (a): install what qforge needs on Debian 12 (as root; skipped when present), build
# the qforge CLI into build/ and run its demo. Safe to run again: it installs and rebuilds only what
# is missing or changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deps.sh
source "$root/scripts/deps.sh"

jobs="${QFORGE_JOBS:-2}"
qforge_install_deps
qforge_configure "$root" "$root/build"
cmake --build "$root/build" -j"$jobs" --target qforge_cli
qforge_log "built $root/build/qforge; running: build/qforge demo"
exec "$root/build/qforge" demo
