#!/usr/bin/env python3
"""Cross-checks halfbisect's .npz files against numpy (issue 17: npz as numpy writes it).

Usage: python3 bench/scripts/npz_crosscheck.py [HALFBISECT]   (default ./halfbisect; needs numpy)

1. `halfbisect demo` writes the TimeSformer-style model, whose tensor names start with '/'
   (PyTorch style); `halfbisect reduce` cuts it; numpy must read reduce's inputs.npz /
   reference.npz with the tensor names as keys (members '/blocks/.../X.npy'), the names that
   reduce's JSON lists as the reduced model's inputs and output.
2. numpy.savez writes those arrays again under the same names; `halfbisect compare reduced.onnx
   --load-inputs` must accept that numpy-written file (exit 0 or 1, never 2 or 3).
Prints one line per check and exits non-zero on the first failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def main():
    hb = sys.argv[1] if len(sys.argv) > 1 else "./halfbisect"
    work = tempfile.mkdtemp(prefix="hb-npz-")
    demo, red = os.path.join(work, "demo"), os.path.join(work, "red")
    rc, _, err = run([hb, "demo", "--out", demo, "--quiet"])
    check(rc in (0, 1), f"demo wrote {demo}/model.onnx (exit {rc}) {err.strip()[:200]}")
    rj = os.path.join(work, "reduce.json")
    rc, _, err = run([hb, "reduce", os.path.join(demo, "model.onnx"), "--out", red, "--quiet",
                      "--input", "video:8x3x32x32:float32:-1..1", "--json", rj])
    check(rc == 1, f"reduce found a failing subgraph (exit {rc}) {err.strip()[:200]}")

    inputs = np.load(os.path.join(red, "inputs.npz"))
    reference = np.load(os.path.join(red, "reference.npz"))
    with zipfile.ZipFile(os.path.join(red, "inputs.npz")) as z:
        members = z.namelist()
    check(all(m.endswith(".npy") and "%2F" not in m for m in members),
          f"inputs.npz members are tensor names + .npy: {members}")
    with open(rj) as f:
        section = json.load(f)["reduce"]
    check(sorted(inputs.keys()) == sorted(section["inputs"])
          and list(reference.keys()) == section["outputs"],
          f"numpy keys are the ONNX names: {list(inputs.keys())} -> {list(reference.keys())}")
    check(any(k.startswith("/") for k in inputs.keys()),
          "names starting with '/' read back as they are")
    for k in inputs.keys():
        a = inputs[k]
        check(a.dtype == np.float32 and np.isfinite(a).all(), f"{k}: {a.dtype} {a.shape} finite")

    again = os.path.join(work, "numpy-inputs.npz")
    np.savez(again, **{k: inputs[k] for k in inputs.keys()})
    rc, out, err = run([hb, "compare", os.path.join(red, "reduced.onnx"),
                        "--load-inputs", again, "--quiet",
                        "--json", os.path.join(work, "c.json")])
    check(rc in (0, 1), f"compare --load-inputs on the numpy-written npz (exit {rc}) {err.strip()[:300]}")
    print(f"all checks passed ({work})")


if __name__ == "__main__":
    main()
