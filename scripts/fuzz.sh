#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cpp; clang, address + undefined sanitizers, coverage) and
# runs each on its committed seed corpus fuzz/corpus/<target>/ for a bounded time. New inputs go to a
# scratch corpus under the build folder; the committed seeds are only read.
#   FUZZ_SECONDS    seconds per target (default 30)
#   FUZZ_BUILD_DIR  build folder (default build-fuzz; scripts/test.sh passes build-asan)
#   FUZZ_TARGETS    space-separated subset (default: all seven)
#   QFORGE_JOBS     build jobs (default 2)
# Exit 1 when a target crashes, leaks, times out, or goes over the memory cap; the input that did it
# is kept as <build>/fuzz-work/<target>/crash-* (or leak-*, timeout-*, oom-*) and printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-30}"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
[[ "$build" = /* ]] || build="$root/$build"
targets=(${FUZZ_TARGETS:-fuzz_onnx_load fuzz_idx fuzz_npy fuzz_image fuzz_calib_table fuzz_recipe fuzz_e2e})
jobs="${QFORGE_JOBS:-2}"

CXX="${CXX:-clang++}" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DQFORGE_FUZZ=ON \
  -DQFORGE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

# The harness's memory cap: libFuzzer stops on RSS over 2 GiB or any single malloc over 1 GiB.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus"
  log="$work/log.txt"
  rc=0
  "$build/fuzz/$t" "$work/corpus" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$work/" \
    >"$log" 2>&1 || rc=$?
  runs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log")"
  speed="$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")"
  corpus="$(find "$work/corpus" -type f | wc -l)"
  if ((rc == 0)); then
    printf '[fuzz] %-18s ok    %10s runs in %ss (%s/s), %s new corpus inputs\n' "$t" "${runs:-?}" "$seconds" \
      "${speed:-?}" "$corpus"
  else
    status=1
    printf '[fuzz] %-18s FAIL  exit %d after %s runs; log %s\n' "$t" "$rc" "${runs:-?}" "$log"
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==|terminate|runtime error' "$log" | head -20 || true
  fi
done
exit "$status"
