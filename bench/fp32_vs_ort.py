#!/usr/bin/env python3
"""FP32 latency of qforge (bench_fp32) vs ONNX Runtime, side by side, interleaved.

For each model and batch, ORT (intra_op_num_threads = T, sequential execution, default graph
optimisations = ORT_ENABLE_ALL) and qforge (Session with T threads) run in alternating rounds, so
background load hits both alike, with a pause between the sides (ORT's worker threads spin-wait
after a run and would otherwise steal a core from qforge); every round times `iters` runs after
`warmup` untimed ones. The
table gives the median (p50) over all timed runs and the ratio qforge / ORT. Outputs of the two on
the same input are compared (max abs difference) as a sanity check.

usage: fp32_vs_ort.py --bench build/bench/bench_fp32 [--models DIR] [--batches 1 32] [--threads 2]
                      [--rounds 5] [--warmup 5] [--iters 20] [--pause 1.0] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

MODELS = ("convnet", "mobilenet", "transformer")


def input_for(sess, batch, seed):
    inp = sess.get_inputs()[0]
    shape = [batch if (i == 0 and not isinstance(d, int)) or (i == 0 and d == 1) else d for i, d in enumerate(inp.shape)]
    return inp.name, np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def ort_round(sess, feed, warmup, iters):
    for _ in range(warmup):
        sess.run(None, feed)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def qforge_round(bench, model, batch, threads, warmup, iters, x_path, y_path):
    cmd = [bench, model, "--batch", str(batch), "--threads", str(threads), "--warmup", str(warmup),
           "--iters", str(iters), "--input-raw", x_path, "--output-raw", y_path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["latencies_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--models", default=None, help="folder with the models (default: generate into a temp dir)")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", nargs="*", default=list(MODELS))
    ap.add_argument("--pause", type=float, default=1.0, help="seconds of idle between the two sides")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="qf_bench_")
    models = a.models
    if models is None:
        models = os.path.join(tmp, "models")
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "make_fp32_models.py"), models], check=True,
                       capture_output=True)

    rows = []
    for name in a.only:
        path = os.path.join(models, name + ".onnx")
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        for batch in a.batches:
            iname, x = input_for(sess, batch, 7)
            x_path, y_path = os.path.join(tmp, "x.bin"), os.path.join(tmp, "y.bin")
            x.tofile(x_path)
            feed = {iname: x}
            t_ort, t_qf = [], []
            for _ in range(a.rounds):
                t_ort += ort_round(sess, feed, a.warmup, a.iters)
                # ORT's intra-op threads spin-wait after a run; let them go to sleep so they do not
                # take a core from the qforge process that runs next.
                time.sleep(a.pause)
                t_qf += qforge_round(a.bench, path, batch, a.threads, a.warmup, a.iters, x_path, y_path)
                time.sleep(a.pause)
            y_ort = sess.run(None, feed)[0]
            y_qf = np.fromfile(y_path, dtype=np.float32).reshape(y_ort.shape)
            p_ort, p_qf = statistics.median(t_ort), statistics.median(t_qf)
            rows.append({"model": name, "batch": batch, "threads": a.threads, "ort_p50_ms": p_ort,
                         "qforge_p50_ms": p_qf, "ratio": p_qf / p_ort,
                         "max_abs_diff": float(np.max(np.abs(y_ort - y_qf)))})
            print(f"{name} batch {batch}: ORT {p_ort:.3f} ms, qforge {p_qf:.3f} ms, ratio {p_qf / p_ort:.2f}",
                  file=sys.stderr)

    print(f"| model | batch | threads | ORT p50 (ms) | qforge p50 (ms) | qforge / ORT | max abs diff |")
    print(f"|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['batch']} | {r['threads']} | {r['ort_p50_ms']:.3f} | {r['qforge_p50_ms']:.3f} "
              f"| {r['ratio']:.2f} | {r['max_abs_diff']:.1e} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"onnxruntime": ort.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
