#!/usr/bin/env python3
"""Where the bytes of an ONNX file go (issue 4, file-size target): serialized protobuf sizes of a
model's parts, grouped by role, for one or more models side by side.

Initializers are classified by how the graph uses them:
  weight q / scale / zp      inputs 0 / 1 / 2 of a DequantizeLinear whose output feeds input 1 of a
                             Conv / Gemm / MatMul (or any constant DQ that is not a bias)
  bias q / scale / zp        the same for a DequantizeLinear feeding input 2 of a Conv / Gemm
  act scale / zp             inputs 1 / 2 of activation QuantizeLinear / DequantizeLinear pairs
  float                      any other initializer (an FP32 model's weights, shapes, ...)
Each initializer's bytes are split into its payload (raw_data or typed data) and the rest (its name,
dims, type and protobuf tags). Nodes are grouped by op type (QDQ nodes vs the others), with the bytes
of their names, input/output names and attributes. "names" totals every string that only names a
value or a node (initializer names, node names, node inputs / outputs, value_info names).

Usage: python bench/qdq_size_breakdown.py MODEL.onnx [MODEL2.onnx ...]
"""
import collections
import os
import sys

import onnx

COMPUTE = {"Conv", "Gemm", "MatMul", "ConvTranspose"}


def varint_len(n):
    k = 1
    while n >= 0x80:
        n >>= 7
        k += 1
    return k


def field_len(payload_len):
    """Bytes of a length-delimited field: tag (1 byte for field numbers < 16) + length + payload."""
    return 1 + varint_len(payload_len) + payload_len


def payload_bytes(t):
    if t.raw_data:
        return len(t.raw_data)
    return len(t.SerializeToString()) - len(onnx.TensorProto(name=t.name, dims=t.dims,
                                                             data_type=t.data_type).SerializeToString())


def roles(g):
    """initializer name → role."""
    consumers = collections.defaultdict(list)
    for n in g.node:
        for k, i in enumerate(n.input):
            consumers[i].append((n, k))
    inits = {t.name for t in g.initializer}
    role = {}
    for n in g.node:
        if n.op_type not in ("DequantizeLinear", "QuantizeLinear"):
            continue
        const = n.op_type == "DequantizeLinear" and n.input[0] in inits
        if const:
            uses = consumers[n.output[0]]
            kind = "bias" if any(c.op_type in COMPUTE and k == 2 for c, k in uses) else "weight"
            for k, suffix in enumerate(("q", "scale", "zp")):
                if k < len(n.input) and n.input[k] in inits:
                    role[n.input[k]] = f"{kind} {suffix}"
        else:
            for k, suffix in ((1, "scale"), (2, "zp")):
                if k < len(n.input) and n.input[k] in inits:
                    role.setdefault(n.input[k], f"act {suffix}")
    return role


def breakdown(path):
    m = onnx.load(path)
    g = m.graph
    rows = collections.OrderedDict()

    def add(key, n):
        rows[key] = rows.get(key, 0) + n

    role = roles(g)
    names = 0
    for t in g.initializer:
        r = role.get(t.name, "float")
        total = field_len(t.ByteSize())
        data = payload_bytes(t)
        add(f"init {r}: data", data)
        add(f"init {r}: name+header", total - data)
        names += len(t.name)
    for n in g.node:
        group = "QDQ" if n.op_type in ("QuantizeLinear", "DequantizeLinear") else "other"
        total = field_len(n.ByteSize())
        nm = sum(field_len(len(s)) for s in list(n.input) + list(n.output)) + (field_len(len(n.name)) if n.name else 0)
        add(f"nodes {group}: value/node names", nm)
        add(f"nodes {group}: op type, attributes, tags", total - nm)
        names += len(n.name) + sum(len(s) for s in list(n.input) + list(n.output))
    for vi in list(g.value_info):
        add("value_info", field_len(vi.ByteSize()))
        names += len(vi.name)
    for vi in list(g.input) + list(g.output):
        add("graph inputs/outputs", field_len(vi.ByteSize()))
    add("metadata_props", sum(field_len(p.ByteSize()) for p in m.metadata_props))
    accounted = sum(rows.values())
    add("rest (opset, producer, graph name, tags)", os.path.getsize(path) - accounted)
    return rows, os.path.getsize(path), names, len(g.node), len(g.initializer)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    results = [breakdown(p) for p in sys.argv[1:]]
    keys = []
    for rows, *_ in results:
        keys += [k for k in rows if k not in keys]
    keys.sort()
    heads = [os.path.basename(p) for p in sys.argv[1:]]
    print("| part | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r[0].get(k, 0):,}" for r in results) + " |")
    print("| **file** | " + " | ".join(f"**{r[1]:,}**" for r in results) + " |")
    print("| (all name characters) | " + " | ".join(f"{r[2]:,}" for r in results) + " |")
    print("| (nodes / initializers) | " + " | ".join(f"{r[3]} / {r[4]}" for r in results) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
