#!/usr/bin/env bash
# Regenerates the committed seed corpus fuzz/corpus/<target>/ with fuzz_make_corpus (built by
# scripts/fuzz.sh or any build with -DQFORGE_FUZZ=ON). Usage: fuzz/make_corpus.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-fuzz}"
"$build/fuzz/fuzz_make_corpus" "$root/fuzz/corpus"
