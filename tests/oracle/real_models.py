#!/usr/bin/env python3
"""Real pretrained ONNX models shipped inside PyPI packages: qforge must import them and match ONNX
Runtime on realistic inputs.

Usage: real_models.py QFORGE_BIN [--cache DIR] [--work DIR] [--filter SUBSTR] [--no-ref] [--no-export]

Models (wheels fetched with `pip download --no-deps`, only the .onnx files extracted, cached under
tests/oracle/.cache/ by default; nothing is installed):
  ocr_det   rapidocr-onnxruntime 1.4.4: ch_PP-OCRv4_det_infer.onnx (PaddleOCR v4 text detection, DB head)
            input: a synthetic page of dark glyph-like strokes on white, 1x3x128x256, ImageNet mean/std
  ocr_rec   rapidocr-onnxruntime 1.4.4: ch_PP-OCRv4_rec_infer.onnx (PaddleOCR v4 recognition, SVTR + CTC)
            input: one synthetic text line, 1x3x48x160, (x - 0.5) / 0.5
  ocr_cls   rapidocr-onnxruntime 1.4.4: ch_ppocr_mobile_v2.0_cls_infer.onnx (text direction classifier)
            input: two synthetic text lines (one upright, one rotated 180°), 2x3x48x192, (x - 0.5) / 0.5
  magika    magika 1.0.3: standard_v3_3/model.onnx (file-type classifier over raw bytes)
            input: the features magika extracts (first 1024 bytes after lstrip, last 1024 before rstrip,
            padded with token 256) of two files: this repository's CMakeLists.txt and a gzip stream of it

Each model is checked like the oracle models (run_oracle.py): `qforge run` at the default ISA and
under QFORGE_ISA=ref vs ONNX Runtime (ORT_DISABLE_ALL), and the `inspect --save` round trip.
Tolerance: the oracle's 1e-4 relative or 1e-5 absolute, except for the models listed in LOOSE below,
where a looser bound is stated with the reason.
"""
import argparse
import collections
import gzip
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_oracle  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

PACKAGES = {
    "rapidocr-onnxruntime==1.4.4": [
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    ],
    "magika==1.0.3": ["magika/models/standard_v3_3/model.onnx"],
}

# name -> (relative bound, absolute bound, why). Empty: every model meets the oracle tolerance.
LOOSE = {}


def fetch(cache):
    """Download each wheel once and extract its .onnx files into cache/<package>/..."""
    paths = {}
    for spec, members in PACKAGES.items():
        pkg_dir = os.path.join(cache, spec.replace("==", "-"))
        targets = [os.path.join(pkg_dir, m) for m in members]
        if not all(os.path.exists(t) for t in targets):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                       "--quiet", spec, "-d", tmp]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"real_models: pip download {spec} failed:\n{p.stdout}{p.stderr}")
                wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
                if len(wheels) != 1:
                    sys.exit(f"real_models: expected one wheel for {spec}, got {wheels}")
                with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as z:
                    for m in members:
                        z.extract(m, pkg_dir)
        for m, t in zip(members, targets):
            paths[m] = t
    return paths


# ----------------------------------------------------------------------------------------------
# realistic inputs
def text_image(rng, h, w, lines, char_w=10, flip=False):
    """A white page with dark glyph-like strokes laid out in text lines; uint8-like values in [0, 1]."""
    img = np.ones((h, w, 3), np.float32)
    line_h = h // lines
    for li in range(lines):
        top = li * line_h + line_h // 5
        gh = max(6, int(line_h * 0.6))
        x = int(rng.integers(2, 2 + char_w))
        right = int(w * rng.uniform(0.7, 0.97))
        ink = rng.uniform(0.0, 0.25, size=3).astype(np.float32)
        while x + char_w < right:
            if rng.random() < 0.15:  # a space
                x += char_w
                continue
            for _ in range(int(rng.integers(2, 5))):  # 2-4 strokes per glyph
                t = int(rng.integers(1, 3))
                if rng.random() < 0.5:  # vertical stroke
                    cx = x + int(rng.integers(0, char_w - t))
                    y0 = top + int(rng.integers(0, gh // 2))
                    img[y0:top + gh, cx:cx + t] = ink
                else:  # horizontal stroke
                    cy = top + int(rng.integers(0, gh - t))
                    x0 = x + int(rng.integers(0, char_w // 2))
                    img[cy:cy + t, x0:x + char_w - 1] = ink
            x += char_w + int(rng.integers(1, 3))
    img += rng.normal(0.0, 0.02, size=img.shape).astype(np.float32)  # scanner noise
    img = np.clip(img, 0.0, 1.0)
    if flip:
        img = img[::-1, ::-1]
    return img.transpose(2, 0, 1)  # CHW


def input_ocr_det(rng):
    img = text_image(rng, 128, 256, lines=5, char_w=9)
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)
    return [((img - mean) / std)[None].astype(np.float32)]


def input_ocr_rec(rng):
    img = text_image(rng, 48, 160, lines=1, char_w=14)
    return [((img - 0.5) / 0.5)[None].astype(np.float32)]


def input_ocr_cls(rng):
    a = text_image(rng, 48, 192, lines=1, char_w=14)
    b = text_image(rng, 48, 192, lines=1, char_w=14, flip=True)
    return [((np.stack([a, b]) - 0.5) / 0.5).astype(np.float32)]


def magika_features(data, beg_size=1024, end_size=1024, block=4096, pad=256):
    beg = data[:block]
    end = data[-block:]
    if len(data) <= block:
        beg, end = beg.strip(), end.strip()
    else:
        beg, end = beg.lstrip(), end.rstrip()
    beg = list(beg[:beg_size]) + [pad] * max(0, beg_size - len(beg))
    end_b = list(end[-end_size:]) if end else []
    end = [pad] * (end_size - len(end_b)) + end_b
    return np.array(beg + end, np.int32)


def input_magika(rng):
    del rng
    with open(os.path.join(REPO, "CMakeLists.txt"), "rb") as f:
        text = f.read()
    gz = gzip.compress(text * 3, mtime=0)  # a real gzip stream, deterministic for a given text
    return [np.stack([magika_features(text), magika_features(gz)])]


MODELS = [
    ("ocr_det", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx", input_ocr_det),
    ("ocr_rec", "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx", input_ocr_rec),
    ("ocr_cls", "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx", input_ocr_cls),
    ("magika", "magika/models/standard_v3_3/model.onnx", input_magika),
]


def op_histogram(model):
    c = collections.Counter(((n.domain + ".") if n.domain not in ("", "ai.onnx") else "") + n.op_type
                            for n in model.graph.node)
    return ", ".join(f"{k}:{v}" for k, v in sorted(c.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qforge")
    ap.add_argument("--cache", default=os.path.join(HERE, ".cache"))
    ap.add_argument("--work", default=None, help="where inputs and outputs go (default: CACHE/work)")
    ap.add_argument("--filter", default="")
    ap.add_argument("--no-ref", action="store_true")
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args()
    qforge = os.path.abspath(args.qforge)
    if not os.access(qforge, os.X_OK):
        sys.exit(f"real_models: {args.qforge} is not an executable")
    paths = fetch(args.cache)
    work = os.path.abspath(args.work or os.path.join(args.cache, "work"))
    passed = failed = 0
    for name, member, make_input in MODELS:
        if args.filter not in name:
            continue
        model_path = paths[member]
        model = onnx.load(model_path, load_external_data=False)
        inits = {t.name for t in model.graph.initializer}
        input_names = [i.name for i in model.graph.input if i.name not in inits]
        output_names = [o.name for o in model.graph.output]
        print(f"# {name}: {os.path.relpath(model_path, REPO) if model_path.startswith(REPO) else model_path}; "
              f"opsets {[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]}; "
              f"{len(model.graph.node)} nodes; ops {op_histogram(model)}", flush=True)
        case_dir = os.path.join(work, name)
        os.makedirs(case_dir, exist_ok=True)
        # the model file stays in the cache; run_oracle's helpers expect CASE_DIR/model.onnx
        link = os.path.join(case_dir, "model.onnx")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(model_path, link)
        feeds = make_input(np.random.default_rng(20240611))
        for i, v in enumerate(feeds):
            np.save(os.path.join(case_dir, f"in{i}.npy"), v)
        expected = run_oracle.ort_run(model_path, input_names, feeds, output_names)
        rtol, atol, why = LOOSE.get(name, (run_oracle.RTOL, run_oracle.ATOL, ""))
        run_oracle.RTOL, run_oracle.ATOL = rtol, atol
        case = dict(name=name, inputs=input_names, outputs=output_names, quant_outputs=[], float_step=0.0)
        modes = [("", None)] + ([] if args.no_ref else [("@ref", "ref")]) + ([] if args.no_export else
                                                                          [("@export", "export")])
        for suffix, mode in modes:
            if mode == "export":
                res = run_oracle.check_export(qforge, case, case_dir, expected, feeds)
            else:
                res = run_oracle.check_run(qforge, case, case_dir, expected, mode)
            label = f"real_{name}{suffix}"
            if isinstance(res, str):
                failed += 1
                print(f"FAIL {label}: {res}", flush=True)
            else:
                passed += 1
                print(f"PASS {label}" + (f" (tolerance {rtol:g} rel / {atol:g} abs: {why})" if why else ""),
                      flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
