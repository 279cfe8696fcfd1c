"""Thread-pool contention: oneDNN convolutions alternated with NumPy (OpenBLAS) matmuls.

Run from the repository root::

    python -m benchmarks.onednn_threads          # Markdown table on stdout

oneDNN's OpenMP threads and OpenBLAS's pthreads share the cores; by default each pool's
threads spin after a call and slow the other library down (research/native.md measured 2.4x).
ember sets ``OPENBLAS_THREAD_TIMEOUT=4`` and ``OMP_WAIT_POLICY=passive`` at import (user
settings win). Each row runs in a fresh interpreter with one combination of the two variables:
"default" = the libraries' own defaults (``OPENBLAS_THREAD_TIMEOUT=0`` means OpenBLAS's
default; ``OMP_WAIT_POLICY`` removed from the environment after ember's import, before
libgomp loads). Work: W3c3 conv forward + grad-input on oneDNN (channels-last), then
``2048x256 @ 256x1024`` and ``32x8192 @ 8192x256`` in NumPy; median of repeats, ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys, time
import ember  # sets the defaults this run overrides below
if os.environ.get("_UNSET_OMP") == "1":
    os.environ.pop("OMP_WAIT_POLICY", None)  # libgomp is not loaded yet: it reads the env later
import numpy as np
from ember.backends.onednn import conv as DC
rng = np.random.default_rng(0)
cl = lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
x = cl(rng.standard_normal((32, 64, 16, 16)).astype(np.float32))
w = (rng.standard_normal((128, 64, 3, 3)) * 0.1).astype(np.float32)
g = cl(rng.standard_normal((32, 128, 16, 16)).astype(np.float32))
f32 = lambda *s: rng.standard_normal(s, dtype=np.float32)
a1, b1, a2, b2 = f32(2048, 256), f32(256, 1024), f32(32, 8192), f32(8192, 256)
geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
def conv():
    DC.conv2d_forward(x, w, None, *geo); DC.conv2d_backward_data(g, w, x.shape, *geo)
def mm():
    a1 @ b1; a2 @ b2
def both():
    conv(); mm()
def med(fn, reps=int(sys.argv[1])):
    for _ in range(3): fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append((time.perf_counter() - t) * 1e3)
    return sorted(ts)[len(ts) // 2]
res = {"conv": med(conv), "matmul": med(mm), "alternating": med(both)}
print(json.dumps(res))
"""

VARIANTS = [("defaults", "0", None), ("OPENBLAS_THREAD_TIMEOUT=4", "4", None),
            ("OMP_WAIT_POLICY=passive", "0", "passive"), ("both (ember's default)", "4", "passive")]


def measure(repeats: int = 25) -> list:
    """Rows ``(variant, {"conv", "matmul", "alternating"} ms)``, one fresh process each."""
    rows = []
    for name, timeout, omp in VARIANTS:
        env = dict(os.environ, OPENBLAS_THREAD_TIMEOUT=timeout)
        env.pop("OMP_WAIT_POLICY", None)
        if omp:
            env["OMP_WAIT_POLICY"] = omp
        else:
            env["_UNSET_OMP"] = "1"
        out = subprocess.run([sys.executable, "-c", CHILD, str(repeats)], env=env, check=True,
                             capture_output=True, text=True).stdout
        rows.append((name, json.loads(out.strip().splitlines()[-1])))
    return rows


def main() -> None:
    """Print the table and the machine load."""
    load0 = os.getloadavg()
    rows = measure()
    print("| env | conv alone | matmul alone | alternating | penalty vs sum |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        pen = r["alternating"] - r["conv"] - r["matmul"]
        print(f"| {name} | {r['conv']:.2f} | {r['matmul']:.2f} | {r['alternating']:.2f} | "
              f"{pen:+.2f} |")
    print(f"\nms, median of 25; load average before {load0}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
