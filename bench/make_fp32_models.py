#!/usr/bin/env python3
"""Writes the three FP32 benchmark models (random weights, fixed seed) with the onnx helper API.

  convnet.onnx      Fashion-MNIST-style CNN at N x 1 x 28 x 28: 3 x (Conv 3x3 + BN + Relu) with
                    32-64-128 channels, 2 MaxPools, Flatten, Gemm 6272->128 + Relu, Gemm 128->10
  mobilenet.onnx    depthwise-separable net at N x 3 x 96 x 96: stem Conv 3x3/2 + BN + Clip(0,6),
                    7 blocks of depthwise 3x3 (group = C, stride 1 or 2) + BN + Clip and pointwise
                    1x1 + BN + Clip (32..512 channels), GlobalAveragePool, Flatten, Gemm 512->10
  transformer.onnx  encoder block at N x 128 x 256 (4 heads of 64): Q/K/V MatMul + bias, Reshape /
                    Transpose, MatMul, Mul(1/8), Softmax, MatMul, output MatMul + bias, residual Add,
                    LayerNormalization, MatMul 256->1024 + bias, Gelu, MatMul 1024->256 + bias,
                    residual Add, LayerNormalization (opset 20)

usage: make_fp32_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20240501)


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), n))
        return n

    def const_i64(self, base, values):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv_bn(self, x, cin, cout, k, stride=1, group=1):
        fan_in = cin // group * k * k
        w = self.const("w", rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k)))
        b = self.const("b", rng.normal(0, 0.01, cout))
        y = self.op("Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group)
        scale = self.const("gamma", rng.uniform(0.8, 1.2, cout))
        beta = self.const("beta", rng.normal(0, 0.05, cout))
        mean = self.const("mean", rng.normal(0, 0.05, cout))
        var = self.const("var", rng.uniform(0.8, 1.2, cout))
        return self.op("BatchNormalization", [y, scale, beta, mean, var], epsilon=1e-5)

    def linear(self, x, k, n):
        w = self.const("w", rng.normal(0, np.sqrt(1.0 / k), (k, n)))
        b = self.const("b", rng.normal(0, 0.01, n))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def model(self, name, x_shape, out, out_shape, opset):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)
        g = helper.make_graph(self.nodes, name, [x], [y], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="qforge-bench")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def convnet():
    b = Builder()
    h = "x"
    h = b.op("Relu", [b.conv_bn(h, 1, 32, 3)])
    h = b.op("Relu", [b.conv_bn(h, 32, 64, 3)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv_bn(h, 64, 128, 3)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Flatten", [h], axis=1)
    w1 = b.const("fc1_w", rng.normal(0, np.sqrt(2.0 / 6272), (128, 6272)))
    h = b.op("Relu", [b.op("Gemm", [h, w1, b.const("fc1_b", np.zeros(128))], transB=1)])
    w2 = b.const("fc2_w", rng.normal(0, np.sqrt(1.0 / 128), (128, 10)))
    h = b.op("Gemm", [h, w2, b.const("fc2_b", np.zeros(10))])
    return b.model("convnet", ["N", 1, 28, 28], h, ["N", 10], 13)


def mobilenet():
    b = Builder()
    lo, hi = b.const("clip_lo", 0.0), b.const("clip_hi", 6.0)

    def relu6(t):
        return b.op("Clip", [t, lo, hi])

    h = relu6(b.conv_bn("x", 3, 32, 3, stride=2))  # 48x48
    blocks = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1)]
    for cin, cout, s in blocks:
        h = relu6(b.conv_bn(h, cin, cin, 3, stride=s, group=cin))
        h = relu6(b.conv_bn(h, cin, cout, 1))
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    w = b.const("fc_w", rng.normal(0, np.sqrt(1.0 / 512), (10, 512)))
    h = b.op("Gemm", [h, w, b.const("fc_b", np.zeros(10))], transB=1)
    return b.model("mobilenet", ["N", 3, 96, 96], h, ["N", 10], 13)


def transformer(seq=128, hidden=256, heads=4, ffn=1024):
    b = Builder()
    dh = hidden // heads
    x = "x"
    split = b.const_i64("shape_split", [0, seq, heads, dh])
    merge = b.const_i64("shape_merge", [0, seq, hidden])

    def heads_of(t, perm):
        return b.op("Transpose", [b.op("Reshape", [t, split])], perm=perm)

    q = heads_of(b.linear(x, hidden, hidden), [0, 2, 1, 3])   # N,H,S,D
    k = heads_of(b.linear(x, hidden, hidden), [0, 2, 3, 1])   # N,H,D,S
    v = heads_of(b.linear(x, hidden, hidden), [0, 2, 1, 3])   # N,H,S,D
    s = b.op("Mul", [b.op("MatMul", [q, k]), b.const("inv_sqrt_d", 1.0 / np.sqrt(dh))])
    p = b.op("Softmax", [s], axis=-1)
    ctx = b.op("Reshape", [b.op("Transpose", [b.op("MatMul", [p, v])], perm=[0, 2, 1, 3]), merge])
    h = b.op("Add", [x, b.linear(ctx, hidden, hidden)])

    def layer_norm(t):
        return b.op("LayerNormalization", [t, b.const("ln_g", rng.uniform(0.9, 1.1, hidden)),
                                           b.const("ln_b", rng.normal(0, 0.02, hidden))], axis=-1, epsilon=1e-5)

    h = layer_norm(h)
    f = b.linear(b.op("Gelu", [b.linear(h, hidden, ffn)]), ffn, hidden)
    out = layer_norm(b.op("Add", [h, f]))
    return b.model("transformer", ["N", seq, hidden], out, ["N", seq, hidden], 20)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in (("convnet", convnet), ("mobilenet", mobilenet), ("transformer", transformer)):
        path = os.path.join(out, name + ".onnx")
        onnx.save(fn(), path)
        print(path)


if __name__ == "__main__":
    main()
