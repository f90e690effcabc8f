#!/usr/bin/env bash
# FP32 vs INT8 (QDQ lowered to the integer kernels) side by side with `qforge bench`, batch 1 and 32.
# Usage: bench/int8_vs_fp32.sh QFORGE_BIN [FP32.onnx:INT8.onnx ...]
#   Without pairs: the small conv nets of tests/oracle/make_qdq_models.py (FP32 and their
#   quantize_static QDQ twins, made with /work/main/.venv or $PYTHON).
#   With the bundled models: bench/int8_vs_fp32.sh build/qforge models/fmnist_cnn.onnx:models/fmnist_cnn.int8.onnx ...
# Environment: THREADS (default 2), ITERS (default 30), WARMUP (default 5), BATCHES (default "1 32").
# Prints one markdown table: per pair and batch, FP32 and INT8 p50 latency, the speedup (FP32 p50 /
# INT8 p50, both measured in the same run, interleaved) and the INT8 model's fallback count.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  sed -n 2,10p "$0" >&2
  exit 2
fi
QFORGE=$(realpath "$1")
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
THREADS=${THREADS:-2} ITERS=${ITERS:-30} WARMUP=${WARMUP:-5} BATCHES=${BATCHES:-"1 32"}

pairs=("$@")
if [[ ${#pairs[@]} -eq 0 ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$PYTHON" "$REPO/tests/oracle/make_qdq_models.py" "$work" >/dev/null 2>&1
  for n in cnn mobile resnet; do pairs+=("$work/$n.fp32.onnx:$work/$n.qdq.onnx"); done
fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), threads $THREADS, iters $ITERS"
echo
echo "| model | batch | FP32 p50 ms | INT8 p50 ms | speedup | INT8 fallbacks |"
echo "| --- | --- | --- | --- | --- | --- |"
for pair in "${pairs[@]}"; do
  fp32=${pair%%:*} int8=${pair#*:}
  for b in $BATCHES; do
    json=$("$QFORGE" bench "$fp32" "$int8" --batch "$b" --threads "$THREADS" --iters "$ITERS" --warmup "$WARMUP" --json 2>/dev/null)
    "$PYTHON" - "$json" "$(basename "$int8")" "$b" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
a, q = j["results"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {a['p50_ms']:.3f} | {q['p50_ms']:.3f} | {a['p50_ms'] / q['p50_ms']:.2f}x | {len(q['fallbacks'])} |")
PY
  done
done
