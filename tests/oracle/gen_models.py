#!/usr/bin/env python3
"""Generate the oracle models: small random-weight ONNX models (fixed seeds) that cover every op
qforge supports and every attribute variant, plus a few small networks built from them.

Usage: gen_models.py OUT_DIR [--no-check] [--filter SUBSTR]

Writes OUT_DIR/<case>/model.onnx and OUT_DIR/<case>/in<i>.npy (graph inputs in graph order), and
OUT_DIR/manifest.json: a list of {name, inputs, outputs, tags, note}. Tags:
  isa    run under QFORGE_ISA=ref as well as the default ISA (Conv, ConvTranspose, Gemm, MatMul, pools)
  quant  the first outputs listed in "quant_outputs" are QuantizeLinear results: allowed to differ by
         one step where x/scale lands on a rounding tie in one implementation and not the other
Every model passes onnx.checker (full check, strict shape inference) and, unless --no-check, runs in
ONNX Runtime here, so a failure in run_oracle.py is qforge's and not the oracle's.
The batch dimension of graph inputs is symbolic ("N") wherever the op allows it.
"""
import argparse
import json
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

B = 2                    # actual batch fed for the symbolic "N"
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = []


class C:
    """Marks an array as an initializer (constant input) in single()."""

    def __init__(self, arr):
        self.arr = np.asarray(arr)


class Builder:
    def __init__(self, name, opset=17, tags=(), note=""):
        self.name, self.opset, self.tags, self.note = name, opset, set(tags), note
        self.nodes, self.inputs, self.feeds, self.inits, self.outputs = [], [], [], [], []
        self.quant_outputs = []
        self.float_step = 0.0   # > 0: float outputs may differ by this much (one quantization step)
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self._count = 0

    def _fresh(self, prefix):
        self._count += 1
        return f"{prefix}_{self._count}"

    # --- random data (float32 unless said otherwise)
    def uniform(self, shape, lo=-1.0, hi=1.0):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def randn(self, shape, scale=1.0):
        return (self.rng.standard_normal(size=shape) * scale).astype(np.float32)

    def away(self, shape, lo=0.5, hi=2.0):
        """Magnitudes in [lo, hi] with random sign: safe denominators."""
        mag = self.uniform(shape, lo, hi)
        return np.where(self.rng.random(size=shape) < 0.5, -mag, mag).astype(np.float32)

    def ints(self, shape, lo, hi, dtype=np.int64):
        return self.rng.integers(lo, hi, size=shape).astype(dtype)

    # --- graph
    def input(self, arr, sym=True, name=None, dims=None):
        arr = np.asarray(arr)
        name = name or f"in{len(self.inputs)}"
        if dims is None:
            dims = list(arr.shape)
            if sym and arr.ndim >= 1:
                dims[0] = "N"
        elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
        self.inputs.append(helper.make_tensor_value_info(name, elem, dims))
        self.feeds.append(arr)
        return name

    def init(self, arr, name=None):
        name = name or self._fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, ins, nout=1, domain="", **attrs):
        outs = [self._fresh(op.lower()) for _ in range(nout)]
        self.nodes.append(helper.make_node(op, list(ins), outs, name=self._fresh("n_" + op), domain=domain, **attrs))
        return outs[0] if nout == 1 else outs

    def output(self, *names, quant=False):
        for n in names:
            if quant:
                self.quant_outputs.append(len(self.outputs))
            self.outputs.append(n)

    def build(self):
        graph = helper.make_graph(self.nodes, self.name, self.inputs,
                                  [helper.make_empty_tensor_value_info(n) for n in self.outputs],
                                  initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="qforge-oracle", ir_version=8 if self.opset < 19 else 9)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        missing = [o for o in model.graph.output if not o.type.tensor_type.HasField("shape")]
        if missing:  # data-dependent rank: take it from ONNX Runtime, declare every dim symbolic
            results = ort_run(model, self.feeds)
            for o in missing:
                rank = results[[x.name for x in model.graph.output].index(o.name)].ndim
                o.type.tensor_type.shape.SetInParent()
                for i in range(rank):
                    o.type.tensor_type.shape.dim.add().dim_param = f"{o.name}_d{i}"
        for o in model.graph.output:
            if not o.type.tensor_type.elem_type:
                raise RuntimeError(f"{self.name}: could not infer the type of output {o.name}")
        onnx.checker.check_model(model, full_check=True)
        CASES.append(dict(name=self.name, model=model, feeds=self.feeds, tags=sorted(self.tags),
                          quant_outputs=self.quant_outputs, note=self.note,
                          float_step=self.float_step))


def single(name, op, ins, nout=1, opset=17, tags=(), sym=(0,), domain="", note="", quant=False, **attrs):
    """One-node model. ins: arrays (graph inputs), C(array) (initializers) or None (omitted input).
    sym: indices of the graph inputs whose first dim is declared symbolic."""
    b = Builder(name, opset, tags, note)
    names = []
    for i, x in enumerate(ins):
        if x is None:
            names.append("")
        elif isinstance(x, C):
            names.append(b.init(x.arr))
        else:
            names.append(b.input(x, sym=i in sym))
    while names and names[-1] == "":
        names.pop()
    outs = b.node(op, names, nout, domain=domain, **attrs)
    b.output(*(outs if nout > 1 else [outs]), quant=quant)
    b.build()


def R(name):
    """A fresh rng for a case's data, seeded by the case name (so inserting cases changes nothing)."""
    return Builder(name)


# ----------------------------------------------------------------------------------------------
# Conv / ConvTranspose
def gen_conv():
    def conv(name, c, m, spatial, k, group=1, bias=True, batch=B, wscale=None, w_input=False, **attrs):
        r = R(name)
        x = r.randn((batch, c) + tuple(spatial))
        fan_in = (c // group) * int(np.prod(k))
        w = r.randn((m, c // group) + tuple(k), 1.0 / np.sqrt(fan_in))
        ins = [x, w if w_input else C(w)]
        if bias:
            ins.append(C(r.randn((m,), 0.5)))
        if group != 1:
            attrs["group"] = group
        single(name, "Conv", ins, tags=("isa",), **attrs)

    conv("conv_basic", 3, 7, (17, 17), (3, 3), kernel_shape=[3, 3])
    conv("conv_no_kernel_shape_attr", 3, 7, (9, 11), (3, 5))
    conv("conv_nobias", 3, 7, (17, 17), (3, 3), bias=False)
    conv("conv_pads_asym", 3, 7, (17, 15), (3, 3), pads=[1, 2, 0, 1])
    conv("conv_strides", 3, 7, (17, 17), (3, 3), strides=[2, 3], pads=[1, 1, 1, 1])
    conv("conv_dilations", 3, 5, (17, 17), (3, 3), dilations=[2, 3], pads=[2, 1, 2, 3])
    conv("conv_k7s2_stem", 3, 17, (33, 33), (7, 7), strides=[2, 2], pads=[3, 3, 3, 3])
    conv("conv_group3", 6, 9, (17, 17), (3, 3), group=3, pads=[1, 1, 1, 1])
    conv("conv_depthwise", 7, 7, (17, 17), (3, 3), group=7, pads=[1, 1, 1, 1])
    conv("conv_depthwise_s2", 33, 33, (17, 17), (3, 3), group=33, strides=[2, 2], pads=[1, 1, 1, 1])
    conv("conv_depthwise_k5_nobias", 17, 17, (15, 15), (5, 5), group=17, pads=[2, 2, 2, 2], bias=False)
    conv("conv_depthwise_mult2", 3, 6, (17, 17), (3, 3), group=3, strides=[2, 2])
    conv("conv_pointwise", 17, 33, (7, 7), (1, 1))
    conv("conv_pointwise_big", 64, 63, (15, 15), (1, 1))
    conv("conv_3x3_big", 32, 64, (16, 16), (3, 3), pads=[1, 1, 1, 1])
    conv("conv_3x3_odd", 33, 17, (15, 13), (3, 3), pads=[1, 1, 1, 1])
    conv("conv_batch1", 16, 31, (9, 9), (3, 3), batch=1, pads=[1, 1, 1, 1])
    conv("conv_batch3", 5, 8, (7, 9), (3, 3), batch=3)
    conv("conv_1x1_image", 17, 7, (1, 1), (1, 1))
    conv("conv_kernel_eq_input", 3, 7, (5, 5), (5, 5))
    conv("conv_kx1", 3, 7, (17, 15), (5, 1), pads=[2, 0, 2, 0])
    conv("conv_weight_input", 3, 7, (9, 9), (3, 3), w_input=True, pads=[1, 1, 1, 1])
    for ap in ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]:
        conv(f"conv_autopad_{ap.lower()}_s2", 3, 7, (17, 16), (3, 4), auto_pad=ap, strides=[2, 2])
        if not ap.startswith("SAME"):  # ONNX Runtime refuses dilations with SAME_*: no oracle for it
            conv(f"conv_autopad_{ap.lower()}_d2", 3, 5, (15, 15), (3, 3), auto_pad=ap, dilations=[2, 2])
    # 1-D
    conv("conv1d_basic", 3, 7, (33,), (5,), pads=[2, 2])
    conv("conv1d_strided_dilated", 5, 7, (33,), (3,), strides=[2], dilations=[2], pads=[1, 3])
    conv("conv1d_depthwise", 7, 7, (17,), (3,), group=7, pads=[1, 1])
    conv("conv1d_autopad_same_lower", 3, 4, (17,), (4,), auto_pad="SAME_LOWER", strides=[3])
    conv("conv1d_nobias", 3, 4, (17,), (1,), bias=False)


def gen_convtranspose():
    def convt(name, c, m, spatial, k, group=1, bias=True, **attrs):
        r = R(name)
        x = r.randn((B, c) + tuple(spatial))
        w = r.randn((c, m // group) + tuple(k), 1.0 / np.sqrt(c * np.prod(k) / group))
        ins = [x, C(w)]
        if bias:
            ins.append(C(r.randn((m,), 0.5)))
        if group != 1:
            attrs["group"] = group
        single(name, "ConvTranspose", ins, tags=("isa",), **attrs)

    convt("convt_basic", 3, 7, (7, 7), (3, 3))
    convt("convt_nobias", 3, 7, (7, 5), (3, 3), bias=False)
    convt("convt_stride2", 5, 7, (7, 7), (3, 3), strides=[2, 2])
    convt("convt_stride2_k2", 16, 8, (7, 9), (2, 2), strides=[2, 2])
    convt("convt_pads", 3, 7, (7, 7), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
    convt("convt_pads_asym", 3, 7, (7, 7), (4, 3), strides=[2, 3], pads=[1, 0, 2, 1])
    convt("convt_output_padding", 3, 7, (7, 7), (3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    convt("convt_output_padding_asym", 3, 5, (5, 7), (3, 3), strides=[3, 2], output_padding=[2, 0])
    convt("convt_output_shape", 3, 7, (7, 7), (3, 3), strides=[2, 2], output_shape=[15, 14])
    convt("convt_output_shape_same_upper", 3, 7, (7, 7), (3, 3), strides=[2, 2], output_shape=[14, 14],
          auto_pad="SAME_UPPER")
    convt("convt_dilations", 3, 5, (7, 7), (3, 3), dilations=[2, 2])
    convt("convt_group", 6, 9, (7, 7), (3, 3), group=3, strides=[2, 2], pads=[1, 1, 1, 1])
    convt("convt_depthwise", 8, 8, (7, 7), (4, 4), group=8, strides=[2, 2], pads=[1, 1, 1, 1])
    convt("convt_autopad_same_upper", 3, 7, (7, 7), (3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
    convt("convt_autopad_same_lower", 3, 7, (7, 7), (4, 4), strides=[2, 2], auto_pad="SAME_LOWER")
    convt("convt_autopad_valid", 3, 7, (7, 7), (3, 3), strides=[2, 2], auto_pad="VALID")
    convt("convt_1d", 3, 7, (17,), (5,), strides=[2], pads=[2, 1], output_padding=[1])
    convt("convt_big", 32, 17, (9, 9), (2, 2), strides=[2, 2])


# ----------------------------------------------------------------------------------------------
# Gemm / MatMul
def gen_gemm():
    def gemm(name, m, k, n, c_shape="n", sym=True, b_input=False, **attrs):
        r = R(name)
        ta, tb = attrs.get("transA", 0), attrs.get("transB", 0)
        a = r.randn((k, m) if ta else (m, k))
        bm = r.randn((n, k) if tb else (k, n), 1.0 / np.sqrt(k))
        ins = [a, bm if b_input else C(bm)]
        shapes = {"none": None, "scalar": (), "one": (1,), "n": (n,), "1n": (1, n), "m1": (m, 1), "mn": (m, n)}
        if shapes[c_shape] is not None:
            ins.append(C(r.randn(shapes[c_shape])))
        single(name, "Gemm", ins, tags=("isa",), sym=(0,) if sym and not ta else (), **attrs)

    gemm("gemm_basic", B, 17, 7)
    gemm("gemm_transB", B, 33, 17, transB=1)
    gemm("gemm_transA", 7, 17, 5, transA=1)
    gemm("gemm_transA_transB", 7, 17, 5, transA=1, transB=1)
    gemm("gemm_alpha_beta", B, 17, 7, alpha=0.5, beta=2.0)
    gemm("gemm_alpha_no_c", B, 17, 7, c_shape="none", alpha=1.7)
    gemm("gemm_beta0", B, 17, 7, beta=0.0)
    for cs in ["none", "scalar", "one", "1n"]:
        gemm(f"gemm_c_{cs}", B, 17, 7, c_shape=cs, transB=1)
    gemm("gemm_c_m1", 3, 17, 7, c_shape="m1", sym=False)
    gemm("gemm_c_mn", 3, 17, 7, c_shape="mn", sym=False, beta=0.3)
    gemm("gemm_b_input", 3, 17, 7, b_input=True, sym=False, transB=1)
    gemm("gemm_big", 33, 129, 63, transB=1, sym=False)
    gemm("gemm_m1_big", 1, 255, 127, transB=1, sym=False)
    gemm("gemm_square", 64, 64, 64, sym=False)


def gen_matmul():
    def mm(name, a_shape, b_shape, b_const=True, sym=True):
        r = R(name)
        a = r.randn(a_shape)
        bm = r.randn(b_shape, 1.0 / np.sqrt(a_shape[-1]))
        single(name, "MatMul", [a, C(bm) if b_const else bm], tags=("isa",),
               sym=(0,) if sym and len(a_shape) >= 2 else ())

    mm("matmul_1d_1d", (17,), (17,), b_const=False)
    mm("matmul_1d_2d", (17,), (17, 7))
    mm("matmul_2d_1d", (7, 17), (17,), sym=False)
    mm("matmul_2d_2d", (B, 17), (17, 7))
    mm("matmul_2d_2d_inputs", (7, 17), (17, 5), b_const=False, sym=False)
    mm("matmul_3d_2d", (B, 7, 17), (17, 33))
    mm("matmul_4d_2d", (B, 3, 7, 17), (17, 5))
    mm("matmul_batched_same", (B, 3, 7, 17), (B, 3, 17, 5), b_const=False, sym=False)
    mm("matmul_bcast_4d_3d", (2, 1, 7, 17), (3, 17, 5), b_const=False, sym=False)
    mm("matmul_bcast_lhs_2d", (7, 17), (3, 17, 5), b_const=False, sym=False)
    mm("matmul_1d_3d", (17,), (2, 17, 5), b_const=False)
    mm("matmul_3d_1d", (B, 7, 17), (17,))
    mm("matmul_big", (B, 33, 129), (129, 63))
    mm("matmul_vec_big", (1, 255), (255, 127), sym=False)
    mm("matmul_attention_like", (B, 4, 17, 16), (B, 4, 16, 17), b_const=False, sym=False)
    mm("matmul_k1", (B, 7, 1), (1, 5))


# ----------------------------------------------------------------------------------------------
# elementwise
def gen_binary():
    patterns = {
        # name: (a shape, b shape, b constant?, which inputs symbolic)
        "same": ((B, 3, 7), (B, 3, 7), False, (0, 1)),
        "scalar": ((B, 3, 7), (), True, (0,)),
        "row": ((B, 3, 7), (7,), True, (0,)),
        "outer": ((B, 3, 1), (1, 7), False, (0,)),
        "multi": ((2, 1, 7), (3, 1), False, ()),
        "lhs_small": ((7,), (B, 3, 7), False, (1,)),
        "rank5": ((2, 1, 3, 1, 5), (4, 1, 5, 1), False, ()),
    }
    for op in ["Add", "Sub", "Mul", "Div", "Pow"]:
        for pat, (sa, sb, bconst, sym) in patterns.items():
            name = f"{op.lower()}_{pat}"
            r = R(name)
            if op == "Pow":
                a, bb = r.uniform(sa, 0.5, 2.0), r.uniform(sb, -2.0, 2.0)
            elif op == "Div":
                a, bb = r.randn(sa), r.away(sb)
            else:
                a, bb = r.randn(sa), r.randn(sb)
            single(name, op, [a, C(bb) if bconst else bb], sym=sym)
    r = R("pow")
    single("pow_square", "Pow", [r.randn((B, 3, 7)), C(np.float32(2.0))])
    single("pow_half", "Pow", [r.uniform((B, 3, 7), 0.0, 4.0), C(np.float32(0.5))])
    single("pow_neg_base_odd_exp", "Pow", [r.randn((B, 3, 7)), C(np.float32(3.0))])
    single("pow_int64_exponent", "Pow", [r.away((B, 3)), C(np.array([2, 3, -1], np.int64))])
    # integer arithmetic (ORT: C++ semantics, integer Div truncates toward zero)
    for dt in [np.int64, np.int32]:
        tn = "s64" if dt == np.int64 else "s32"
        r = R(f"int_{tn}")
        a = r.ints((B, 3, 7), -50, 50, dt)
        for op in ["Add", "Sub", "Mul"]:
            single(f"{op.lower()}_{tn}", op, [a, r.ints((7,), -50, 50, dt)])
        d = r.ints((3, 1), 1, 9, dt) * np.where(r.rng.random((3, 1)) < 0.5, -1, 1).astype(dt)
        single(f"div_{tn}", "Div", [a, d])
    r = R("mul_s64_scalar")
    single("mul_s64_scalar", "Mul", [r.ints((B, 3), 0, 20), C(np.array(3, np.int64))])


def gen_unary():
    specs = [
        ("Sqrt", lambda r, s: r.uniform(s, 0.0, 9.0)),
        ("Exp", lambda r, s: r.uniform(s, -8.0, 8.0)),
        ("Log", lambda r, s: r.uniform(s, 0.01, 50.0)),
        ("Neg", lambda r, s: r.randn(s)),
        ("Abs", lambda r, s: r.randn(s)),
        ("Reciprocal", lambda r, s: r.away(s, 0.1, 10.0)),
        ("Relu", lambda r, s: r.randn(s)),
        ("Sigmoid", lambda r, s: r.randn(s, 4.0)),
        ("Tanh", lambda r, s: r.randn(s, 3.0)),
        ("Erf", lambda r, s: r.randn(s, 2.0)),
        ("HardSwish", lambda r, s: r.randn(s, 4.0)),
    ]
    for op, gen in specs:
        for tag, shape in [("", (B, 3, 17)), ("_long", (B, 5, 33))]:
            name = f"{op.lower()}{tag}"
            single(name, op, [gen(R(name), shape)])
    r = R("extreme")
    x = np.array([[-100, -50, -20, -1e-3, 0, 1e-3, 20, 50, 100]], np.float32)
    for op in ["Sigmoid", "Tanh", "Erf", "HardSwish"]:
        single(f"{op.lower()}_extreme", op, [x])
    single("exp_overflow", "Exp", [np.array([[-200, -90, 0, 80, 88, 89, 200]], np.float32)])


def gen_activation():
    r = R("act")
    x4 = r.randn((B, 3, 7, 5))
    single("leakyrelu_default", "LeakyRelu", [r.randn((B, 3, 17))])
    single("leakyrelu_alpha", "LeakyRelu", [r.randn((B, 3, 17))], alpha=0.13)
    single("prelu_channel", "PRelu", [x4, C(r.uniform((3, 1, 1), 0.0, 0.5))])
    single("prelu_scalar", "PRelu", [x4, C(np.array([0.25], np.float32))])
    single("prelu_full", "PRelu", [x4, C(r.uniform((3, 7, 5), -0.5, 0.5))])
    single("prelu_lastdim", "PRelu", [x4, C(r.uniform((5,), 0.0, 0.5))])
    single("prelu_2d", "PRelu", [r.randn((B, 7)), C(r.uniform((7,), 0.0, 0.5))])
    single("prelu_slope_input", "PRelu", [r.randn((B, 3, 7)), r.uniform((3, 1), 0.0, 0.5)])
    xc = r.randn((B, 3, 17), 2.0)
    lo, hi = C(np.float32(-0.5)), C(np.float32(0.8))
    single("clip_both", "Clip", [xc, lo, hi])
    single("clip_min_only", "Clip", [xc, lo])
    single("clip_max_only", "Clip", [xc, None, hi])
    single("clip_neither", "Clip", [xc])
    single("clip_relu6", "Clip", [r.randn((B, 3, 17), 5.0), C(np.float32(0)), C(np.float32(6))])
    single("clip_min_gt_max", "Clip", [xc, C(np.float32(0.5)), C(np.float32(-0.5))])
    single("clip_bounds_input", "Clip", [xc, np.array(-0.3, np.float32), np.array(0.4, np.float32)], sym=(0,))
    single("clip_opset11", "Clip", [xc, lo, hi], opset=11)
    single("clip_opset11_max_only", "Clip", [xc, None, hi], opset=11)
    single("hardsigmoid_default", "HardSigmoid", [r.randn((B, 3, 17), 4.0)])
    single("hardsigmoid_alpha_beta", "HardSigmoid", [r.randn((B, 3, 17), 4.0)], alpha=0.3, beta=0.6)
    single("gelu_none", "Gelu", [r.randn((B, 3, 17), 3.0)], opset=20)
    single("gelu_tanh", "Gelu", [r.randn((B, 3, 17), 3.0)], opset=20, approximate="tanh")
    for op in ["Softmax", "LogSoftmax"]:
        p = op.lower()
        x3 = r.randn((B, 3, 7), 2.0)
        x4 = r.randn((B, 3, 5, 7), 2.0)
        single(f"{p}_default", op, [x3])
        single(f"{p}_axis1", op, [x3], axis=1)
        single(f"{p}_axis0", op, [x3], axis=0)
        single(f"{p}_axis_neg2_4d", op, [x4], axis=-2)
        single(f"{p}_large", op, [r.randn((B, 33), 50.0)])
        single(f"{p}_opset11_default", op, [x4], opset=11, note="opset < 13: coerced to 2-D at axis 1")
        single(f"{p}_opset11_axis2", op, [x4], opset=11, axis=2)
        single(f"{p}_opset11_axis_neg1", op, [x4], opset=11, axis=-1)
        single(f"{p}_opset11_axis0", op, [x3], opset=11, axis=0)
        single(f"{p}_opset12_axis1_3d", op, [x3], opset=12, axis=1)


def gen_normalization():
    def bn(name, shape, opset=15, eps=None):
        r = R(name)
        c = shape[1]
        ins = [r.randn(shape, 2.0), C(r.uniform((c,), 0.5, 1.5)), C(r.randn((c,))), C(r.randn((c,))),
               C(r.uniform((c,), 0.1, 3.0))]
        kw = {} if eps is None else {"epsilon": eps}
        single(name, "BatchNormalization", ins, opset=opset, **kw)

    bn("batchnorm_4d", (B, 3, 7, 5))
    bn("batchnorm_eps", (B, 17, 3, 3), eps=1e-2)
    bn("batchnorm_2d", (B, 17))
    bn("batchnorm_3d", (B, 5, 33))
    bn("batchnorm_opset11", (B, 3, 7, 5), opset=11)
    bn("batchnorm_opset14", (B, 3, 7, 5), opset=14)

    def ln(name, shape, axis=-1, bias=True, **attrs):
        r = R(name)
        norm = shape[axis:]
        ins = [r.randn(shape, 3.0) + 1.0, C(r.uniform(norm, 0.5, 1.5))]
        if bias:
            ins.append(C(r.randn(norm)))
        single(name, "LayerNormalization", ins, axis=axis, **attrs)

    ln("layernorm_last", (B, 7, 33))
    ln("layernorm_axis1", (B, 3, 7, 5), axis=1)
    ln("layernorm_axis_neg2", (B, 3, 7, 5), axis=-2)
    ln("layernorm_nobias", (B, 7, 17), bias=False)
    ln("layernorm_eps", (B, 7, 17), epsilon=1e-2)
    ln("layernorm_2d", (B, 64))


def gen_pool():
    def pool(name, op, shape, opset=17, neg=False, **attrs):
        r = R(name)
        x = r.randn(shape)
        if neg:
            x = x - 5.0
        single(name, op, [x], opset=opset, tags=("isa",), **attrs)

    s = (B, 3, 17, 17)
    pool("maxpool_k3s2", "MaxPool", s, kernel_shape=[3, 3], strides=[2, 2])
    pool("maxpool_k2s2", "MaxPool", (B, 17, 16, 15), kernel_shape=[2, 2], strides=[2, 2])
    pool("maxpool_k3s1_pads", "MaxPool", s, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool("maxpool_pads_negative_input", "MaxPool", s, neg=True, kernel_shape=[3, 3], pads=[1, 2, 1, 2], strides=[2, 2])
    pool("maxpool_ceil", "MaxPool", (B, 3, 16, 16), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool("maxpool_ceil_pads", "MaxPool", s, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    pool("maxpool_dilations", "MaxPool", s, kernel_shape=[3, 3], dilations=[2, 2])
    pool("maxpool_dilations_ceil", "MaxPool", (B, 3, 16, 16), kernel_shape=[2, 2], dilations=[2, 2], strides=[3, 3],
         ceil_mode=1)
    pool("maxpool_rect", "MaxPool", s, kernel_shape=[3, 2], strides=[1, 2])
    for ap in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        pool(f"maxpool_autopad_{ap.lower()}", "MaxPool", (B, 3, 16, 17), kernel_shape=[3, 2], strides=[2, 2],
             auto_pad=ap, neg=True)
    pool("maxpool_1d", "MaxPool", (B, 3, 33), kernel_shape=[3], strides=[2], pads=[1, 1])
    pool("maxpool_global_like", "MaxPool", (B, 7, 5, 5), kernel_shape=[5, 5])

    pool("avgpool_k3s2", "AveragePool", s, kernel_shape=[3, 3], strides=[2, 2])
    pool("avgpool_k2s2", "AveragePool", (B, 17, 16, 15), kernel_shape=[2, 2], strides=[2, 2])
    pool("avgpool_pads_exclude", "AveragePool", s, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    pool("avgpool_pads_include", "AveragePool", s, kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    pool("avgpool_pads_asym_include", "AveragePool", s, kernel_shape=[3, 3], pads=[0, 1, 2, 1], strides=[2, 2],
         count_include_pad=1)
    pool("avgpool_ceil", "AveragePool", (B, 3, 16, 16), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool("avgpool_ceil_include", "AveragePool", (B, 3, 16, 16), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         ceil_mode=1, count_include_pad=1)
    pool("avgpool_ceil_pads_exclude", "AveragePool", s, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         ceil_mode=1)
    for ap in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        pool(f"avgpool_autopad_{ap.lower()}", "AveragePool", (B, 3, 16, 17), kernel_shape=[3, 2], strides=[2, 2],
             auto_pad=ap)
    pool("avgpool_dilations_opset19", "AveragePool", s, opset=19, kernel_shape=[3, 3], dilations=[2, 2],
         pads=[1, 1, 1, 1])
    pool("avgpool_1d", "AveragePool", (B, 3, 33), kernel_shape=[4], strides=[3])
    pool("avgpool_opset11", "AveragePool", s, opset=11, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])

    for op in ["GlobalAveragePool", "GlobalMaxPool"]:
        p = "gap" if op == "GlobalAveragePool" else "gmp"
        pool(f"{p}_4d", op, (B, 17, 7, 5))
        pool(f"{p}_big", op, (B, 64, 15, 15))
        pool(f"{p}_1d", op, (B, 3, 17))
        pool(f"{p}_1x1", op, (B, 33, 1, 1))


# ----------------------------------------------------------------------------------------------
# shape manipulation
def gen_shape_ops():
    r = R("shape_ops")
    x4 = r.randn((B, 3, 7, 5))
    x3 = r.randn((B, 7, 17))
    for axis in [0, 1, 2, -1, 4]:
        single(f"flatten_axis{axis}".replace("-", "neg"), "Flatten", [x4], axis=axis)
    single("flatten_default", "Flatten", [x4])

    i64 = lambda v: C(np.array(v, np.int64))
    single("reshape_zero_neg1", "Reshape", [x4, i64([0, -1])])
    single("reshape_neg1_first", "Reshape", [x4, i64([-1, 7])])
    single("reshape_keep_two", "Reshape", [x4, i64([0, 0, -1])])
    single("reshape_expand_rank", "Reshape", [x3, i64([0, 7, 1, 17, 1])])
    single("reshape_allowzero_nozero", "Reshape", [x4, i64([B, 21, 5])], allowzero=1, sym=())
    single("reshape_allowzero_empty", "Reshape", [np.zeros((0, 3), np.float32), i64([3, 0])], allowzero=1, sym=())
    single("reshape_shape_input", "Reshape", [x4, np.array([B, 105], np.int64)], sym=(0,))
    single("reshape_opset11", "Reshape", [x4, i64([0, -1])], opset=11)

    single("transpose_default", "Transpose", [x4])
    for perm in [[0, 2, 3, 1], [0, 3, 1, 2], [1, 0, 2, 3], [0, 1, 3, 2]]:
        single("transpose_" + "".join(map(str, perm)), "Transpose", [x4], perm=perm)
    single("transpose_2d", "Transpose", [r.randn((B, 33))], perm=[1, 0])
    single("transpose_5d", "Transpose", [r.randn((B, 3, 2, 5, 4))], perm=[0, 3, 1, 4, 2])
    single("transpose_3d_102", "Transpose", [x3], perm=[1, 0, 2])

    xs = r.randn((B, 1, 7, 1))
    single("squeeze_opset11_attr", "Squeeze", [xs], opset=11, axes=[1])
    single("squeeze_opset11_negative", "Squeeze", [xs], opset=11, axes=[-1, 1])
    single("squeeze_input_axes", "Squeeze", [xs, i64([1, 3])])
    single("squeeze_negative_axes", "Squeeze", [xs, i64([-1])])
    single("squeeze_no_axes", "Squeeze", [r.randn((1, 3, 1, 7))], sym=())
    single("unsqueeze_opset11_attr", "Unsqueeze", [x3], opset=11, axes=[0])
    single("unsqueeze_opset11_multi", "Unsqueeze", [x3], opset=11, axes=[1, -1])
    single("unsqueeze_input_axes", "Unsqueeze", [x3, i64([1, 3])])
    single("unsqueeze_unsorted", "Unsqueeze", [x3, i64([3, 1])])
    single("unsqueeze_negative", "Unsqueeze", [x3, i64([-1])])
    single("unsqueeze_scalar", "Unsqueeze", [np.array(2.5, np.float32), i64([0])], sym=())

    a, b2 = r.randn((B, 3, 7)), r.randn((B, 5, 7))
    single("concat_axis1", "Concat", [a, b2], axis=1, sym=(0, 1))
    single("concat_axis_neg1_three", "Concat", [a, C(r.randn((B, 3, 2))), r.randn((B, 3, 5))], axis=-1, sym=(0, 2))
    single("concat_axis0_batch", "Concat", [a, r.randn((3, 3, 7))], axis=0, sym=(0, 1))
    single("concat_single", "Concat", [a], axis=1)
    single("concat_s64", "Concat", [np.array([1, 2], np.int64), C(np.array([-1], np.int64))], axis=0, sym=())

    x7 = r.randn((B, 3, 7))
    single("split_opset11_attr", "Split", [x7], nout=2, opset=11, axis=2, split=[2, 5])
    single("split_opset11_equal", "Split", [r.randn((B, 6, 5))], nout=3, opset=11, axis=1)
    single("split_input", "Split", [x7, i64([1, 2])], nout=2, axis=1)
    single("split_input_negative_axis", "Split", [x7, i64([3, 1, 3])], nout=3, axis=-1)
    single("split_equal_default_axis0", "Split", [r.randn((4, 3, 5))], nout=2, sym=())
    single("split_num_outputs_uneven", "Split", [x7], nout=3, opset=18, axis=2, num_outputs=3)
    single("split_num_outputs_uneven2", "Split", [x7], nout=2, opset=18, axis=-1, num_outputs=2)
    single("split_num_outputs_even", "Split", [r.randn((B, 6, 5))], nout=3, opset=18, axis=1, num_outputs=3)

    def sl(name, starts, ends, axes=None, steps=None, x=x3, dt=np.int64, opset=17, sym=(0,)):
        ins = [x, C(np.array(starts, dt)), C(np.array(ends, dt))]
        if axes is not None or steps is not None:
            ins.append(C(np.array(axes, dt)) if axes is not None else None)
        if steps is not None:
            ins.append(C(np.array(steps, dt)))
        single(name, "Slice", ins, opset=opset, sym=sym)

    sl("slice_basic", [1], [5], [1])
    sl("slice_negative_step", [-1], [INT64_MIN], [2], [-1])
    sl("slice_negative_step2", [15], [2], [2], [-2])
    sl("slice_negative_step_clamp", [1000], [-1000], [1], [-3])
    sl("slice_clamp", [-100], [INT64_MAX], [2])
    sl("slice_neg_axes_multi", [1, -3], [-1, 6], [-1, 1])
    sl("slice_no_axes", [0, 1, 2], [INT64_MAX, 6, 15])
    sl("slice_steps3", [0, 1], [17, 7], [2, 1], [3, 2])
    sl("slice_empty", [5], [2], [1])
    sl("slice_int32", [1], [-2], [2], [2], dt=np.int32)
    sl("slice_batch_axis", [1], [INT64_MAX], [0], x=r.randn((3, 7, 17)), sym=())
    sl("slice_opset11", [1, 2], [6, 16], [1, 2], [2, 3], opset=11)
    single("slice_starts_input", "Slice", [x3, np.array([2], np.int64), C(np.array([7], np.int64)),
                                           C(np.array([1], np.int64))], sym=(0,))

    single("gather_axis1", "Gather", [r.randn((B, 7, 5)), C(np.array([[0, 6], [-1, 3]], np.int64))], axis=1)
    single("gather_axis0", "Gather", [r.randn((5, 3)), C(np.array([4, 0, -2, 1], np.int64))], sym=())
    single("gather_scalar_index", "Gather", [r.randn((B, 7, 5)), C(np.array(-2, np.int64))], axis=-1)
    single("gather_int32_indices", "Gather", [r.randn((B, 7, 5)), C(np.array([3, 1, 6], np.int32))], axis=1)
    single("gather_embedding", "Gather", [C(r.randn((33, 16))), r.ints((B, 7), -33, 33)], sym=(1,))
    single("gather_s64_data", "Gather", [r.ints((B, 7), -9, 9), C(np.array([0, -1], np.int64))], axis=1)

    for name, kw in [("shape_default", {}), ("shape_start1", {"start": 1}), ("shape_end_neg1", {"end": -1}),
                     ("shape_start_neg2", {"start": -2}), ("shape_start_end", {"start": 1, "end": 3}),
                     ("shape_start_clamp", {"start": -10, "end": 10})]:
        single(name, "Shape", [x4], opset=17 if kw else 13, **kw)

    single("identity", "Identity", [x3])
    single("identity_s64", "Identity", [r.ints((B, 5), -9, 9)])


def gen_cast():
    r = R("cast")
    T = TensorProto
    f = r.uniform((B, 3, 7), -100.0, 100.0)
    tricky_f16 = np.array([[0.0, -0.0, 1e-8, 6e-8, 1e-6, 65504.0, 65519.0, 65520.0, 70000.0, -70000.0,
                            1.00048828125, 1.0009765625, 1.00146484375, 0.1, 2049.0, 3.14159]], np.float32)
    single("cast_f32_f16", "Cast", [f], to=T.FLOAT16)
    single("cast_f32_f16_rounding", "Cast", [tricky_f16], to=T.FLOAT16, sym=())
    single("cast_f16_f32", "Cast", [f.astype(np.float16)], to=T.FLOAT)
    single("cast_f32_s64", "Cast", [f], to=T.INT64, note="float to int truncates toward zero")
    single("cast_f32_s32", "Cast", [f], to=T.INT32)
    single("cast_f32_s8", "Cast", [r.uniform((B, 3, 7), -127.0, 127.0)], to=T.INT8)
    single("cast_f32_u8", "Cast", [r.uniform((B, 3, 7), 0.0, 255.0)], to=T.UINT8)
    fz = np.where(r.rng.random((B, 3, 7)) < 0.3, 0.0, f).astype(np.float32)
    single("cast_f32_bool", "Cast", [fz], to=T.BOOL)
    single("cast_bool_f32", "Cast", [r.rng.random((B, 3, 7)) < 0.5], to=T.FLOAT)
    single("cast_bool_s64", "Cast", [r.rng.random((B, 3, 7)) < 0.5], to=T.INT64)
    single("cast_s64_f32", "Cast", [r.ints((B, 3, 7), -(2 ** 40), 2 ** 40)], to=T.FLOAT)
    single("cast_s64_s32", "Cast", [r.ints((B, 3, 7), -(2 ** 20), 2 ** 20)], to=T.INT32)
    single("cast_s32_s64", "Cast", [r.ints((B, 3, 7), -(2 ** 30), 2 ** 30, np.int32)], to=T.INT64)
    single("cast_u8_f32", "Cast", [r.ints((B, 3, 7), 0, 256, np.uint8)], to=T.FLOAT)
    single("cast_s8_f32", "Cast", [r.ints((B, 3, 7), -128, 128, np.int8)], to=T.FLOAT)
    single("cast_f32_f64", "Cast", [f], to=T.DOUBLE)
    single("cast_f64_f32", "Cast", [r.randn((B, 3, 7)).astype(np.float64) * np.pi], to=T.FLOAT)
    single("cast_f32_f32", "Cast", [f], to=T.FLOAT)
    single("cast_opset19_f32_f16", "Cast", [f], to=T.FLOAT16, opset=19)


def gen_constant_like():
    T = TensorProto
    cases = [
        ("constant_tensor", dict(value=numpy_helper.from_array(R("ct").randn((3, 7)))), (B, 3, 7)),
        ("constant_value_float", dict(value_float=1.25), (B, 3, 7)),
        ("constant_value_floats", dict(value_floats=[1.0, -2.0, 0.5, 3.0, 0.25, -1.0, 2.0]), (B, 3, 7)),
    ]
    for name, attrs, shape in cases:
        b = Builder(name)
        x = b.input(b.randn(shape))
        c = b.node("Constant", [], **attrs)
        b.output(b.node("Add", [x, c]), c)
        b.build()
    for name, attrs in [("constant_value_int", dict(value_int=7)), ("constant_value_ints", dict(value_ints=[3, -1, 4]))]:
        b = Builder(name)
        x = b.input(b.ints((B, 3), -5, 5))
        c = b.node("Constant", [], **attrs)
        b.output(b.node("Mul", [x, c]), c)
        b.build()
    b = Builder("constant_reshape_shape")
    x = b.input(b.randn((B, 3, 7)))
    s = b.node("Constant", [], value=numpy_helper.from_array(np.array([0, -1], np.int64)))
    b.output(b.node("Reshape", [x, s]))
    b.build()

    for name, attrs in [("constantofshape_default", {}),
                        ("constantofshape_float", dict(value=helper.make_tensor("v", T.FLOAT, [1], [0.5]))),
                        ("constantofshape_s64", dict(value=helper.make_tensor("v", T.INT64, [1], [7])))]:
        b = Builder(name)
        x = b.input(b.randn((B, 3, 7)))
        b.output(b.node("ConstantOfShape", [b.node("Shape", [x])], **attrs))
        b.build()
    single("constantofshape_shape_input", "ConstantOfShape", [np.array([2, 3, 5], np.int64)], sym=(),
           value=helper.make_tensor("v", T.FLOAT, [1], [-1.5]))
    b = Builder("constantofshape_const_plus_input")
    x = b.input(b.randn((3, 5)), sym=False)
    c = b.node("ConstantOfShape", [b.init(np.array([3, 5], np.int64))], value=helper.make_tensor("v", T.FLOAT, [1], [2.0]))
    b.output(b.node("Mul", [x, c]))
    b.build()

    r = R("dropout")
    single("dropout_opset13_mask", "Dropout", [r.randn((B, 3, 7)), C(np.float32(0.3))], nout=2, opset=13)
    single("dropout_opset13", "Dropout", [r.randn((B, 3, 7))], opset=13)
    single("dropout_training_false", "Dropout", [r.randn((B, 3, 7)), C(np.float32(0.5)), C(np.array(False))],
           opset=13)
    single("dropout_opset11_ratio_attr", "Dropout", [r.randn((B, 3, 7))], opset=11, ratio=0.2)


def gen_reduce():
    r = R("reduce")
    x = r.randn((B, 3, 7, 5))
    for op in ["ReduceMean", "ReduceSum", "ReduceMax"]:
        p = op.lower()
        # opset 13: ReduceSum takes axes as an input, the others as an attribute
        for tag, axes, keep in [("axis1", [1], 1), ("axes12_keep0", [1, 2], 0), ("neg", [-1], 0),
                                ("all_keep1", None, 1), ("all_keep0", None, 0)]:
            name = f"{p}_{tag}"
            if op == "ReduceSum":
                ins = [x] + ([C(np.array(axes, np.int64))] if axes is not None else [])
                single(name, op, ins, opset=13, keepdims=keep)
            else:
                kw = {"axes": axes} if axes is not None else {}
                single(name, op, [x], opset=13, keepdims=keep, **kw)
        # opset 18: axes input for all
        single(f"{p}_opset18_axes_input", op, [x, C(np.array([2, -1], np.int64))], opset=18)
        single(f"{p}_opset18_keep0", op, [x, C(np.array([1], np.int64))], opset=18, keepdims=0)
        single(f"{p}_opset18_no_axes", op, [x], opset=18, keepdims=0)
        single(f"{p}_opset18_noop_empty", op, [x], opset=18, noop_with_empty_axes=1)
        single(f"{p}_opset18_noop_empty_tensor", op, [x, C(np.array([], np.int64))], opset=18, noop_with_empty_axes=1)
        single(f"{p}_opset11_attr", op, [x], opset=11, axes=[0, 2], keepdims=1)
        single(f"{p}_axes_input_dynamic", op, [x, np.array([1, 3], np.int64)], opset=18, keepdims=1, sym=(0,))
    single("reducemax_negative_values", "ReduceMax", [x - 10.0], opset=13, axes=[3])
    single("reducesum_large_axis", "ReduceSum", [r.randn((B, 1000))], opset=13, keepdims=0)

    xt = r.ints((B, 3, 7), 0, 3).astype(np.float32)  # many ties
    single("argmax_axis1", "ArgMax", [r.randn((B, 3, 7))], axis=1)
    single("argmax_neg_keep0", "ArgMax", [r.randn((B, 3, 7))], axis=-1, keepdims=0)
    single("argmax_axis0_default", "ArgMax", [r.randn((B, 3, 7))])
    single("argmax_ties_first", "ArgMax", [xt], axis=2)
    single("argmax_ties_last", "ArgMax", [xt], axis=2, select_last_index=1)
    single("argmax_ties_last_keep0", "ArgMax", [xt], axis=1, keepdims=0, select_last_index=1)


def gen_resize():
    r = R("resize")
    x = r.randn((B, 3, 7, 5))
    xd = r.randn((B, 3, 17, 15))
    # Scales chosen so that no source coordinate of any mode is an exact integer or .5 in exact
    # arithmetic: there the nearest index would hinge on the last ulp of the float formula.
    up = np.array([1, 1, 1.77, 1.67], np.float32)
    down = np.array([1, 1, 0.62, 0.42], np.float32)
    f32 = lambda v: C(np.array(v, np.float32))
    coords_nn = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric"]
    for cm in coords_nn:
        for nm in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]:
            name = f"resize_nearest_{cm}_{nm}"
            single(name, "Resize", [x, None, C(up)], opset=19, mode="nearest", coordinate_transformation_mode=cm,
                   nearest_mode=nm)
        single(f"resize_nearest_{cm}_down", "Resize", [xd, None, C(down)], opset=19, mode="nearest",
               coordinate_transformation_mode=cm)
    for cm in ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric"]:
        single(f"resize_linear_{cm}_up", "Resize", [x, None, C(up)], opset=19, mode="linear",
               coordinate_transformation_mode=cm)
        single(f"resize_linear_{cm}_down", "Resize", [xd, None, C(down)], opset=19, mode="linear",
               coordinate_transformation_mode=cm)
    for nm in ["round_prefer_floor", "round_prefer_ceil"]:  # exact .5 ties (o / 2, o / 4): tie-breaking itself
        single(f"resize_nearest_asymmetric_exact_ties_{nm}", "Resize", [x, None, f32([1, 1, 2, 4])], opset=19,
               mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode=nm)
    for nm in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]:  # removed from the spec at opset 13
        single(f"resize_opset11_nearest_tf_half_pixel_for_nn_{nm}", "Resize", [x, f32([]), C(up)], opset=11,
               mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode=nm)
    roi = f32([0, 0, -0.1, 0.2, 1, 1, 0.8, 1.2])
    single("resize_linear_tf_crop_and_resize", "Resize", [x, roi, C(up)], opset=19, mode="linear",
           coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=0.5)
    single("resize_nearest_tf_crop_and_resize", "Resize", [x, roi, None, C(np.array([B, 3, 9, 6], np.int64))],
           opset=19, mode="nearest", coordinate_transformation_mode="tf_crop_and_resize", sym=())
    single("resize_nearest_int_scale2", "Resize", [x, None, f32([1, 1, 2, 2])], opset=13, mode="nearest")
    single("resize_nearest_asym_floor_2x", "Resize", [x, None, f32([1, 1, 2, 2])], opset=13, mode="nearest",
           coordinate_transformation_mode="asymmetric", nearest_mode="floor", note="the PaddleOCR det FPN form")
    single("resize_linear_int_scale2", "Resize", [x, None, f32([1, 1, 2, 2])], opset=13, mode="linear")
    single("resize_nearest_sizes", "Resize", [x, None, None, C(np.array([B, 3, 11, 8], np.int64))], opset=13,
           mode="nearest", sym=())
    single("resize_linear_sizes", "Resize", [x, None, None, C(np.array([B, 3, 4, 9], np.int64))], opset=13,
           mode="linear", sym=())
    single("resize_linear_sizes_axes", "Resize", [x, None, None, C(np.array([10, 3], np.int64))], opset=18,
           mode="linear", axes=[2, 3])
    single("resize_nearest_scales_axes", "Resize", [x, None, f32([2.5, 1.5])], opset=18, mode="nearest", axes=[-2, -1])
    for pol in ["not_larger", "not_smaller"]:
        single(f"resize_keep_aspect_{pol}", "Resize", [x, None, None, C(np.array([12, 12], np.int64))], opset=18,
               mode="linear", axes=[2, 3], keep_aspect_ratio_policy=pol)
    single("resize_linear_antialias_down", "Resize", [r.randn((B, 3, 17, 15)), None, f32([1, 1, 0.4, 0.6])], opset=18,
           mode="linear", antialias=1)
    single("resize_opset11_linear", "Resize", [x, f32([]), f32([1, 1, 2, 1.5])], opset=11, mode="linear",
           coordinate_transformation_mode="align_corners")
    single("resize_opset11_nearest_sizes", "Resize", [x, f32([]), f32([]), C(np.array([B, 3, 14, 15], np.int64))],
           opset=11, mode="nearest", sym=())
    single("resize_scales_input", "Resize", [x, None, np.array([1, 1, 2, 3], np.float32)], opset=13, mode="nearest",
           sym=(0,))
    single("resize_linear_channel_scale", "Resize", [x, None, f32([1, 2, 1, 1])], opset=13, mode="nearest")


def gen_pad():
    r = R("pad")
    x = r.randn((B, 3, 7, 5))
    i64 = lambda v: C(np.array(v, np.int64))
    single("pad_constant", "Pad", [x, i64([0, 0, 1, 2, 0, 0, 2, 1]), C(np.float32(0.7))])
    single("pad_constant_default", "Pad", [x, i64([0, 1, 1, 0, 0, 0, 2, 3])])
    single("pad_reflect", "Pad", [x, i64([0, 0, 6, 4, 0, 0, 3, 2])], mode="reflect")
    single("pad_edge", "Pad", [x, i64([0, 0, 2, 7, 0, 0, 9, 1])], mode="edge")
    single("pad_wrap", "Pad", [x, i64([0, 0, 2, 3, 0, 0, 4, 1])], opset=19, mode="wrap")
    single("pad_negative", "Pad", [x, i64([0, 0, -1, 1, 0, 0, 2, -2])])
    single("pad_axes", "Pad", [x, i64([1, 2, 3, 0]), C(np.float32(-1.0)), i64([2, -1])], opset=18)
    single("pad_axes_reflect", "Pad", [x, i64([2, 1, 0, 3]), None, i64([-2, 3])], opset=18, mode="reflect")
    single("pad_opset11", "Pad", [x, i64([0, 0, 1, 1, 0, 0, 1, 1]), C(np.float32(0.25))], opset=11)
    single("pad_1d_reflect", "Pad", [r.randn((B, 3, 17)), i64([0, 0, 3, 0, 0, 5])], mode="reflect")
    single("pad_s64_constant", "Pad", [r.ints((B, 3), -9, 9), i64([0, 2, 0, 1]), C(np.array(5, np.int64))])
    single("pad_pads_input", "Pad", [x, np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64)], sym=(0,))


def gen_misc():
    r = R("misc")
    cond = r.rng.random((B, 1, 7)) < 0.5
    single("where_broadcast", "Where", [cond, r.randn((B, 3, 7)), C(np.float32(-1.0))], sym=(0, 1))
    single("where_all_inputs", "Where", [r.rng.random((B, 3, 7)) < 0.5, r.randn((B, 3, 7)), r.randn((3, 1))],
           sym=(0, 1))
    single("where_s64", "Where", [r.rng.random((7,)) < 0.5, r.ints((B, 3, 7), -9, 9), C(np.array(0, np.int64))],
           sym=(1,))
    xf = r.ints((B, 3, 7), 0, 3).astype(np.float32)
    single("equal_f32", "Equal", [xf, r.ints((B, 3, 7), 0, 3).astype(np.float32)], sym=(0, 1))
    single("equal_f32_bcast", "Equal", [xf, C(np.array([0, 1, 2, 0, 1, 2, 0], np.float32))])
    single("equal_s64", "Equal", [r.ints((B, 3, 7), 0, 3), r.ints((3, 1), 0, 3)])
    single("equal_bool", "Equal", [r.rng.random((B, 7)) < 0.5, r.rng.random((B, 7)) < 0.5], sym=(0, 1))
    i64 = lambda v: C(np.array(v, np.int64))
    single("expand_basic", "Expand", [r.randn((3, 1)), i64([2, 3, 7])], sym=())
    single("expand_batch", "Expand", [r.randn((B, 1, 7)), i64([1, 3, 1])])
    single("expand_lower_rank_shape", "Expand", [r.randn((B, 3, 1)), i64([7])])
    single("expand_ones", "Expand", [r.randn((B, 3, 7)), i64([1, 1, 1])])
    single("expand_shape_input", "Expand", [r.randn((3, 1)), np.array([2, 1, 5], np.int64)], sym=())
    single("expand_s64", "Expand", [r.ints((1, 3), -9, 9), i64([4, 3])], sym=())
    # Range: constant inputs (an Identity keeps a graph input), scalar graph inputs (data-dependent shape)
    for name, vals, dt in [("range_f32", (0.5, 7.3, 0.7), np.float32), ("range_s64_negative", (10, -3, -3), np.int64),
                           ("range_f32_negative", (1.0, -2.5, -0.5), np.float32), ("range_empty", (5, 2, 1), np.int64)]:
        b = Builder(name)
        x = b.input(b.randn((B, 3)))
        ins = [b.init(np.array(v, dt)) for v in vals]
        b.output(b.node("Range", ins), b.node("Identity", [x]))
        b.build()
    single("range_inputs_f32", "Range", [np.array(1.0, np.float32), np.array(9.5, np.float32),
                                         np.array(1.5, np.float32)], sym=())
    single("range_inputs_s64", "Range", [np.array(-4, np.int64), np.array(13, np.int64), np.array(3, np.int64)],
           sym=())


def gen_quant():
    T = TensorProto
    r = R("quant")
    x = r.uniform((B, 3, 7), -3.0, 3.0)
    s8, u8, f32 = (lambda v: C(np.array(v, np.int8))), (lambda v: C(np.array(v, np.uint8))), \
        (lambda v: C(np.array(v, np.float32)))
    note = "Q outputs may differ by one step where x/scale is within rounding of a .5 tie"
    single("quantize_pt_s8", "QuantizeLinear", [x, f32(0.02), s8(-3)], opset=13, quant=True, tags=("quant",), note=note)
    single("quantize_pt_u8", "QuantizeLinear", [x, f32(0.015), u8(128)], opset=13, quant=True, tags=("quant",),
           note=note)
    single("quantize_no_zp", "QuantizeLinear", [x, f32(0.01)], opset=13, quant=True, tags=("quant",), note=note)
    single("quantize_pa_axis1_s8", "QuantizeLinear", [x, f32([0.01, 0.02, 0.05]), s8([0, -5, 7])], opset=13,
           axis=1, quant=True, tags=("quant",), note=note)
    single("quantize_pa_axis0_u8", "QuantizeLinear", [r.uniform((5, 3, 3), -1, 1), f32([0.01, 0.02, 0.004, 0.1, 0.03]),
                                                      u8([128, 100, 0, 255, 7])], opset=13, axis=0, sym=(),
           quant=True, tags=("quant",), note=note)
    single("quantize_pa_neg_axis_s8", "QuantizeLinear", [x, f32(r.uniform((7,), 0.01, 0.05)), s8(r.ints((7,), -9, 9))],
           opset=13, axis=-1, quant=True, tags=("quant",), note=note)
    # exact ties: scale a power of two, x a multiple of scale/2 -> round half to even, no leniency
    xt = (r.ints((B, 3, 7), -600, 600).astype(np.float32) * np.float32(0.25))
    single("quantize_ties_s8", "QuantizeLinear", [xt, f32(0.5), s8(1)], opset=13, note="exact ties: half to even")
    single("quantize_ties_u8", "QuantizeLinear", [xt, f32(0.5), u8(128)], opset=13)
    single("quantize_opset19_s8", "QuantizeLinear", [x, f32(0.02), s8(0)], opset=19, quant=True, tags=("quant",),
           note=note)
    single("quantize_opset21_output_dtype", "QuantizeLinear", [x, f32(0.03)], opset=21, output_dtype=T.INT8,
           quant=True, tags=("quant",), note=note)
    single("quantize_scale_input", "QuantizeLinear", [x, np.array(0.04, np.float32), np.array(3, np.int8)], opset=13,
           quant=True, tags=("quant",), note=note, sym=(0,))

    q8 = r.ints((B, 3, 7), -128, 128, np.int8)
    qu = r.ints((B, 3, 7), 0, 256, np.uint8)
    single("dequantize_pt_s8", "DequantizeLinear", [q8, f32(0.02), s8(-3)], opset=13)
    single("dequantize_pt_u8", "DequantizeLinear", [qu, f32(0.015), u8(128)], opset=13)
    single("dequantize_no_zp", "DequantizeLinear", [qu, f32(0.01)], opset=13)
    single("dequantize_pa_axis1", "DequantizeLinear", [q8, f32([0.01, 0.02, 0.05]), s8([0, -5, 7])], opset=13, axis=1)
    single("dequantize_pa_axis0_u8", "DequantizeLinear", [r.ints((5, 3, 3), 0, 256, np.uint8),
                                                          f32([0.01, 0.02, 0.004, 0.1, 0.03]), u8([128, 100, 0, 255, 7])],
           opset=13, axis=0, sym=())
    single("dequantize_s32", "DequantizeLinear", [r.ints((B, 7), -100000, 100000, np.int32), f32(0.0004)], opset=13)
    single("dequantize_opset19", "DequantizeLinear", [q8, f32(0.5), s8(2)], opset=19)
    single("dequantize_opset21", "DequantizeLinear", [q8, f32([0.01, 0.02, 0.05]), s8([1, 2, 3])], opset=21, axis=1)

    b = Builder("qdq_fake_quant", opset=13)
    xi = b.input(b.uniform((B, 3, 7), -2, 2))
    sc, zp = b.init(np.array(0.016, np.float32)), b.init(np.array(-7, np.int8))
    b.output(b.node("DequantizeLinear", [b.node("QuantizeLinear", [xi, sc, zp]), sc, zp]))
    b.note = "float output of Q->DQ: one step (0.016) of difference allowed where ties differ"
    b.float_step = 0.016
    b.build()


def gen_extra():
    """Ops qforge registers beyond the issue's list: covered the same way."""
    r = R("extra")
    x = r.randn((B, 3, 17), 2.0)
    halves = (r.ints((B, 3, 17), -20, 20).astype(np.float32) * np.float32(0.5))  # exact .5 ties for Round
    for op, data, kw, opset in [("Ceil", x, {}, 13), ("Floor", x, {}, 13), ("Round", halves, {}, 11),
                                ("Sign", np.where(r.rng.random(x.shape) < 0.2, 0, x).astype(np.float32), {}, 13),
                                ("Sin", x, {}, 7), ("Cos", x, {}, 7), ("Softplus", x * 5, {}, 1),
                                ("Softsign", x, {}, 1), ("Mish", x * 3, {}, 18), ("Elu", x, {}, 6),
                                ("Elu", x, {"alpha": 0.4}, 6), ("Selu", x, {}, 6),
                                ("Selu", x, {"alpha": 1.5, "gamma": 1.1}, 6), ("Celu", x, {"alpha": 0.7}, 12),
                                ("ThresholdedRelu", x, {"alpha": 0.3}, 10)]:
        name = op.lower() + ("_" + "_".join(f"{k}{v}" for k, v in kw.items()).replace(".", "p") if kw else "")
        single(name, op, [data], opset=max(opset, 13) if op != "Mish" else 18, **kw)
    single("softplus_extreme", "Softplus", [np.array([[-100, -20, 0, 20, 100]], np.float32)], sym=())

    a, b3, c = r.randn((B, 3, 7)), r.randn((3, 1)), r.randn((7,))
    for op in ["Max", "Min", "Mean", "Sum"]:
        single(f"{op.lower()}_one", op, [a])
        single(f"{op.lower()}_three_bcast", op, [a, b3, C(c)])
    single("max_s64", "Max", [r.ints((B, 3), -9, 9), r.ints((B, 3), -9, 9)], sym=(0, 1))
    single("min_s32", "Min", [r.ints((B, 3), -9, 9, np.int32), C(np.array([0, 1, -1], np.int32))])

    p, q = r.rng.random((B, 3, 7)) < 0.5, r.rng.random((3, 1)) < 0.5
    for op in ["And", "Or", "Xor"]:
        single(f"{op.lower()}_bcast", op, [p, q])
    single("not", "Not", [p])
    fa, fb = r.ints((B, 3, 7), 0, 3).astype(np.float32), r.ints((7,), 0, 3).astype(np.float32)
    ia, ib = r.ints((B, 3, 7), 0, 3), r.ints((3, 1), 0, 3)
    for op in ["Greater", "GreaterOrEqual", "Less", "LessOrEqual"]:
        single(f"{op.lower()}_f32", op, [fa, fb])
        single(f"{op.lower()}_s64", op, [ia, C(ib)])

    xt = r.ints((B, 3, 7), 0, 3).astype(np.float32)
    single("argmin_axis1", "ArgMin", [r.randn((B, 3, 7))], axis=1)
    single("argmin_neg_keep0", "ArgMin", [r.randn((B, 3, 7))], axis=-1, keepdims=0)
    single("argmin_ties_first", "ArgMin", [xt], axis=2)
    single("argmin_ties_last", "ArgMin", [xt], axis=2, select_last_index=1)

    single("castlike_f16", "CastLike", [r.randn((B, 3, 7)), C(np.zeros((1,), np.float16))], opset=15)
    single("castlike_s64", "CastLike", [r.uniform((B, 3, 7), -50, 50), C(np.zeros((1,), np.int64))], opset=15)
    single("castlike_f32_from_s32", "CastLike", [r.ints((B, 3), -99, 99, np.int32), C(np.zeros((), np.float32))],
           opset=15)

    xr = r.uniform((B, 3, 7, 5), 0.5, 1.5)
    for op in ["ReduceMin", "ReduceProd", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]:
        pre = op.lower()
        single(f"{pre}_opset13_axis1", op, [xr], opset=13, axes=[1])
        single(f"{pre}_opset13_all_keep0", op, [xr], opset=13, keepdims=0)
        single(f"{pre}_opset18_axes_input_keep0", op, [xr, C(np.array([-1, 2], np.int64))], opset=18, keepdims=0)
        single(f"{pre}_opset18_noop_empty", op, [xr], opset=18, noop_with_empty_axes=1)
    single("reducemin_negative", "ReduceMin", [r.randn((B, 3, 7)) - 10.0], opset=18, keepdims=1)
    single("reducelogsumexp_large", "ReduceLogSumExp", [r.randn((B, 33), 40.0)], opset=13, axes=[1])

    i64 = lambda v: C(np.array(v, np.int64))
    single("tile_basic", "Tile", [r.randn((B, 3, 7)), i64([1, 2, 3])])
    single("tile_batch", "Tile", [r.randn((B, 3)), i64([3, 1])])
    single("tile_ones", "Tile", [r.randn((B, 3)), i64([1, 1])])
    single("tile_repeats_input", "Tile", [r.randn((2, 3)), np.array([2, 2], np.int64)], sym=())
    single("tile_s64", "Tile", [r.ints((B, 3), -9, 9), i64([2, 1])])


# ----------------------------------------------------------------------------------------------
# small networks built from the ops above
def gen_networks():
    # a plain conv net: Conv-BN-Relu-MaxPool-Conv-Relu-GAP-Flatten-Gemm
    b = Builder("net_cnn", tags=("isa",))
    x = b.input(b.uniform((B, 3, 17, 17), 0, 1))

    def conv(x, c, m, k, **attrs):
        w = b.init(b.randn((m, c, k, k), 1.0 / np.sqrt(c * k * k)))
        return b.node("Conv", [x, w, b.init(b.randn((m,), 0.1))], **attrs)

    h = conv(x, 3, 16, 3, pads=[1, 1, 1, 1])
    h = b.node("BatchNormalization", [h, b.init(b.uniform((16,), 0.5, 1.5)), b.init(b.randn((16,), 0.1)),
                                      b.init(b.randn((16,), 0.1)), b.init(b.uniform((16,), 0.5, 2.0))])
    h = b.node("MaxPool", [b.node("Relu", [h])], kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Relu", [conv(h, 16, 33, 3, pads=[1, 1, 1, 1], strides=[2, 2])])
    h = b.node("Flatten", [b.node("GlobalAveragePool", [h])])
    b.output(b.node("Gemm", [h, b.init(b.randn((10, 33), 0.2)), b.init(b.randn((10,), 0.1))], transB=1))
    b.build()

    # depthwise-separable (MobileNet-style) block with ReLU6, hard-swish and a residual
    b = Builder("net_dwsep", tags=("isa",))
    x = b.input(b.randn((B, 16, 15, 15)))
    h = b.node("Conv", [x, b.init(b.randn((16, 1, 3, 3), 0.3)), b.init(b.randn((16,), 0.1))], group=16,
               pads=[1, 1, 1, 1])
    h = b.node("Clip", [h, b.init(np.float32(0)), b.init(np.float32(6))])
    h = b.node("Conv", [h, b.init(b.randn((16, 16, 1, 1), 0.25)), b.init(b.randn((16,), 0.1))])
    h = b.node("HardSwish", [h])
    se = b.node("GlobalAveragePool", [h])
    se = b.node("HardSigmoid", [b.node("Conv", [se, b.init(b.randn((16, 16, 1, 1), 0.25))])], alpha=1 / 6, beta=0.5)
    h = b.node("Mul", [h, se])
    b.output(b.node("Add", [h, x]))
    b.build()

    # transformer encoder block, at opset 20 with Gelu and at 17 with the Erf decomposition
    for name, opset in [("net_transformer_gelu", 20), ("net_transformer_erf", 17)]:
        b = Builder(name, opset=opset, tags=("isa",))
        seq, d, heads = 7, 32, 4
        hd = d // heads
        x = b.input(b.randn((B, seq, d)))

        def lin(h, n_in, n_out):
            return b.node("Add", [b.node("MatMul", [h, b.init(b.randn((n_in, n_out), 1 / np.sqrt(n_in)))]),
                                  b.init(b.randn((n_out,), 0.1))])

        def ln(h):
            return b.node("LayerNormalization", [h, b.init(b.uniform((d,), 0.5, 1.5)), b.init(b.randn((d,), 0.1))],
                          axis=-1, epsilon=1e-5)

        hs = b.init(np.array([0, 0, heads, hd], np.int64))
        h = ln(x)
        q = b.node("Transpose", [b.node("Reshape", [lin(h, d, d), hs])], perm=[0, 2, 1, 3])
        k = b.node("Transpose", [b.node("Reshape", [lin(h, d, d), hs])], perm=[0, 2, 3, 1])
        v = b.node("Transpose", [b.node("Reshape", [lin(h, d, d), hs])], perm=[0, 2, 1, 3])
        s = b.node("Div", [b.node("MatMul", [q, k]), b.init(np.float32(np.sqrt(hd)))])
        a = b.node("MatMul", [b.node("Softmax", [s], axis=-1), v])
        a = b.node("Reshape", [b.node("Transpose", [a], perm=[0, 2, 1, 3]), b.init(np.array([0, 0, d], np.int64))])
        x2 = b.node("Add", [x, lin(a, d, d)])
        h = lin(ln(x2), d, 2 * d)
        if opset >= 20:
            h = b.node("Gelu", [h])
        else:
            e = b.node("Erf", [b.node("Div", [h, b.init(np.float32(np.sqrt(2.0)))])])
            h = b.node("Mul", [b.node("Mul", [h, b.node("Add", [e, b.init(np.float32(1.0))])]),
                               b.init(np.float32(0.5))])
        b.output(b.node("Add", [x2, lin(h, 2 * d, d)]))
        b.build()

    # torch-style dynamic flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
    b = Builder("net_dynamic_flatten")
    x = b.input(b.randn((B, 3, 7, 5)))
    n = b.node("Gather", [b.node("Shape", [x]), b.init(np.array(0, np.int64))], axis=0)
    shp = b.node("Concat", [b.node("Unsqueeze", [n, b.init(np.array([0], np.int64))]),
                            b.init(np.array([-1], np.int64))], axis=0)
    b.output(b.node("Reshape", [x, shp]))
    b.build()

    # shape arithmetic: reshape to [N*3, H*W] computed from Shape, plus position ids from Range
    b = Builder("net_shape_arith")
    x = b.input(b.randn((B, 3, 7, 5)))
    shp = b.node("Shape", [x])
    nc = b.node("Mul", [b.node("Gather", [shp, b.init(np.array([0], np.int64))], axis=0),
                        b.node("Gather", [shp, b.init(np.array([1], np.int64))], axis=0)])
    hw = b.node("Mul", [b.node("Slice", [shp, b.init(np.array([2], np.int64)),
                                                                    b.init(np.array([3], np.int64))]),
                                                  b.node("Slice", [shp, b.init(np.array([-1], np.int64)),
                                                                   b.init(np.array([INT64_MAX], np.int64))])])
    y = b.node("Reshape", [x, b.node("Concat", [nc, hw], axis=0)])
    last = b.node("Gather", [b.node("Shape", [y]), b.init(np.array(1, np.int64))], axis=0)
    pos = b.node("Range", [b.init(np.array(0, np.int64)), last, b.init(np.array(1, np.int64))])
    posf = b.node("Cast", [pos], to=TensorProto.FLOAT)
    b.output(b.node("Add", [y, posf]), pos)
    b.build()

    # attention-mask pattern: Equal -> Where -> Softmax
    b = Builder("net_attention_mask")
    s = b.input(b.randn((B, 4, 7, 7)))
    m = b.input(b.ints((B, 1, 1, 7), 0, 2))
    masked = b.node("Where", [b.node("Equal", [m, b.init(np.array(0, np.int64))]), b.init(np.float32(-1e9)), s])
    b.output(b.node("Softmax", [masked], axis=-1))
    b.build()

    # FPN-style decoder: ConvTranspose up, nearest Resize up, Concat, Conv, Sigmoid
    b = Builder("net_decoder", tags=("isa",))
    lo = b.input(b.randn((B, 8, 5, 5)))
    hi = b.input(b.randn((B, 8, 10, 10)))
    up = b.node("Resize", [lo, "", b.init(np.array([1, 1, 2, 2], np.float32))], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    h = b.node("Concat", [up, hi], axis=1)
    h = b.node("Relu", [b.node("Conv", [h, b.init(b.randn((8, 16, 3, 3), 0.08)), b.init(b.randn((8,), 0.1))],
                               pads=[1, 1, 1, 1])])
    h = b.node("ConvTranspose", [h, b.init(b.randn((8, 1, 2, 2), 0.3)), b.init(b.randn((1,), 0.1))], strides=[2, 2])
    b.output(b.node("Sigmoid", [h]))
    b.build()

    # quantized conv in QDQ form: Q/DQ activations, DQ per-channel weights, s32 bias
    b = Builder("net_qdq_conv", opset=13, tags=("isa", "quant"))
    x = b.input(b.uniform((B, 3, 9, 9), -1, 1))
    xs, xz = b.init(np.array(0.008, np.float32)), b.init(np.array(0, np.int8))
    xq = b.node("DequantizeLinear", [b.node("QuantizeLinear", [x, xs, xz]), xs, xz])
    wq = b.init(b.ints((5, 3, 3, 3), -127, 128, np.int8))
    ws = b.init(b.uniform((5,), 0.002, 0.01))
    w = b.node("DequantizeLinear", [wq, ws, b.init(np.zeros(5, np.int8))], axis=0)
    h = b.node("Relu", [b.node("Conv", [xq, w, b.init(b.randn((5,), 0.1))], pads=[1, 1, 1, 1])])
    ys, yz = b.init(np.array(0.01, np.float32)), b.init(np.array(0, np.uint8))
    b.output(b.node("QuantizeLinear", [h, ys, yz]), quant=True)
    b.note = "Q output may differ by one step at rounding ties"
    b.build()

    # the bundled Fashion-MNIST MLP (if present), on random inputs in [0, 1]
    mlp = os.path.join(HERE, "..", "..", "models", "fmnist_mlp.onnx")
    if os.path.exists(mlp):
        r = R("net_fmnist_mlp")
        CASES.append(dict(name="net_fmnist_mlp", model=onnx.load(mlp), feeds=[r.uniform((3, 1, 28, 28), 0, 1)],
                          tags=["isa"], quant_outputs=[], note="models/fmnist_mlp.onnx", float_step=0.0))


GENERATORS = [gen_conv, gen_convtranspose, gen_gemm, gen_matmul, gen_binary, gen_unary, gen_activation,
              gen_normalization, gen_pool, gen_shape_ops, gen_cast, gen_constant_like, gen_reduce, gen_resize,
              gen_pad, gen_misc, gen_quant, gen_extra, gen_networks]


def ort_run(model, feeds):
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {i.name: v for i, v in zip(sess.get_inputs(), feeds)})


def main():
    ap = argparse.ArgumentParser(description="generate the qforge oracle models")
    ap.add_argument("out_dir")
    ap.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime validity check")
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    args = ap.parse_args()
    for g in GENERATORS:
        g()
    names = [c["name"] for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"duplicate case names: {sorted(dup)}")
    os.makedirs(args.out_dir, exist_ok=True)
    manifest, bad = [], []
    for case in CASES:
        if args.filter not in case["name"]:
            continue
        d = os.path.join(args.out_dir, case["name"])
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        onnx.save(case["model"], path)
        graph_inputs = [i.name for i in case["model"].graph.input
                        if i.name not in {t.name for t in case["model"].graph.initializer}]
        assert len(graph_inputs) == len(case["feeds"]), case["name"]
        for i, v in enumerate(case["feeds"]):
            np.save(os.path.join(d, f"in{i}.npy"), np.asarray(v).copy(order="C"))  # keeps 0-d arrays 0-d
        if not args.no_check:
            try:
                ort_run(case["model"], case["feeds"])
            except Exception as e:  # an oracle bug: report all of them, then fail
                bad.append(f"{case['name']}: {str(e).splitlines()[0][:300]}")
        manifest.append(dict(name=case["name"], inputs=graph_inputs,
                             outputs=[o.name for o in case["model"].graph.output], tags=case["tags"],
                             quant_outputs=case["quant_outputs"], note=case["note"],
                             float_step=case["float_step"]))
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gen_models: {len(manifest)} models in {args.out_dir}")
    if bad:
        print("models that ONNX Runtime rejects (oracle bug):\n  " + "\n  ".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
