#!/usr/bin/env python3
"""Oracle cases for the quantized ops qforge's quantizer exports besides QuantizeLinear /
DequantizeLinear: DynamicQuantizeLinear, MatMulInteger (int8-dynamic preset) and
com.microsoft.MatMulBnb4 (nf4 preset, NF4 weights packed by ONNX Runtime's own quantize_matmul_bnb4).

Usage: gen_quant_ext.py OUT_DIR [--no-check] [--filter SUBSTR]
Writes the same layout as gen_models.py (one folder per case + manifest.json), so run_oracle.py
checks them: `qforge run` vs ONNX Runtime.
"""
import os
import sys

import numpy as np
from onnx import TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models as gm  # noqa: E402
from gen_models import B, C, Builder, single  # noqa: E402


def gen_dynamic_quantize():
    r = gm.R("dql")
    note = "y may differ by one step where x/scale is within rounding of a .5 tie"
    for name, x in [("dql_mixed", r.uniform((B, 3, 7), -3.0, 2.0)),
                    ("dql_positive", r.uniform((B, 33), 0.5, 4.0)),
                    ("dql_negative", r.uniform((B, 5, 2), -6.0, -0.25)),
                    ("dql_zeros", np.zeros((B, 4), np.float32))]:
        b = Builder(name, opset=13, note=note)
        y, s, z = b.node("DynamicQuantizeLinear", [b.input(x)], nout=3)
        b.output(y, quant=True)
        b.output(s, z)
        b.build()
    # exact ties: x = scale * (k + 0.5) for a power-of-two-friendly range [-1, 254/255 * ...]
    xt = np.array([[0.0, 1.0, -1.0, 0.5, 0.25, -0.25, 127.0 / 255, 2.0 / 255 * 1.5]], np.float32)
    b = Builder("dql_ties", opset=13, note="range [-1, 1]: scale 2/255, ties round half to even")
    y, s, z = b.node("DynamicQuantizeLinear", [b.input(xt, sym=False)], nout=3)
    b.output(y, s, z)
    b.build()


def gen_matmul_integer():
    r = gm.R("mmi")
    u8 = lambda shape, lo=0, hi=256: r.ints(shape, lo, hi, np.uint8)  # noqa: E731
    s8 = lambda shape, lo=-128, hi=128: r.ints(shape, lo, hi, np.int8)  # noqa: E731
    single("mmi_u8u8_scalar_zp", "MatMulInteger", [u8((B, 17)), C(u8((17, 9))), np.array(131, np.uint8),
                                                   C(np.array(7, np.uint8))], opset=13, sym=(0,))
    single("mmi_u8s8_per_column", "MatMulInteger", [u8((B, 64)), C(s8((64, 33))), np.array(3, np.uint8),
                                                    C(s8((33,), -3, 4))], opset=13)
    single("mmi_u8s8_no_zp", "MatMulInteger", [u8((B, 31)), C(s8((31, 5)))], opset=13)
    single("mmi_batched_a", "MatMulInteger", [u8((B, 3, 16)), C(s8((16, 8))), np.array(128, np.uint8),
                                              C(np.zeros((8,), np.int8))], opset=13)
    single("mmi_s8s8", "MatMulInteger", [s8((B, 12)), C(s8((12, 6))), np.array(-5, np.int8)], opset=13)
    single("mmi_batched_b", "MatMulInteger", [u8((2, 4, 8)), u8((2, 8, 3))], opset=13, sym=())


def gen_matmul_bnb4():
    from onnxruntime.capi._pybind_state import quantize_matmul_bnb4
    r = gm.R("bnb4")
    for name, k, n, block, a_shape in [("bnb4_nf4_k64_n24_b32", 64, 24, 32, (B, 64)),
                                       ("bnb4_nf4_k48_n5_b16_odd", 48, 5, 16, (B, 3, 48)),
                                       ("bnb4_nf4_k40_n3_b64_tail", 40, 3, 64, (B, 40))]:
        w = r.randn((k, n))
        packed = np.zeros(((k * n + 1) // 2,), np.uint8)
        absmax = np.zeros(((k * n + block - 1) // block,), np.float32)
        quantize_matmul_bnb4(packed, w.T.copy(), absmax, block, 1, n, k)
        b = Builder(name, opset=17, note="float sums of dequantized NF4 weights; summation order may differ")
        b.float_step = 1e-4  # absolute slack for sums that cancel; the elements are O(1)
        y = b.node("MatMulBnb4", [b.input(r.uniform(a_shape)), b.init(packed), b.init(absmax)], domain="com.microsoft",
                   K=k, N=n, block_size=block, quant_type=1)
        b.output(y)
        build_ms(b)


def build_ms(b):
    """Builder.build with the com.microsoft opset imported (ONNX's checker does not know MatMulBnb4)."""
    from onnx import helper
    graph = helper.make_graph(b.nodes, b.name, b.inputs, [helper.make_empty_tensor_value_info(o) for o in b.outputs],
                              initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", b.opset),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="qforge-oracle", ir_version=8)
    results = gm.ort_run(model, b.feeds)
    for name, res in zip(b.outputs, results):
        o = next(o for o in model.graph.output if o.name == name)
        o.type.tensor_type.elem_type = TensorProto.FLOAT
        o.type.tensor_type.shape.SetInParent()
        for i in range(res.ndim):
            o.type.tensor_type.shape.dim.add().dim_param = f"{name}_d{i}"
    gm.CASES.append(dict(name=b.name, model=model, feeds=b.feeds, tags=sorted(b.tags), quant_outputs=b.quant_outputs,
                         note=b.note, float_step=b.float_step))


if __name__ == "__main__":
    gm.GENERATORS[:] = [gen_dynamic_quantize, gen_matmul_integer, gen_matmul_bnb4]
    gm.main()
