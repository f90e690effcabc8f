#!/usr/bin/env bash
# Accuracy and size of every quantization preset on the bundled models: quantize with 512 calibration
# samples of fashion-mnist:train, evaluate on the whole fashion-mnist:test, print a markdown table.
# Usage: bench/ptq_table.sh [QFORGE_BIN] [PRESET...]   (default: build/qforge, all presets)
# Environment: THREADS (default 2), MODELS (default "cnn mobilenet resnet").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
qf=${1:-$root/build/qforge}
shift || true
presets=("$@")
[[ ${#presets[@]} -gt 0 ]] || presets=(int8 int8-per-tensor int8-dynamic w4a8 w4a16 nf4 fp16)
threads=${THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top1() { "$qf" eval "$1" --data fashion-mnist:test --threads "$threads" --json 2>/dev/null |
  python3 -c 'import json,sys; print("%.2f" % (100 * json.load(sys.stdin)["top1"]))'; }
echo "| model | preset | file bytes | ratio | top-1 | drop (points) |"
echo "| --- | --- | --- | --- | --- | --- |"
for m in ${MODELS:-cnn mobilenet resnet}; do
  fp32=$root/models/fmnist_$m.onnx
  base=$(top1 "$fp32")
  fb=$(stat -c %s "$fp32")
  echo "| $m | fp32 | $fb | 1.00x | $base | — |"
  for p in "${presets[@]}"; do
    args=(--preset "$p")
    [[ $p == int8-per-tensor ]] && args=(--preset int8 --per-tensor)
    out=$work/$m.$p.onnx
    "$qf" quantize "$fp32" -o "$out" "${args[@]}" --calib fashion-mnist:train --threads "$threads" >/dev/null 2>&1
    qb=$(stat -c %s "$out")
    q=$(top1 "$out")
    python3 -c "print('| $m | $p | $qb | %.2fx | $q | %+.2f |' % ($fb / $qb, $base - $q))"
  done
done
