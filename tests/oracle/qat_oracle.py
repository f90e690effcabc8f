#!/usr/bin/env python3
"""QAT exports against ONNX Runtime: `qforge qat` fine-tunes a model briefly, then the exported QDQ
model's top-1 on the first N Fashion-MNIST test images in ONNX Runtime must equal `qforge eval`'s
(qforge's integer runtime) within 0.1 points (issue 6).

Usage: qat_oracle.py QFORGE_BIN [--work DIR] [--test-size N] [--train-size N] [--models a,b]

Cases, each one line: <model>/<preset>[-lsq][-bn]. Models: the bundled MLP always, and the bundled cnn,
mobilenet and resnet when models/ has them (--models picks). Presets int8 and w4a8 (int4 weights,
opset 21), int8 also with --lsq. One more case trains BatchNormalization with batch statistics before
folding it (fmnist_resnet int8, --freeze-bn-after 1, 2 epochs on --bn-train-size images): its export must
have no BatchNormalization.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FMNIST = os.environ.get("QFORGE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
MODELS = ["fmnist_mlp", "fmnist_cnn", "fmnist_mobilenet", "fmnist_resnet"]
VARIANTS = [("int8", False), ("int8", True), ("w4a8", False)]
BN_CASE = ("fmnist_resnet", "int8")  # --freeze-bn-after 1 --epochs 2
TOLERANCE = 0.001  # 0.1 points of top-1


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(stem):
    for ext in (".gz", ""):
        p = os.path.join(FMNIST, stem + ext)
        if os.path.exists(p):
            return p
    raise SystemExit(f"qat_oracle: {stem} not found under {FMNIST} (install dataset-fashion-mnist)")


def ort_top1(model, x, y):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    s = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    correct = 0
    for b in range(0, len(x), 500):
        logits = s.run(None, {name: x[b:b + 500]})[0]
        correct += int((logits.argmax(axis=1) == y[b:b + 500]).sum())
    return correct / len(x)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {r.stderr.strip().splitlines()[-1] if r.stderr else r.returncode}")
    return r.stdout


def check(qforge, model, preset, lsq, work, x, y, a, bn=False):
    out = os.path.join(work, f"{os.path.basename(model)[:-5]}_{preset}{'_lsq' if lsq else ''}{'_bn' if bn else ''}.onnx")
    train_size, epochs = (a.bn_train_size, "2") if bn else (a.train_size, "1")
    cmd = [qforge, "qat", model, "-o", out, "--data", f"fashion-mnist:train:{train_size}", "--epochs", epochs,
           "--calib-size", "256", "--preset", preset, "--lr", "0.002", "--threads", "2"]
    run(cmd + (["--lsq"] if lsq else []) + (["--freeze-bn-after", "1"] if bn else []))
    if bn:
        ops = {n.op_type for n in onnx.load(out).graph.node}
        if "BatchNormalization" in ops:
            return False, "the export has BatchNormalization nodes"
    q = json.loads(run([qforge, "eval", out, "--data", f"fashion-mnist:test:{a.test_size}", "--threads", "2",
                        "--json"]))["top1"]
    o = ort_top1(out, x, y)
    msg = f"qforge {100 * q:.2f}%, ORT {100 * o:.2f}% on {len(x)} images"
    return abs(q - o) <= TOLERANCE + 1e-12, msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qforge")
    ap.add_argument("--work", default=None)
    ap.add_argument("--test-size", type=int, default=3000)
    ap.add_argument("--train-size", type=int, default=1024)
    ap.add_argument("--bn-train-size", type=int, default=512)
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    x = (read_idx(find("t10k-images-idx3-ubyte")).astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)[:a.test_size]
    y = read_idx(find("t10k-labels-idx1-ubyte")).astype(np.int64)[:a.test_size]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or tmp
        os.makedirs(work, exist_ok=True)
        for name in a.models.split(","):
            model = os.path.join(REPO, "models", name + ".onnx")
            if not os.path.exists(model):
                print(f"SKIP {name}: {model} is not there yet")
                continue
            variants = [(p, lsq, False) for p, lsq in VARIANTS]
            if name == BN_CASE[0]:
                variants.append((BN_CASE[1], False, True))
            for preset, lsq, bn in variants:
                case = f"{name}/{preset}{'-lsq' if lsq else ''}{'-bn' if bn else ''}"
                try:
                    ok, msg = check(a.qforge, model, preset, lsq, work, x, y, a, bn)
                except Exception as e:  # a failing case must not hide the others
                    ok, msg = False, str(e)
                print(f"{'PASS' if ok else 'FAIL'} {case}: {msg}", flush=True)
                passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
