#!/usr/bin/env bash
# INT8 latency of qforge's integer runtime vs ONNX Runtime on the SAME QDQ models (issue 5): quantizes
# the bundled models with `qforge quantize` (int8 preset, 512 calibration images), then times each in
# both runtimes, interleaved, at batch 1 and 32 (bench/fp32_vs_ort.py does the timing: its qforge side,
# bench_fp32, lowers QDQ models onto the integer kernels like every qforge Session).
# Usage: bench/int8_vs_ort.sh [QFORGE_BIN] [BENCH_FP32_BIN]   Environment: THREADS (default 1), PYTHON.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
qf=${1:-$root/build/qforge}
bench=${2:-$root/build/bench/bench_fp32}
py=${PYTHON:-$root/build/oracle-venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names=()
for m in cnn mobilenet resnet; do
  "$qf" quantize "$root/models/fmnist_$m.onnx" -o "$work/fmnist_$m.int8.onnx" --calib fashion-mnist:train >/dev/null 2>&1
  names+=("fmnist_$m.int8")
done
"$py" "$root/bench/fp32_vs_ort.py" --bench "$bench" --models "$work" --only "${names[@]}" --threads "${THREADS:-1}"
