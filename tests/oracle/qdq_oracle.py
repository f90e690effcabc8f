#!/usr/bin/env python3
"""qforge's integer runtime vs ONNX Runtime on the same QDQ models.

Usage: qdq_oracle.py QFORGE_BIN [WORK_DIR]   (python with onnx, onnxruntime, numpy: /work/main/.venv)

make_qdq_models.py writes small conv nets quantized by onnxruntime.quantization.quantize_static into
WORK_DIR (default: a temporary folder). Per model and per check, one line `PASS` / `FAIL`:
  NAME            `qforge run` (lowered to integer kernels, default ISA) vs ONNX Runtime
  NAME@ref        the same under QFORGE_ISA=ref; must equal the default-ISA output bit for bit
  NAME@lowering   `qforge bench` lists no fallback node (every node of these nets has a kernel)
ONNX Runtime runs the QDQ graph with all graph optimisations disabled, i.e. DQ → float op → Q, the
definition of the model's meaning. The outputs are the DQ of the last quantized value, so they lie
on a grid of step s (the output scale). Agreement is counted in steps, |got − expected| / s:
  - one lowered node agrees within one step (int32 accumulation rounds once; float rounds every
    add) — the per-node guarantee, tested in C++ (tests/runtime/test_lower_qdq.cpp);
  - through a chain of N quantized nodes a one-step difference at one node can move the next
    node's output by a step, so for whole networks the check is: at least 99% of the elements within
    one step and none beyond MAX_STEPS steps (printed per model).
Prints `N passed, M failed`; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_STEPS = 3
WITHIN_ONE = 0.99


def ort_run(path, x):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def output_scale(path):
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = m.graph.output[0].name
    for n in m.graph.node:
        if out in n.output and n.op_type == "DequantizeLinear":
            return float(inits[n.input[1]])
    raise SystemExit(f"{path}: the output is not a DequantizeLinear output")


def qforge_run(qforge, model, x_path, out_path, isa=None):
    env = dict(os.environ)
    if isa:
        env["QFORGE_ISA"] = isa
    subprocess.run([qforge, "run", model, "--input", x_path, "--output", out_path], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return np.load(out_path)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    qforge = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="qforge-qdq-")
    subprocess.run([sys.executable, os.path.join(HERE, "make_qdq_models.py"), work], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    passed = failed = 0

    def report(ok, name, detail):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + name + (": " + detail if detail else ""))
        passed += ok
        failed += not ok

    for name in ("cnn", "mobile", "resnet"):
        model = os.path.join(work, name + ".qdq.onnx")
        x_path = os.path.join(work, name + ".input.npy")
        x = np.load(x_path)
        want = ort_run(model, x)
        s = output_scale(model)
        got = qforge_run(qforge, model, x_path, os.path.join(work, name + ".out.npy"))
        steps = np.abs(got.astype(np.float64) - want) / s
        within = float(np.mean(steps <= 1 + 1e-3))
        ok = got.shape == want.shape and within >= WITHIN_ONE and steps.max() <= MAX_STEPS + 1e-3
        report(ok, name, f"max {steps.max():.2f} steps, {100 * within:.1f}% within one step")
        ref = qforge_run(qforge, model, x_path, os.path.join(work, name + ".ref.npy"), isa="ref")
        report(np.array_equal(ref.view(np.uint32), got.view(np.uint32)), name + "@ref", "")
        bench = subprocess.run([qforge, "bench", model, "--iters", "1", "--warmup", "0", "--batch", "2", "--json"],
                               check=True, capture_output=True, text=True)
        fb = json.loads(bench.stdout)["results"][0]["fallbacks"]
        report(not fb, name + "@lowering", ", ".join(f["node"] + " (" + f["reason"] + ")" for f in fb))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
