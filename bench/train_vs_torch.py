#!/usr/bin/env python3
"""Training throughput, qforge vs PyTorch, on the identical bundled architectures (issue 3).

For each architecture and thread count this runs bench/bench_train (qforge: forward + softmax
cross-entropy + backward + AdamW step, as a subprocess) and the same loop in PyTorch, built layer for
layer like src/train/arch.cpp (in-graph normalisation, bias-free Conv + BatchNorm (eps 1e-5, PyTorch
momentum 0.1 = ONNX 0.9) + ReLU / ReLU6, MaxPool, Gemm / Linear), same batch size, same number of
images, same thread count (torch.set_num_threads), on random Fashion-MNIST-shaped batches, and prints
a table: arch, batch, threads, qforge img/s, torch img/s, ratio (qforge / torch), then the same per
second of process CPU time (all threads together: steadier than wall time on a loaded machine, and
it includes OpenMP spin-waiting). With --repeat R the two alternate R times and the median of each
is reported.

How to run (PyTorch is optional and not a qforge dependency):
  apt-get install -y python3-torch          # Debian's PyTorch, or: pip install torch
  cmake --build build --target bench_train
  /usr/bin/python3 bench/train_vs_torch.py [--bench-train build/bench/bench_train] [--archs cnn,mobilenet,resnet]
                                            [--threads 1,2] [--batch 128] [--images 1280] [--repeat 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MEAN, STD = 0.2860, 0.3530  # ArchOptions defaults (Fashion-MNIST train-set statistics)


def build_torch_model(torch, arch):
    nn = torch.nn

    class Normalize(nn.Module):
        def forward(self, x):
            return (x - MEAN) * (1.0 / STD)

    def conv_bn(cin, cout, k, stride, groups=1):
        return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]

    if arch == "cnn":
        layers, cin = [Normalize()], 1
        for w in (32, 64):
            layers += conv_bn(cin, w, 3, 1) + [nn.ReLU()] + conv_bn(w, w, 3, 1) + [nn.ReLU()]
            layers += [nn.MaxPool2d(2, 2)]
            cin = w
        layers += [nn.Flatten(1), nn.Linear(64 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10)]
        return nn.Sequential(*layers)

    if arch == "mobilenet":
        layers = [Normalize()] + conv_bn(1, 32, 3, 1) + [nn.ReLU6()]
        for cin, cout, stride in ((32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1)):
            layers += conv_bn(cin, cin, 3, stride, groups=cin) + [nn.ReLU6()]
            layers += conv_bn(cin, cout, 1, 1) + [nn.ReLU6()]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(256, 10)]
        return nn.Sequential(*layers)

    if arch == "resnet":
        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.body = nn.Sequential(*(conv_bn(cin, cout, 3, stride) + [nn.ReLU()] + conv_bn(cout, cout, 3, 1)))
                self.short = (nn.Identity() if cin == cout and stride == 1
                              else nn.Sequential(*conv_bn(cin, cout, 1, stride)))
                self.relu = nn.ReLU()

            def forward(self, x):
                return self.relu(self.body(x) + self.short(x))

        w0 = 32
        return nn.Sequential(Normalize(), *conv_bn(1, w0, 3, 1), nn.ReLU(), Block(w0, w0, 1), Block(w0, 2 * w0, 2),
                             Block(2 * w0, 4 * w0, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(4 * w0, 10))
    raise ValueError(arch)


def torch_images_per_s(torch, arch, batch, threads, images, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_torch_model(torch, arch).train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.003, weight_decay=0.0005)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [(torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))) for _ in range(4)]

    def step(i):
        x, y = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    steps = (images + batch - 1) // batch
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        step(i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return steps * batch / wall, steps * batch / cpu


def qforge_images_per_s(bench, arch, batch, threads, images, warmup):
    cmd = [bench, "--arch", arch, "--batch", str(batch), "--threads", str(threads), "--images", str(images),
           "--warmup", str(warmup)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["images_per_s"], r["images"] / r["cpu_seconds"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench-train", default=os.path.join(root, "build", "bench", "bench_train"))
    ap.add_argument("--archs", default="cnn,mobilenet,resnet")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--images", type=int, default=1280, help="timed images per measurement")
    ap.add_argument("--warmup", type=int, default=2, help="untimed batches first")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("train_vs_torch.py: PyTorch is not installed; install Debian's python3-torch (apt-get install -y "
              "python3-torch, then run with /usr/bin/python3) or PyPI's torch", file=sys.stderr)
        return 2
    if not os.access(a.bench_train, os.X_OK):
        print(f"train_vs_torch.py: {a.bench_train} not found; build it (cmake --build BUILD --target bench_train) "
              "or pass --bench-train", file=sys.stderr)
        return 2
    torch.set_num_interop_threads(1)
    print(f"# torch {torch.__version__}, batch {a.batch}, {a.images} timed images per measurement, "
          f"median of {a.repeat}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"{'arch':<10} {'batch':>5} {'threads':>7} {'qforge img/s':>12} {'torch img/s':>11} {'ratio':>6}"
          f" | {'qforge img/CPU-s':>16} {'torch img/CPU-s':>15} {'ratio':>6}")
    for arch in a.archs.split(","):
        for t in (int(v) for v in a.threads.split(",")):
            q, p = [], []
            for _ in range(a.repeat):
                q.append(qforge_images_per_s(a.bench_train, arch, a.batch, t, a.images, a.warmup))
                p.append(torch_images_per_s(torch, arch, a.batch, t, a.images, a.warmup))
            qm, pm = (statistics.median(v[0] for v in q), statistics.median(v[1] for v in q))
            tm, tc = (statistics.median(v[0] for v in p), statistics.median(v[1] for v in p))
            print(f"{arch:<10} {a.batch:>5} {t:>7} {qm:>12.1f} {tm:>11.1f} {qm / tm:>6.2f}"
                  f" | {pm:>16.1f} {tc:>15.1f} {pm / tc:>6.2f}", flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
