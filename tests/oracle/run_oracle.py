#!/usr/bin/env python3
"""Run every oracle model in ONNX Runtime and in qforge and compare the outputs.

Usage: run_oracle.py QFORGE_BIN MODELS_DIR [--jobs 2] [--filter SUBSTR] [--no-export] [--no-ref]

MODELS_DIR is what gen_models.py wrote. Per model, these checks, one result line each:
  NAME          `qforge run` at the default ISA vs ONNX Runtime
  NAME@ref      the same under QFORGE_ISA=ref (models tagged "isa": Conv, ConvTranspose, Gemm, MatMul,
                pools, and the small networks using them)
  NAME@export   `qforge inspect MODEL --save RT.onnx`, then ONNX Runtime on RT.onnx vs ONNX Runtime on
                the original model
ONNX Runtime runs on the CPU provider with all graph optimisations disabled (ORT_DISABLE_ALL), so the
expected values come from its plain kernels, not from fused rewrites.

Tolerance (issue 2, section 8): a float element passes when |got - expected| <= 1e-5 or
|got - expected| <= 1e-4 * |expected|; NaN must match NaN, +-inf must match exactly. Integer and bool
outputs must be exact, except QuantizeLinear outputs ("quant_outputs" in the manifest), which may be
off by one: ONNX Runtime computes x / scale and rounds half to even; an implementation that computes
x * (1 / scale), or fuses the zero-point add, can land one ulp on the other side of a .5 tie and round
the other way. Float outputs that pass through such a Q (manifest "float_step") may differ by one step.
The cases with exact ties (power-of-two scale) are not lenient.

Prints `PASS name` or `FAIL name: ...` per check and finally `N passed, M failed`; exits 1 on any failure.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

import numpy as np

RTOL, ATOL = 1e-4, 1e-5
TIMEOUT_S = 120


def ort_session(path):
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_run(path, input_names, feeds, output_names):
    sess = ort_session(path)
    return sess.run(output_names, dict(zip(input_names, feeds)))


def fmt_index(shape, flat):
    return str(tuple(int(i) for i in np.unravel_index(flat, shape))) if shape else "()"


def fmt_value(v):
    return f"{float(v):.9g}" if np.asarray(v).dtype.kind == "f" else repr(v.item())


def compare(exp, got, int_slack=0, float_step=0.0):
    """Returns None when got matches exp, else a one-line description of the worst element."""
    if got.dtype != exp.dtype:
        return f"dtype {got.dtype} expected {exp.dtype}"
    if got.shape != exp.shape:
        return f"shape {list(got.shape)} expected {list(exp.shape)}"
    if exp.size == 0:
        return None
    e, g = exp.reshape(-1), got.reshape(-1)
    if exp.dtype.kind == "f":
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(g64 - e64)
            same = (e64 == g64) | (np.isnan(e64) & np.isnan(g64))
            ok = same | (err <= ATOL + float_step) | (err <= RTOL * np.abs(e64))
        err = np.where(np.isnan(err), np.inf, err)
    else:
        err = np.abs(g.astype(np.int64) - e.astype(np.int64)).astype(np.float64)
        ok = err <= int_slack
    if ok.all():
        return None
    nbad = int((~ok).sum())
    worst = int(np.argmax(np.where(ok, -1.0, err)))
    return (f"max abs err {err[worst]:.6g} at index {fmt_index(exp.shape, worst)} expected {fmt_value(e[worst])} "
            f"got {fmt_value(g[worst])} ({nbad} of {exp.size} elements out of tolerance)")


def compare_all(case, expected, got):
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    notes = []
    for i, (e, g) in enumerate(zip(expected, got)):
        lenient = i in case.get("quant_outputs", [])
        msg = compare(e, g, 1 if lenient else 0, case.get("float_step", 0.0))
        if msg:
            return f"output {i} ({case['outputs'][i]}): {msg}"
        if lenient and e.size and (g.astype(np.int64) != e.astype(np.int64)).any():
            notes.append(f"output {i}: {int((g != e).sum())} elements one step off (rounding ties)")
    return notes


def last_lines(text, n=3):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[:600] if lines else "(no output)"


def run_qforge(qforge, args, isa):
    env = dict(os.environ)
    env.pop("QFORGE_ISA", None)
    if isa:
        env["QFORGE_ISA"] = isa
    try:
        p = subprocess.run([qforge] + args, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"timed out after {TIMEOUT_S} s"
    if p.returncode != 0:
        return f"exit {p.returncode}: {last_lines(p.stderr or p.stdout)}"
    return None


def check_run(qforge, case, case_dir, expected, isa):
    work = os.path.join(case_dir, f"qf-{isa or 'default'}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    args = ["run", os.path.join(case_dir, "model.onnx")]
    for i in range(len(case["inputs"])):
        args += ["--input", os.path.join(case_dir, f"in{i}.npy")]
    outs = [os.path.join(work, f"out{i}.npy") for i in range(len(case["outputs"]))]
    for o in outs:
        args += ["--output", o]
    err = run_qforge(qforge, args, isa)
    if err:
        return f"qforge run {err}"
    got = []
    for i, o in enumerate(outs):
        if not os.path.exists(o):
            return f"qforge run wrote no {os.path.basename(o)} (output {i}, {case['outputs'][i]})"
        try:
            got.append(np.load(o, allow_pickle=False))
        except Exception as e:  # noqa: BLE001 - any unreadable file is a failure to report
            return f"cannot read {o}: {e}"
    return compare_all(case, expected, got)


def check_export(qforge, case, case_dir, expected, feeds):
    rt = os.path.join(case_dir, "roundtrip.onnx")
    if os.path.exists(rt):
        os.remove(rt)
    err = run_qforge(qforge, ["inspect", os.path.join(case_dir, "model.onnx"), "--save", rt], None)
    if err:
        return f"qforge inspect --save {err}"
    if not os.path.exists(rt):
        return "qforge inspect --save wrote no file"
    try:
        got = ort_run(rt, case["inputs"], feeds, case["outputs"])
    except Exception as e:  # noqa: BLE001
        return f"ONNX Runtime cannot run the exported model: {str(e).splitlines()[0][:400]}"
    res = compare_all(case, expected, got)
    return res if isinstance(res, str) else []


def run_case(job):
    qforge, models_dir, case, modes = job
    name = case["name"]
    case_dir = os.path.join(models_dir, name)
    results = []
    try:
        feeds = [np.load(os.path.join(case_dir, f"in{i}.npy")) for i in range(len(case["inputs"]))]
        expected = ort_run(os.path.join(case_dir, "model.onnx"), case["inputs"], feeds, case["outputs"])
    except Exception as e:  # noqa: BLE001 - an oracle problem, reported as a failure of every mode
        msg = f"ONNX Runtime failed on the original model (oracle bug): {str(e).splitlines()[0][:300]}"
        return [(name + suffix, msg) for suffix, _ in modes]
    for suffix, mode in modes:
        if mode == "export":
            res = check_export(qforge, case, case_dir, expected, feeds)
        else:
            res = check_run(qforge, case, case_dir, expected, mode)
        results.append((name + suffix, res))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qforge")
    ap.add_argument("models_dir")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--no-export", action="store_true", help="skip the inspect --save round trip")
    ap.add_argument("--no-ref", action="store_true", help="skip the QFORGE_ISA=ref runs")
    args = ap.parse_args()
    qforge = os.path.abspath(args.qforge)
    if not os.access(qforge, os.X_OK):
        sys.exit(f"run_oracle: {args.qforge} is not an executable")
    with open(os.path.join(args.models_dir, "manifest.json")) as f:
        manifest = [c for c in json.load(f) if args.filter in c["name"]]
    jobs = []
    for case in manifest:
        modes = [("", None)]
        if "isa" in case["tags"] and not args.no_ref:
            modes.append(("@ref", "ref"))
        if not args.no_export:
            modes.append(("@export", "export"))
        jobs.append((qforge, os.path.abspath(args.models_dir), case, modes))
    passed = failed = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for results in pool.map(run_case, jobs):
            for name, res in results:
                if isinstance(res, str):
                    failed += 1
                    print(f"FAIL {name}: {res}", flush=True)
                else:
                    passed += 1
                    print(f"PASS {name}" + (f" ({'; '.join(res)})" if res else ""), flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
