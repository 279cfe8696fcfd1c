"""oneDNN conv/pool kernels (ember/backends/onednn) against ember's NumPy kernels and PyTorch.

Run from the repository root::

    python -m benchmarks.onednn_kernels            # Markdown table on stdout
    python -m benchmarks.onednn_kernels --quick    # fewer repeats, numbers only indicative

Shapes: the conv (3x3, pad 1, with bias) and 2x2 max-pool layers of W2 (batch 64) and W3
(batch 32), float32, as benchmarks/conv_kernels.py. Each cell is the median over repeats in
ms, the three libraries of one row interleaved (benchmarks/_timing.py). oneDNN and PyTorch get
channels-last activations (what a conv -> relu -> pool chain hands them; PyTorch via
``memory_format=torch.channels_last``), NumPy gets C-contiguous NCHW. oneDNN's times include
its per-call weight reorders. "train" = forward + grad-input + grad-weight (conv) or forward +
backward (pool).
"""

from __future__ import annotations

import argparse

import numpy as np

from ember.backend import conv as C
from ember.backend import pool as P
from ember.backends.onednn import conv as DC
from ember.backends.onednn import pool as DP

from ._machine import load_average
from ._timing import loop_runner, measure_interleaved
from .conv_kernels import CONVS, POOLS  # the W2/W3 layer shapes, measured the same way

try:
    import torch
except ImportError:
    torch = None

PAD, ONE = ((1, 1), (1, 1)), (1, 1)


def _cl(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _conv_fns(n, c, h, w, co):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((co, c, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    g = rng.standard_normal((n, co, h, w)).astype(np.float32)
    xc, gc = _cl(x), _cl(g)
    fns = {
        "numpy": (lambda: C.conv2d_forward(x, wt, b, ONE, PAD, ONE, 1),
                  lambda: C.conv2d_backward_input(g, wt, x.shape, ONE, PAD, ONE, 1),
                  lambda: C.conv2d_backward_weight(g, x, wt.shape, ONE, PAD, ONE, 1)),
        "onednn": (lambda: DC.conv2d_forward(xc, wt, b, ONE, PAD, ONE, 1),
                   lambda: DC.conv2d_backward_data(gc, wt, x.shape, ONE, PAD, ONE, 1),
                   lambda: DC.conv2d_backward_weights(gc, xc, wt.shape, ONE, PAD, ONE, 1)),
    }
    if torch is not None:
        cl = torch.channels_last
        tx = torch.from_numpy(x).contiguous(memory_format=cl)
        tw, tb = torch.from_numpy(wt), torch.from_numpy(b)
        tg = torch.from_numpy(g).contiguous(memory_format=cl)
        conv, back = torch.ops.aten.convolution, torch.ops.aten.convolution_backward
        args = ([1, 1], [1, 1], [1, 1], False, [0, 0], 1)
        fns["torch"] = (lambda: conv(tx, tw, tb, *args),
                        lambda: back(tg, tx, tw, [co], *args, [True, False, False]),
                        lambda: back(tg, tx, tw, [co], *args, [False, True, False]))
    return fns


def _pool_fns(n, c, h, w):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    g = rng.standard_normal((n, c, h // 2, w // 2)).astype(np.float32)
    xc, gc = _cl(x), _cl(g)
    k = (2, 2)
    _, arg = P.max_pool2d_forward(x, k, k, (0, 0), ONE, False)
    _, warg = DP.max_pool2d_forward(xc, k, k, (0, 0), ONE, False)
    fns = {"numpy": (lambda: P.max_pool2d_forward(x, k, k, (0, 0), ONE, False),
                     lambda: P.max_pool2d_backward(g, arg, x.shape, k, k, (0, 0), ONE)),
           "onednn": (lambda: DP.max_pool2d_forward(xc, k, k, (0, 0), ONE, False),
                      lambda: DP.max_pool2d_backward(gc, warg, x.shape, k, k, (0, 0), ONE))}
    if torch is not None:
        tx = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
        tg = torch.from_numpy(g).contiguous(memory_format=torch.channels_last)
        _, idx = torch.ops.aten.max_pool2d_with_indices(tx, [2, 2], [2, 2])
        fns["torch"] = (lambda: torch.ops.aten.max_pool2d_with_indices(tx, [2, 2], [2, 2]),
                        lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                            tg, tx, [2, 2], [2, 2], [0, 0], [1, 1], False, idx))
    return fns


def run(repeats: int, target_s: float) -> list:
    """Rows ``(layer, piece, {library: ms})``."""
    rows = []
    for name, *shape in CONVS:
        fns = _conv_fns(*shape)
        for i, piece in enumerate(("fwd", "grad-in", "grad-w")):
            t = measure_interleaved({lib: loop_runner(f[i]) for lib, f in fns.items()},
                                    repeats=repeats, target_s=target_s)
            rows.append((name, piece, {k: v.median_us / 1e3 for k, v in t.items()}))
    for name, *shape in POOLS:
        fns = _pool_fns(*shape)
        for i, piece in enumerate(("fwd", "bwd")):
            t = measure_interleaved({lib: loop_runner(f[i]) for lib, f in fns.items()},
                                    repeats=repeats, target_s=target_s)
            rows.append((name, piece, {k: v.median_us / 1e3 for k, v in t.items()}))
    return rows


def table(rows: list) -> str:
    libs = list(rows[0][2])
    out = ["| layer | piece | " + " | ".join(f"{lib} ms" for lib in libs)
           + " | numpy/onednn | onednn/torch |", "|---|---|" + "---:|" * (len(libs) + 2)]
    sums: dict = {}
    for layer, piece, ms in rows:
        ratio_t = f"{ms['onednn'] / ms['torch']:.2f}" if "torch" in ms else "-"
        out.append(f"| {layer} | {piece} | " + " | ".join(f"{ms[k]:.3f}" for k in libs)
                   + f" | {ms['numpy'] / ms['onednn']:.2f} | {ratio_t} |")
        tot = sums.setdefault(layer[:2], dict.fromkeys(libs, 0.0))
        for k in libs:
            tot[k] += ms[k]
    for wl, tot in sums.items():
        ratio_t = f"{tot['onednn'] / tot['torch']:.2f}" if "torch" in tot else "-"
        out.append(f"| **{wl} conv+pool train** | all | " + " | ".join(
            f"**{tot[k]:.2f}**" for k in libs) + f" | {tot['numpy'] / tot['onednn']:.2f} | "
            f"{ratio_t} |")
    return "\n".join(out)


def main(argv=None) -> None:
    """Print the table (Markdown) with the machine load."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    load0 = load_average()
    rows = run(repeats, 0.05 if args.quick else 0.2)
    print(table(rows))
    print(f"\nmedian of {repeats} repeats; load average before {load0}, after {load_average()}")


if __name__ == "__main__":
    main()
