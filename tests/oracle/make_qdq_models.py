#!/usr/bin/env python3
"""Small FP32 conv nets and their QDQ versions made by onnxruntime.quantization.quantize_static.

Usage: make_qdq_models.py OUT_DIR

Writes, per net NAME: NAME.fp32.onnx, NAME.qdq.onnx (u8 activations, s8 per-channel weights, QDQ
format, min-max calibration on 8 random batches) and NAME.input.npy (one batch of inputs the oracle
and the C++ tests feed). The nets cover every pattern the integer runtime lowers: Conv (+Relu / Clip),
depthwise Conv, strided / dilated / padded Conv, MaxPool, AveragePool, GlobalAveragePool, Add of two
quantized branches, Concat, Flatten, Reshape, Gemm and MatMul.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

rng = np.random.default_rng(20240611)


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array, dtype=np.float32):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, group=1, dilation=1, pad=None):
        fan_in = cin // group * k * k
        w = self.const("w", rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k)))
        b = self.const("b", rng.normal(0, 0.1, cout))
        p = (k // 2) * dilation if pad is None else pad
        return self.op("Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[p] * 4,
                       group=group, dilations=[dilation, dilation])

    def model(self, name, x_shape, out, classes=10, opset=13):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + x_shape)
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", classes])
        g = helper.make_graph(self.nodes, name, [x], [y], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="qforge-test")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def cnn():
    b = Builder()
    h = b.op("Relu", [b.conv("x", 1, 8, 3)])
    h = b.op("Relu", [b.conv(h, 8, 16, 3, stride=2)])
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Relu", [b.conv(h, 16, 24, 3, dilation=2)])
    h = b.op("Flatten", [h], axis=1)
    w1 = b.const("fc1_w", rng.normal(0, np.sqrt(2.0 / 1176), (32, 1176)))
    h = b.op("Relu", [b.op("Gemm", [h, w1, b.const("fc1_b", rng.normal(0, 0.1, 32))], transB=1)])
    w2 = b.const("fc2_w", rng.normal(0, np.sqrt(1.0 / 32), (32, 10)))
    h = b.op("Gemm", [h, w2, b.const("fc2_b", rng.normal(0, 0.1, 10))])
    return b.model("cnn", [1, 28, 28], h)


def mobile():
    b = Builder()
    lo, hi = b.const("clip_lo", 0.0), b.const("clip_hi", 6.0)
    h = b.op("Clip", [b.conv("x", 3, 16, 3, stride=2), lo, hi])
    for cin, cout, s in [(16, 24, 1), (24, 32, 2), (32, 32, 1)]:
        h = b.op("Clip", [b.conv(h, cin, cin, 3, stride=s, group=cin), lo, hi])
        h = b.op("Clip", [b.conv(h, cin, cout, 1), lo, hi])
    h = b.op("AveragePool", [h], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    h = b.op("Flatten", [b.op("GlobalAveragePool", [h])], axis=1)
    w = b.const("fc_w", rng.normal(0, np.sqrt(1.0 / 32), (32, 10)))
    h = b.op("MatMul", [h, w])
    return b.model("mobile", [3, 33, 33], h)


def resnet():
    b = Builder()
    h = b.op("Relu", [b.conv("x", 3, 16, 3)])
    for _ in range(2):
        r = b.op("Relu", [b.conv(h, 16, 16, 3)])
        r = b.conv(r, 16, 16, 3)
        h = b.op("Relu", [b.op("Add", [h, r])])
    c1 = b.op("Relu", [b.conv(h, 16, 8, 1)])
    c2 = b.op("Relu", [b.conv(h, 16, 8, 3, stride=1)])
    h = b.op("Concat", [c1, c2], axis=1)
    h = b.op("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    h = b.op("GlobalAveragePool", [h])
    h = b.op("Reshape", [h, b.const("shape", [0, -1], np.int64)])
    w = b.const("fc_w", rng.normal(0, np.sqrt(1.0 / 16), (10, 16)))
    h = b.op("Gemm", [h, w, b.const("fc_b", rng.normal(0, 0.1, 10))], transB=1)
    return b.model("resnet", [3, 20, 20], h)


class Reader(CalibrationDataReader):
    def __init__(self, shape, batches=8):
        self.data = iter([{"x": rng.normal(0, 1, shape).astype(np.float32)} for _ in range(batches)])

    def get_next(self):
        return next(self.data, None)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (cnn, mobile, resnet):
        m = make()
        name = m.graph.name
        shape = [2] + [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[1:]]
        fp32 = os.path.join(out, name + ".fp32.onnx")
        onnx.save(m, fp32)
        quantize_static(fp32, os.path.join(out, name + ".qdq.onnx"), Reader(shape), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.MinMax)
        np.save(os.path.join(out, name + ".input.npy"), rng.normal(0, 1, shape).astype(np.float32))
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
