"""ember's LSTM (nn.LSTM on the fused ``lstm_sequence`` primitive) against PyTorch's nn.LSTM.

Run from the repository root::

    python -m benchmarks.lstm_kernels             # Markdown table on stdout
    python -m benchmarks.lstm_kernels --quick     # fewer repeats, numbers only indicative

Shape: the recurrent layer of workload W4 (shared/WORKLOADS.md): embedding 128 -> 1-layer LSTM
hidden 256, batch 32, 64 steps, float32; the input is a (64, 32, 128) tensor that requires
grad (as an embedding's output would). Each cell is the median over ``--repeats``
timeit-style repeats, all rows interleaved (benchmarks/_timing.py), in ms.

Rows: the eager layer forward only (no grad), forward+backward (the gradient of the output
sequence is given, so no loss is timed); the bare NumPy kernels (backend/rnn.py: input
projection GEMM, time loop, backward, weight GEMMs) without any autograd; and the same cell
written as ~12 ember ops per step (``ops.rnn.lstm_composite``), the path the fused primitive
replaces.
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
import ember.nn
from ember.backend import rnn as K
from ember.ops.rnn import lstm_composite

from ._machine import load_average, machine_info
from ._timing import loop_runner, measure_interleaved

try:
    import torch
except ImportError:
    torch = None

STEPS, BATCH, EMBED, HIDDEN = 64, 32, 128, 256


def runners(with_composite: bool) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, EMBED)).astype(np.float32)
    g = rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32)
    layer = ember.nn.LSTM(EMBED, HIDDEN)
    ex = ember.tensor(x, requires_grad=True)
    eg = ember.tensor(g)

    def ember_fwd():
        with ember.no_grad():
            layer(ex)

    def ember_fwd_bwd():
        out, _ = layer(ex)
        out.backward(eg)

    w_ih, w_hh = layer.weight_ih_l0.detach().numpy(), layer.weight_hh_l0.detach().numpy()
    bias = (layer.bias_ih_l0.detach() + layer.bias_hh_l0.detach()).numpy()
    h0 = np.zeros((BATCH, HIDDEN), np.float32)

    def kernels_fwd_bwd():
        xp = (x.reshape(-1, EMBED) @ w_ih.T + bias).reshape(STEPS, BATCH, -1)
        (hs, _, _), ws = K.lstm_forward(xp, h0, h0, w_hh)
        d_xp, _, _, _ = K.lstm_backward(g, None, None, h0, h0, w_hh, hs, ws)
        d2 = d_xp.reshape(-1, 4 * HIDDEN)
        d2.T @ x.reshape(-1, EMBED)  # dW_ih
        d2 @ w_ih  # dx
        d2.sum(0)  # db

    result = {"ember nn.LSTM fwd (no grad)": loop_runner(ember_fwd),
              "ember nn.LSTM fwd+bwd": loop_runner(ember_fwd_bwd),
              "NumPy kernels alone fwd+bwd": loop_runner(kernels_fwd_bwd)}
    if with_composite:
        p = ember.nn.functional.linear
        w_ih_t, w_hh_t = layer.weight_ih_l0, layer.weight_hh_l0
        b = layer.bias_ih_l0 + layer.bias_hh_l0
        z = ember.zeros(BATCH, HIDDEN)

        def composite_fwd_bwd():
            hs, _, _ = lstm_composite(p(ex, w_ih_t, b), z, z, w_hh_t)
            hs.backward(eg)

        result["ember composite (ember ops per step) fwd+bwd"] = loop_runner(composite_fwd_bwd)
    if torch is not None:
        tl = torch.nn.LSTM(EMBED, HIDDEN)
        tx = torch.tensor(x, requires_grad=True)
        tg = torch.tensor(g)

        def torch_fwd():
            with torch.no_grad():
                tl(tx)

        def torch_fwd_bwd():
            out, _ = tl(tx)
            out.backward(tg)

        result["torch nn.LSTM fwd (no grad)"] = loop_runner(torch_fwd)
        result["torch nn.LSTM fwd+bwd"] = loop_runner(torch_fwd_bwd)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats of ~0.2 s")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-composite", action="store_true",
                        help="skip the slow step-by-step composite row")
    args = parser.parse_args(argv)
    repeats, target = (3, 0.2) if args.quick else (args.repeats, 1.0)
    rows = measure_interleaved(runners(not args.no_composite), repeats=repeats,
                               target_s=target)
    print(f"machine: {machine_info(torch)}\nload average: {load_average()}\n")
    print(f"LSTM T={STEPS} B={BATCH} in={EMBED} hidden={HIDDEN}, float32, median ms\n")
    print("| variant | median ms | min ms |\n|---|---:|---:|")
    for name, t in rows.items():
        print(f"| {name} | {t.median_us / 1e3:.2f} | {min(t.repeat_us) / 1e3:.2f} |")


if __name__ == "__main__":
    main()
