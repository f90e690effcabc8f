#!/usr/bin/env bash
# Oracle tests: qforge vs ONNX Runtime on generated models and on real pretrained models.
# Usage: tests/oracle/run.sh QFORGE_BIN
# Environment:
#   QFORGE_VENV         virtual environment to create/use (default: <repo>/build/oracle-venv)
#   QFORGE_ORACLE_WORK  scratch directory for models, inputs and outputs (default: <repo>/build/oracle-work)
#   QFORGE_ORACLE_JOBS  parallel cases (default: 2)
# Needs python3 with the venv module (Debian: python3-venv) and access to PyPI on the first run
# (onnx, onnxruntime, numpy; the real models' wheels, cached in tests/oracle/.cache/).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 QFORGE_BIN" >&2
  exit 2
fi
QFORGE_BIN=$(realpath "$1")
if [[ ! -x "$QFORGE_BIN" ]]; then
  echo "oracle: $1 is not an executable" >&2
  exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VENV=${QFORGE_VENV:-$REPO/build/oracle-venv}
WORK=${QFORGE_ORACLE_WORK:-$REPO/build/oracle-work}
JOBS=${QFORGE_ORACLE_JOBS:-2}

# Versions known to work together here (Python 3.11, x86-64).
REQUIREMENTS="onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
PY=$VENV/bin/python
STAMP=$VENV/.qforge-oracle-requirements
if [[ ! -x "$PY" ]] || [[ "$(cat "$STAMP" 2>/dev/null)" != "$REQUIREMENTS" ]]; then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  echo "oracle: preparing $VENV ($REQUIREMENTS)"
  if ! { python3 -m venv "$VENV" && "$PY" -m pip install $REQUIREMENTS; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "oracle: could not create the virtual environment $VENV" >&2
    exit 1
  fi
  echo "$REQUIREMENTS" >"$STAMP"
fi

status=0
rm -rf "$WORK/models"
mkdir -p "$WORK"
"$PY" "$HERE/gen_models.py" "$WORK/models" || exit 1
echo "== oracle models"
"$PY" "$HERE/run_oracle.py" "$QFORGE_BIN" "$WORK/models" --jobs "$JOBS" | tee "$WORK/oracle.log" || status=1
echo "== real models"
"$PY" "$HERE/real_models.py" "$QFORGE_BIN" --work "$WORK/real" | tee "$WORK/real.log" || status=1
echo "== quantization ops"
{ rm -rf "$WORK/quant_ext" && "$PY" "$HERE/gen_quant_ext.py" "$WORK/quant_ext" &&
  "$PY" "$HERE/run_oracle.py" "$QFORGE_BIN" "$WORK/quant_ext" --jobs "$JOBS"; } | tee "$WORK/quant_ext.log" || status=1
echo "== quantizer exports"
"$PY" "$HERE/quantize_oracle.py" "$QFORGE_BIN" --work "$WORK/quantize" | tee "$WORK/quantize.log" || status=1
echo "== integer runtime (lowered QDQ vs ORT)"
"$PY" "$HERE/qdq_oracle.py" "$QFORGE_BIN" "$WORK/qdq" | tee "$WORK/qdq.log" || status=1
echo "== bundled models and trained architectures"
"$PY" "$HERE/bundled_models.py" "$QFORGE_BIN" --work "$WORK/bundled" | tee "$WORK/bundled.log" || status=1
echo "== QAT exports (qforge qat, then qforge eval vs ORT)"
"$PY" "$HERE/qat_oracle.py" "$QFORGE_BIN" --work "$WORK/qat" | tee "$WORK/qat.log" || status=1

# one closing line for all suites
total_pass=0 total_fail=0
for log in "$WORK/oracle.log" "$WORK/real.log" "$WORK/quant_ext.log" "$WORK/quantize.log" "$WORK/qdq.log" \
  "$WORK/bundled.log" "$WORK/qat.log"; do
  if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1); then
    read -r p _ f _ <<<"${line//,/}"
    total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
  else
    status=1
  fi
done
echo "oracle: $total_pass passed, $total_fail failed"
exit $status
