#!/usr/bin/env python3
"""Train the bundled Fashion-MNIST MLP with numpy only and export it as ONNX.

Model: input "input" float32 [N,1,28,28] with pixels in [0, 1] (no mean/std),
Flatten -> Gemm(784->256, transB=1) -> Relu -> Gemm(256->128, transB=1) -> Relu
-> Gemm(128->10, transB=1) -> output "logits" [N,10].

Training: softmax cross-entropy, Adam (lr 1e-3, betas 0.9/0.999), minibatch 128,
He-normal initialisation, fixed seed, 12 epochs; the learning rate is halved for the
last two epochs.

Usage: python3 models/make_mlp.py [--out models/fmnist_mlp.onnx] [--epochs 12] [--seed 0]
Reads Debian's dataset-fashion-mnist files from /usr/share/datasets/fashion-mnist.
"""
import argparse
import gzip
import os
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """Read a gzip-compressed IDX file (ubyte data) into a numpy array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{path}: unexpected IDX type 0x{magic:08x}")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_split(name):
    images = read_idx(os.path.join(DATA_DIR, f"{name}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{name}-labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64)


class Mlp:
    """Weights are stored as [out, in] so they map 1:1 to Gemm with transB=1."""

    def __init__(self, sizes, rng):
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            w = rng.standard_normal((fan_out, fan_in)).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
            b = np.zeros(fan_out, dtype=np.float32)
            self.params += [w, b]

    def forward(self, x):
        acts = [x]
        h = x
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            h = h @ w.T + b
            if i + 1 < n_layers:
                h = np.maximum(h, 0.0)
            acts.append(h)
        return acts

    def backward(self, acts, dlogits):
        grads = [None] * len(self.params)
        d = dlogits
        n_layers = len(self.params) // 2
        for i in reversed(range(n_layers)):
            a_in = acts[i]
            grads[2 * i] = d.T @ a_in
            grads[2 * i + 1] = d.sum(axis=0)
            if i > 0:
                d = (d @ self.params[2 * i]) * (acts[i] > 0)
        return grads


class Adam:
    def __init__(self, params, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * (g * g)
            p -= (self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(np.float32)


def softmax_xent_grad(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.log(p[np.arange(n), labels] + 1e-12).mean()
    p[np.arange(n), labels] -= 1.0
    return loss, (p / n).astype(np.float32)


def accuracy(model, x, y, batch=1000):
    correct = 0
    for i in range(0, x.shape[0], batch):
        logits = model.forward(x[i:i + batch])[-1]
        correct += int((logits.argmax(axis=1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


def export_onnx(model, path):
    w1, b1, w2, b2, w3, b3 = model.params
    inits = [numpy_helper.from_array(a, name) for a, name in
             [(w1, "fc1.weight"), (b1, "fc1.bias"), (w2, "fc2.weight"), (b2, "fc2.bias"),
              (w3, "fc3.weight"), (b3, "fc3.bias")]]
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1", transB=1),
        helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
        helper.make_node("Gemm", ["relu1", "fc2.weight", "fc2.bias"], ["fc2"], name="fc2", transB=1),
        helper.make_node("Relu", ["fc2"], ["relu2"], name="relu2"),
        helper.make_node("Gemm", ["relu2", "fc3.weight", "fc3.bias"], ["logits"], name="fc3", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "fmnist_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=inits)
    graph.doc_string = ("Fashion-MNIST MLP 784-256-128-10 trained by models/make_mlp.py; "
                        "input pixels in [0,1], no normalisation")
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="qforge-make_mlp", ir_version=8)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return m


def ort_top1(path, x, y):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    correct = 0
    for i in range(0, x.shape[0], 1000):
        xb = x[i:i + 1000].reshape(-1, 1, 28, 28)
        logits = sess.run(["logits"], {"input": xb})[0]
        correct += int((logits.argmax(axis=1) == y[i:i + 1000]).sum())
    return correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fmnist_mlp.onnx"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t0 = time.time()
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    rng = np.random.default_rng(args.seed)
    model = Mlp([784, 256, 128, 10], rng)
    opt = Adam(model.params, args.lr)
    n = x_train.shape[0]
    for epoch in range(args.epochs):
        if epoch == args.epochs - 2:
            opt.lr = args.lr * 0.5
        perm = rng.permutation(n)
        losses = []
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            acts = model.forward(x_train[idx])
            loss, dlogits = softmax_xent_grad(acts[-1], y_train[idx])
            losses.append(loss)
            opt.step(model.params, model.backward(acts, dlogits))
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f} "
              f"test top-1 {accuracy(model, x_test, y_test):.4f} ({time.time() - t0:.1f} s)", flush=True)
    train_s = time.time() - t0

    export_onnx(model, args.out)
    top1 = ort_top1(args.out, x_test, y_test)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes); training {train_s:.1f} s; "
          f"ONNX Runtime test top-1 {top1:.4f}")


if __name__ == "__main__":
    main()
