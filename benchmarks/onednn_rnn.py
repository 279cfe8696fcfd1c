"""oneDNN's fused LSTM/GRU (``ops/rnn_fused.py``) against ember's NumPy kernels and PyTorch.

Run from the repository root::

    python -m benchmarks.onednn_rnn             # Markdown table on stdout
    python -m benchmarks.onednn_rnn --quick     # fewer repeats, numbers only indicative

Shape: W4's recurrent layer (64 steps, batch 32, input 128, hidden 256, float32, one layer),
for LSTM and GRU. Forward+backward with the gradient of the output sequence given (no loss
timed); medians over ``--repeats`` interleaved repeats (benchmarks/_timing.py), in ms.

Rows per cell: ember ``nn.LSTM``/``nn.GRU`` on the NumPy backend; the same module on oneDNN
(``_run_direction`` routed to ``fused_direction`` as the wiring in ``nn/functional/rnn.py``
will do); the bare oneDNN kernels on arrays (no autograd); what routing the per-layer
*recurrence* kernels (``backend/rnn.py``, which receive ``xproj``) to oneDNN would cost,
i.e. the primitive with an identity 4H x 4H input weight; and torch's module.
"""

from __future__ import annotations

import argparse
import contextlib
import os

import numpy as np

import ember
import ember.nn

from ._machine import load_average, machine_info
from ._timing import loop_runner, measure_interleaved

try:
    import torch
except ImportError:
    torch = None

STEPS, BATCH, EMBED, HIDDEN = 64, 32, 128, 256


@contextlib.contextmanager
def fused_backend(enabled: bool):
    """Select oneDNN and route ``nn.functional.rnn._run_direction`` to the fused op."""
    from ember.backends import get_backend, set_backend
    from ember.nn.functional import rnn as frnn
    from ember.ops.rnn_fused import fused_direction

    if not enabled:
        yield
        return
    original, before = frnn._run_direction, get_backend()

    def run(mode, x, state, w_ih, w_hh, b_ih, b_hh):
        out = fused_direction(mode, x, state, w_ih, w_hh, b_ih, b_hh)
        return original(mode, x, state, w_ih, w_hh, b_ih, b_hh) if out is None else out

    set_backend("onednn")
    frnn._run_direction = run
    try:
        yield
    finally:
        frnn._run_direction = original
        set_backend(before)


def _module_runner(layer, ex, eg, fused: bool):
    def step():
        with fused_backend(fused):
            out, _ = layer(ex)
            out.backward(eg)

    return loop_runner(step)


def runners(mode: str) -> dict:
    from ember.backends.onednn import is_available
    from ember.backends.onednn import rnn as native

    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, EMBED)).astype(np.float32)
    g = rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32)
    layer = getattr(ember.nn, mode)(EMBED, HIDDEN)
    ex, eg = ember.tensor(x, requires_grad=True), ember.tensor(g)
    result = {f"ember nn.{mode} NumPy backend": _module_runner(layer, ex, eg, False)}
    gates = 4 if mode == "LSTM" else 3
    params = [p.detach().numpy() for p in (layer.weight_ih_l0, layer.weight_hh_l0,
                                           layer.bias_ih_l0, layer.bias_hh_l0)]
    h0 = np.zeros((BATCH, HIDDEN), np.float32)
    states = (h0, h0) if mode == "LSTM" else (h0,)
    fwd, bwd = ((native.lstm_forward, native.lstm_backward) if mode == "LSTM"
                else (native.gru_forward, native.gru_backward))

    def kernels(inp, w_ih):
        def run():
            outs = fwd(inp, *states, w_ih, *params[1:])
            bwd(inp, *states, w_ih, *params[1:], *outs, g, *([None] * len(states)))
        return run

    if is_available():
        result[f"ember nn.{mode} oneDNN fused"] = _module_runner(layer, ex, eg, True)
        result["oneDNN kernels alone (arrays)"] = loop_runner(kernels(x, params[0]))
        # xproj (T, N, 4H) fed through an identity input weight: the per-kernel routing option
        xproj = rng.standard_normal((STEPS, BATCH, gates * HIDDEN)).astype(np.float32)
        eye = np.eye(gates * HIDDEN, dtype=np.float32)
        result["oneDNN on xproj, identity W_ih (per-kernel routing)"] = \
            loop_runner(kernels(xproj, eye))
    if torch is not None:
        torch.manual_seed(0)
        tl = getattr(torch.nn, mode)(EMBED, HIDDEN)
        tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def torch_step():
            out, _ = tl(tx)
            out.backward(tg)

        result[f"torch nn.{mode}"] = loop_runner(torch_step)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats of ~0.2 s")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    repeats, target = (3, 0.2) if args.quick else (args.repeats, 1.0)
    print(f"machine: {machine_info(torch)}\nload average: {load_average()}")
    print("OMP_WAIT_POLICY={} OPENBLAS_THREAD_TIMEOUT={}\n".format(
        os.environ.get("OMP_WAIT_POLICY"), os.environ.get("OPENBLAS_THREAD_TIMEOUT")))
    print(f"T={STEPS} B={BATCH} in={EMBED} hidden={HIDDEN}, float32, forward+backward, ms\n")
    print("| cell | variant | median ms | min ms |\n|---|---|---:|---:|")
    for mode in ("LSTM", "GRU"):
        rows = measure_interleaved(runners(mode), repeats=repeats, target_s=target)
        for name, t in rows.items():
            print(f"| {mode} | {name} | {t.median_us / 1e3:.2f} | "
                  f"{min(t.repeat_us) / 1e3:.2f} |")
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
