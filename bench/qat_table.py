#!/usr/bin/env python3
"""The QAT table of issue 6: per bundled model, top-1 on fashion-mnist:test of FP32, PTQ and QAT for
W8A8 (int8 preset) and W4A8 (w4a8 preset: 4-bit per-channel weights), and the per-tensor W8A8
MobileNet, with QAT's time per epoch. Everything runs through the qforge CLI:
  FP32   qforge eval MODEL
  PTQ    qforge quantize MODEL --preset P [--per-tensor] --calib fashion-mnist:train --calib-size 512
  QAT    qforge qat MODEL --preset P [--per-tensor] --data TRAIN --epochs E --val VAL, then qforge eval on
         the export. VAL (default the last 10,000 training images, disjoint from the default TRAIN, the
         first 20,000) picks the checkpoint: the PTQ start or an epoch; the test set never does.
Prints a markdown table (and one JSON line per run with --verbose).

Usage: bench/qat_table.py QFORGE_BIN [--models cnn,mobilenet,resnet] [--train fashion-mnist:train:20000]
                          [--val fashion-mnist:train:50000-60000] [--epochs 3] [--lr 0.002] [--lsq]
                          [--threads 1] [--work DIR] [--verbose]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TEST = "fashion-mnist:test"


def run(cmd, verbose):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"qat_table: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    if verbose:
        print(f"# {time.time() - t0:.0f} s: {' '.join(cmd)}", file=sys.stderr, flush=True)
    return r.stdout


def top1(a, model):
    return json.loads(run([a.qforge, "eval", model, "--data", TEST, "--threads", str(a.threads), "--json"],
                          a.verbose))["top1"]


def ptq(a, model, preset, per_tensor, out):
    run([a.qforge, "quantize", model, "-o", out, "--preset", preset, "--calib", "fashion-mnist:train",
         "--calib-size", "512", "--threads", str(a.threads)] + (["--per-tensor"] if per_tensor else []), a.verbose)
    return top1(a, out)


def qat(a, model, preset, per_tensor, out):
    cmd = [a.qforge, "qat", model, "-o", out, "--preset", preset, "--data", a.train, "--val", a.val,
           "--epochs", str(a.epochs),
           "--lr", str(a.lr), "--calib-size", "512", "--threads", str(a.threads), "--seed", "1", "--json"]
    cmd += (["--per-tensor"] if per_tensor else []) + (["--lsq"] if a.lsq else [])
    j = json.loads(run(cmd, a.verbose))
    if a.verbose:
        print(json.dumps(j), file=sys.stderr, flush=True)
    epoch_s = sum(e["seconds"] for e in j["epochs"]) / max(1, len(j["epochs"]))
    return top1(a, out), epoch_s, j.get("best_epoch", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qforge")
    ap.add_argument("--models", default="cnn,mobilenet,resnet")
    ap.add_argument("--train", default="fashion-mnist:train:20000")
    ap.add_argument("--val", default="fashion-mnist:train:50000-60000")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--lsq", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    a.qforge = os.path.abspath(a.qforge)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or tmp
        os.makedirs(work, exist_ok=True)
        for m in a.models.split(","):
            model = os.path.join(REPO, "models", f"fmnist_{m}.onnx")
            if not os.path.exists(model):
                print(f"qat_table: {model} is missing, skipped", file=sys.stderr)
                continue
            fp32 = top1(a, model)
            configs = [("W8A8", "int8", False), ("W4A8", "w4a8", False)]
            if m == "mobilenet":
                configs.append(("W8A8 per-tensor", "int8", True))
            for label, preset, per_tensor in configs:
                stem = os.path.join(work, f"{m}_{preset}{'_pt' if per_tensor else ''}")
                p = ptq(a, model, preset, per_tensor, stem + "_ptq.onnx")
                q, epoch_s, best = qat(a, model, preset, per_tensor, stem + "_qat.onnx")
                rows.append((m, label, fp32, p, q, epoch_s, best))
                print(f"# {m} {label}: FP32 {100 * fp32:.2f}  PTQ {100 * p:.2f}  QAT {100 * q:.2f}  "
                      f"{epoch_s:.0f} s/epoch, best epoch {best}", file=sys.stderr, flush=True)
    print(f"QAT: {a.epochs} epochs on {a.train}, checkpoint chosen on {a.val}, sgd lr {a.lr} cosine"
          f"{', LSQ' if a.lsq else ''}, {a.threads} thread(s); top-1 on {TEST} (10,000 images)\n")
    print("| model | scheme | FP32 | PTQ | QAT | QAT − FP32 | QAT − PTQ | kept epoch | QAT s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m, label, fp32, p, q, s, best in rows:
        print(f"| {m} | {label} | {100 * fp32:.2f}% | {100 * p:.2f}% | {100 * q:.2f}% | {100 * (q - fp32):+.2f} | "
              f"{100 * (q - p):+.2f} | {best} | {s:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
