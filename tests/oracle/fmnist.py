"""Fashion-MNIST for the Python oracle tests and peer benchmarks: the Debian dataset-fashion-mnist
IDX files read with numpy, scaled to [0, 1] as qforge's `fashion-mnist:` loader does, and top-1 of a
model in ONNX Runtime."""
import gzip
import os

import numpy as np

FMNIST = os.environ.get("QFORGE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
STEMS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


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
    raise SystemExit(f"{stem} not found under {FMNIST} (install dataset-fashion-mnist)")


def load(split, n=None):
    """(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]): the first n of the split."""
    images, labels = (read_idx(find(s)) for s in STEMS[split])
    n = len(labels) if n is None else n
    x = (images[:n].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, labels[:n].astype(np.int64)


def ort_top1(model, x, y, threads=2):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    s = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    correct = 0
    for b in range(0, len(x), 500):
        logits = s.run(None, {name: x[b:b + 500]})[0]
        correct += int((logits.argmax(axis=1) == y[b:b + 500]).sum())
    return correct / len(x)
