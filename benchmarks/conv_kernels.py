"""ember's conv and pool kernels (ember/backend/conv.py, pool.py) against PyTorch, per layer.

Run from the repository root::

    python -m benchmarks.conv_kernels             # Markdown table on stdout
    python -m benchmarks.conv_kernels --quick     # fewer repeats, numbers only indicative

Shapes are the conv and max-pool layers of workloads W2 (MNIST CNN, batch 64) and W3 (CIFAR
CNN, batch 32) of shared/WORKLOADS.md, float32. Each cell is the median over ``--repeats``
timeit-style repeats, all columns of a row interleaved (benchmarks/_timing.py), in ms.

Columns for conv: forward (with bias, output C-contiguous NCHW), grad-input (col2im),
grad-weight reusing the forward's im2col columns, grad-weight recomputing them, and two
alternatives kept here only to justify the kernel choices: the forward without the final
NHWC->NCHW copy (what a channels-last tensor would save) and grad-input as a convolution of
the padded gradient with the flipped kernel (im2col of the gradient + GEMM) instead of col2im.
PyTorch's numbers come from ``aten.convolution`` / ``aten.convolution_backward`` with one
output mask at a time, so each piece is timed alone as ember's are.
"""

from __future__ import annotations

import argparse

import numpy as np

from ember.backend import conv as C
from ember.backend import pool as P

from ._machine import load_average, machine_info
from ._timing import loop_runner, measure_interleaved

try:
    import torch
except ImportError:
    torch = None

# (name, N, C_in, H, W, C_out): 3x3 kernels, stride 1, padding 1
CONVS = [("W2c1", 64, 1, 28, 28, 32), ("W2c2", 64, 32, 14, 14, 64),
         ("W3c1", 32, 3, 32, 32, 64), ("W3c2", 32, 64, 32, 32, 64),
         ("W3c3", 32, 64, 16, 16, 128), ("W3c4", 32, 128, 16, 16, 128)]
# (name, N, C, H, W): 2x2 max-pool, stride 2
POOLS = [("W2p1", 64, 32, 28, 28), ("W2p2", 64, 64, 14, 14),
         ("W3p1", 32, 64, 32, 32), ("W3p2", 32, 128, 16, 16)]

PAD = ((1, 1), (1, 1))
ONE = (1, 1)


def _grad_input_as_conv(g, w):
    """Alternative grad-input (stride 1, 3x3, pad 1): conv of the gradient with the flipped,
    transposed kernel."""
    wf = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return C.conv2d_forward(g, wf, None, ONE, PAD, ONE, 1)[0]


def _forward_nhwc(x, w, b):
    cols = C.im2col(x, (3, 3), ONE, PAD, ONE, 1)[0]
    out = cols @ C._weight_matrix(w, 1)[0]
    out += b
    return out


def conv_runners(n, cin, h, wd, cout) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, h, wd), dtype=np.float32)
    w = rng.standard_normal((cout, cin, 3, 3), dtype=np.float32)
    b = rng.standard_normal(cout, dtype=np.float32)
    g = rng.standard_normal((n, cout, h, wd), dtype=np.float32)
    _, cols = C.conv2d_forward(x, w, b, ONE, PAD, ONE, 1, keep_cols=True)
    runners = {
        "fwd": loop_runner(lambda: C.conv2d_forward(x, w, b, ONE, PAD, ONE, 1, keep_cols=True)),
        "grad-in": loop_runner(lambda: C.conv2d_backward_input(g, w, x.shape, ONE, PAD, ONE, 1)),
        "grad-w cached": loop_runner(
            lambda: C.conv2d_backward_weight(g, x, w.shape, ONE, PAD, ONE, 1, cols)),
        "grad-w recompute": loop_runner(
            lambda: C.conv2d_backward_weight(g, x, w.shape, ONE, PAD, ONE, 1)),
        "alt fwd NHWC out": loop_runner(lambda: _forward_nhwc(x, w, b)),
        "alt grad-in as conv": loop_runner(lambda: _grad_input_as_conv(g, w)),
    }
    if torch is not None:
        tx, tw, tb, tg = (torch.from_numpy(a) for a in (x, w, b, g))
        aten = torch.ops.aten

        def back(mask):
            return lambda: aten.convolution_backward(tg, tx, tw, [cout], [1, 1], [1, 1], [1, 1],
                                                     False, [0, 0], 1, mask)

        with torch.no_grad():
            runners["torch fwd"] = loop_runner(
                lambda: aten.convolution(tx, tw, tb, [1, 1], [1, 1], [1, 1], False, [0, 0], 1))
            runners["torch grad-in"] = loop_runner(back([True, False, False]))
            runners["torch grad-w"] = loop_runner(back([False, True, False]))
    return runners


def pool_runners(n, c, h, wd) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
    out, arg = P.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    g = rng.standard_normal(out.shape, dtype=np.float32)
    runners = {
        "fwd": loop_runner(lambda: P.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)),
        "bwd": loop_runner(lambda: P.max_pool2d_backward(g, arg, x.shape, (2, 2), (2, 2), (0, 0),
                                                         (1, 1))),
    }
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        _, idx = torch.nn.functional.max_pool2d(tx, 2, return_indices=True)
        aten = torch.ops.aten
        runners["torch fwd"] = loop_runner(
            lambda: aten.max_pool2d_with_indices(tx, [2, 2], [2, 2], [0, 0], [1, 1], False))
        runners["torch bwd"] = loop_runner(
            lambda: aten.max_pool2d_with_indices_backward(tg, tx, [2, 2], [2, 2], [0, 0],
                                                          [1, 1], False, idx))
    return runners


def _table(title: str, rows: list) -> str:
    cols = list(rows[0][1])
    lines = [f"### {title} (ms, median)", "", "| layer | " + " | ".join(cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for name, timings in rows:
        lines.append(f"| {name} | " + " | ".join(f"{timings[c].median_us / 1e3:.2f}"
                                                  for c in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--target-ms", type=float, default=60.0)
    args = parser.parse_args(argv)
    repeats, target = (3, 0.02) if args.quick else (args.repeats, args.target_ms / 1e3)
    conv_rows = [(name, measure_interleaved(conv_runners(*shape), repeats=repeats,
                                            target_s=target)) for name, *shape in CONVS]
    pool_rows = [(name, measure_interleaved(pool_runners(*shape), repeats=repeats,
                                            target_s=target)) for name, *shape in POOLS]
    info = machine_info(torch)
    print(f"machine: {info}\nload average: {load_average()}\n")
    print(_table("conv2d 3x3 pad 1", conv_rows))
    print()
    print(_table("max_pool2d 2x2", pool_rows))


if __name__ == "__main__":
    main()
