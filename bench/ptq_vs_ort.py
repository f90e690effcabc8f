#!/usr/bin/env python3
"""qforge quantize vs ONNX Runtime's quantize_static, side by side (issue 4): the bundled models, the
same 512 calibration samples (the first 512 of fashion-mnist:train), the same scheme (QDQ, per-channel
symmetric s8 weights, asymmetric u8 activations) and the same calibration method where both have it
(MinMax, Entropy, Percentile 99.999). Each quantization runs in its own child process, so its wall time
and peak resident memory (getrusage of that child) are its own.

  ORT     quant_pre_process (shape inference and the graph optimisations that fold BatchNormalization,
          as ORT's documentation recommends before quantize_static) in the child beforehand, then, timed,
          quantize_static(QuantFormat.QDQ, per_channel=True, QUInt8 activations, QInt8 weights, the
          method; CalibPercentile 99.999) with a CalibrationDataReader of 8 batches of 64 images
  qforge  qforge quantize MODEL --preset int8 --method M [--percentile 99.999] --calib fashion-mnist:train
          --calib-size 512 --threads T

Top-1 of both exports is measured by ONNX Runtime on the whole fashion-mnist:test (10,000 images), so
the runtime is the same for both; qforge's own `qforge eval` of its export is printed too.

Usage: build/oracle-venv/bin/python bench/ptq_vs_ort.py QFORGE_BIN [--models cnn,mobilenet,resnet]
       [--methods minmax,entropy,percentile] [--threads 2] [--work DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "oracle"))
from fmnist import load, ort_top1  # noqa: E402

CALIB = 512
ORT_METHOD = {"minmax": "MinMax", "entropy": "Entropy", "percentile": "Percentile"}


def ort_child(model, out, method, calib_npy, threads):
    """Runs in the child process: ORT's recommended pre-processing, then quantize_static (timed)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    import onnx

    x = np.load(calib_npy)
    pre = out + ".pre.onnx"
    quant_pre_process(model, pre, skip_symbolic_shape=True)  # onnx shape inference suffices here
    name = onnx.load(pre).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{name: x[b:b + 64]} for b in range(0, len(x), 64)])

        def get_next(self):
            return next(self.batches, None)

    # quantize_static's calibration session uses ONNX Runtime's default threads (all cores); `threads`
    # is for the record: pass the machine's core count so qforge gets the same.
    t0 = time.perf_counter()
    quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, ORT_METHOD[method]),
                    extra_options={"CalibPercentile": 99.999})
    print(json.dumps({"seconds": time.perf_counter() - t0}))


# A small launcher between this process and the measured one: a child's ru_maxrss starts from the
# peak of the process image it was exec'd from, so measuring from this (large) process would report
# this process's peak. The launcher forks (its own small image), execs the command, and reports.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write("\\nptq_vs_ort-maxrss-kib %d\\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(cmd):
    """(stdout, wall seconds, peak resident MiB) of one command."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", LAUNCHER] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"ptq_vs_ort: {' '.join(cmd[:3])} failed ({p.returncode}): {p.stderr.strip()[-1500:]}")
    kib = int(p.stderr.strip().splitlines()[-1].split()[-1])
    return p.stdout, wall, kib / 1024.0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-child":
        ort_child(*sys.argv[2:6], int(sys.argv[6]))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("qforge")
    ap.add_argument("--models", default="cnn,mobilenet,resnet")
    ap.add_argument("--methods", default="minmax,entropy,percentile")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    qf = os.path.abspath(a.qforge)
    xt, yt = load("test")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or tmp
        os.makedirs(work, exist_ok=True)
        calib_npy = os.path.join(work, "calib.npy")
        np.save(calib_npy, load("train", CALIB)[0])
        for m in a.models.split(","):
            model = os.path.join(REPO, "models", f"fmnist_{m}.onnx")
            fp32 = ort_top1(model, xt, yt)
            for method in a.methods.split(","):
                stem = os.path.join(work, f"{m}.{method}")
                o_out, o_wall, o_rss = measured([sys.executable, os.path.abspath(__file__), "--ort-child", model,
                                                 stem + ".ort.onnx", method, calib_npy, str(a.threads)])
                o_sec = json.loads(o_out.strip().splitlines()[-1])["seconds"]
                cmd = [qf, "quantize", model, "-o", stem + ".qforge.onnx", "--preset", "int8", "--method", method,
                       "--calib", "fashion-mnist:train", "--calib-size", str(CALIB), "--threads", str(a.threads),
                       "--json"] + (["--percentile", "99.999"] if method == "percentile" else [])
                q_out, q_wall, q_rss = measured(cmd)
                q_sec = json.loads(q_out)["seconds"]
                q_eval = json.loads(subprocess.run([qf, "eval", stem + ".qforge.onnx", "--data", "fashion-mnist:test",
                                                    "--json"], capture_output=True, text=True,
                                                   check=True).stdout)["top1"]
                row = dict(model=m, method=method, fp32=fp32, ort_top1=ort_top1(stem + ".ort.onnx", xt, yt),
                           qforge_top1=ort_top1(stem + ".qforge.onnx", xt, yt), qforge_eval=q_eval,
                           ort_seconds=o_sec, ort_wall=o_wall, ort_rss=o_rss, qforge_seconds=q_sec,
                           qforge_wall=q_wall, qforge_rss=q_rss,
                           ort_bytes=os.path.getsize(stem + ".ort.onnx"),
                           qforge_bytes=os.path.getsize(stem + ".qforge.onnx"))
                rows.append(row)
                print("# " + json.dumps(row), file=sys.stderr, flush=True)
    print(f"qforge quantize vs onnxruntime.quantization.quantize_static: {CALIB} calibration images, "
          f"{a.threads} thread(s); top-1 by ONNX Runtime on fashion-mnist:test\n")
    print("| model | method | FP32 | ORT top-1 | qforge top-1 | ORT s | qforge s | speedup | ORT peak MiB | "
          "qforge peak MiB | ORT bytes | qforge bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['method']} | {100 * r['fp32']:.2f}% | {100 * r['ort_top1']:.2f}% | "
              f"{100 * r['qforge_top1']:.2f}% | {r['ort_seconds']:.2f} | {r['qforge_seconds']:.2f} | "
              f"{r['ort_seconds'] / r['qforge_seconds']:.1f}× | {r['ort_rss']:.0f} | {r['qforge_rss']:.0f} | "
              f"{r['ort_bytes']:,} | {r['qforge_bytes']:,} |")
    print("\n(ORT s: quantize_static alone, after quant_pre_process; qforge s: `seconds` of qforge quantize "
          "--json, the whole run after loading. Peak MiB: the child process's maximum resident set.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
