"""Whole-layer fused recurrent ops for native backends: one LSTM or GRU layer direction from
its *input* (not its input projection) to its outputs, run by oneDNN's fused RNN primitive.

``ops/rnn.py`` splits a layer into the input-projection GEMM (an ember op) and a recurrence
kernel fed with ``xproj = x @ W_ih^T + b``. oneDNN's RNN primitive cannot take precomputed
gates: it always multiplies its input by ``W_layer`` itself. Feeding it ``xproj`` with an
identity ``W_layer`` would add a (T*N, 4H) x (4H, 4H) GEMM forward and two backward (4.3
GFLOP each at W4 shapes, more than the whole LSTM), so the fused path takes the layer input
``x`` and both weights instead: :func:`lstm_layer`, :func:`gru_layer`, and
:func:`fused_direction`, the drop-in for ``nn.functional.rnn._run_direction``.

Graph-mode shape of the computation (three ops, every array a Tensor between them):

1. ``rnn_fused_run`` (no gradient): the oneDNN forward; outputs ``hs, h_n[, c_n]`` and the
   primitive's ``workspace`` (uint8 Tensor; empty when no gradient is needed);
2. ``rnn_fused`` (differentiable): takes the layer inputs *and* step 1's outputs and returns
   the outputs again (no copy); its vjp is
3. ``rnn_fused_backward`` (no gradient): the oneDNN backward, applied with ``apply_multi`` on
   the saved input Tensors, step 1's outputs and workspace, and the incoming gradients.

Under ``create_graph=True`` the vjp instead differentiates the step-by-step composite
(``ops.rnn.lstm_composite`` / ``gru_composite`` after an ember-op input projection), so
higher-order gradients stay exact, as in ``ops/rnn.py``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..autograd.engine import grad as _autograd_grad
from ..tensor import Tensor
from .elementwise import add
from .linalg import matmul
from .movement_copy import flip
from .movement_view import transpose
from .registry import Op, TensorSpec, apply_multi
from .rnn import gru_composite, lstm_composite

_STATES = {"lstm": 2, "gru": 1}


def _native():
    from ..backends.onednn import rnn as native  # lazy: loads libdnnl only when used
    return native


def _split(arrays: tuple, cell: str, has_bias: bool) -> tuple:
    """``(x, states, w_ih, w_hh, b_ih, b_hh, rest)`` from a flat input tuple."""
    n = _STATES[cell]
    x, states = arrays[0], tuple(arrays[1:1 + n])
    w_ih, w_hh = arrays[1 + n], arrays[2 + n]
    b_ih, b_hh = (arrays[3 + n], arrays[4 + n]) if has_bias else (None, None)
    return x, states, w_ih, w_hh, b_ih, b_hh, arrays[(5 if has_bias else 3) + n:]


# ------------------------------------------------------------------------------ 1. forward


def _run_forward(*arrays, cell, has_bias, reverse, training):
    x, states, w_ih, w_hh, b_ih, b_hh, _ = _split(arrays, cell, has_bias)
    native = _native()
    if cell == "lstm":
        outs = native.lstm_forward(x, states[0], states[1], w_ih, w_hh, b_ih, b_hh,
                                   reverse=reverse, training=training)
    else:
        outs = native.gru_forward(x, states[0], w_ih, w_hh, b_ih, b_hh, reverse=reverse,
                                  training=training)
    return outs, None


def _run_infer(x: TensorSpec, *rest, cell, has_bias, reverse, training) -> tuple:
    steps, batch, _ = x.shape
    hidden = rest[0].shape[-1]
    state = TensorSpec((batch, hidden), x.dtype)
    from ..dtypes import uint8
    # the workspace size is oneDNN's business; graph mode sees an opaque byte buffer
    return (TensorSpec((steps, batch, hidden), x.dtype),) + (state,) * _STATES[cell] + \
        (TensorSpec((-1,), uint8),)


RNN_FUSED_RUN = Op("rnn_fused_run", _run_forward, None, _run_infer, differentiable=False)


# ------------------------------------------------------------------------------ 3. backward


def _backward_forward(*arrays, cell, has_bias, reverse, present, wanted):
    n_in = 3 + _STATES[cell] + (2 if has_bias else 0)
    x, states, w_ih, w_hh, b_ih, b_hh, _ = _split(arrays[:n_in], cell, has_bias)
    n_out = 1 + _STATES[cell]
    outs, ws = arrays[n_in:n_in + n_out], arrays[n_in + n_out]
    given = iter(arrays[n_in + n_out + 1:])
    grads = [next(given) if p else None for p in present]
    native = _native()
    if cell == "lstm":
        dx, dh0, dc0, dw_ih, dw_hh, db = native.lstm_backward(
            x, states[0], states[1], w_ih, w_hh, b_ih, b_hh, *outs, ws, *grads,
            reverse=reverse)
        result = (dx, dh0, dc0, dw_ih, dw_hh) + ((db, db.copy()) if has_bias else ())
    else:
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = native.gru_backward(
            x, states[0], w_ih, w_hh, b_ih, b_hh, *outs, ws, *grads, reverse=reverse)
        result = (dx, dh0, dw_ih, dw_hh) + ((db_ih, db_hh) if has_bias else ())
    return tuple(r for r, w in zip(result, wanted) if w), None


RNN_FUSED_BACKWARD = Op("rnn_fused_backward", _backward_forward, None, None,
                        differentiable=False)


# ------------------------------------------------------------------------------ 2. the op


def _attach_forward(*arrays, cell, has_bias, reverse):
    n_in = 3 + _STATES[cell] + (2 if has_bias else 0)
    # the outputs of rnn_fused_run, passed through (no copy) so they get a gradient edge
    return tuple(arrays[n_in:n_in + 1 + _STATES[cell]]), None


def _attach_infer(*specs, cell, has_bias, reverse) -> tuple:
    n_in = 3 + _STATES[cell] + (2 if has_bias else 0)
    return tuple(specs[n_in:n_in + 1 + _STATES[cell]])


def _composite(x, states, w_ih, w_hh, b_ih, b_hh, cell, reverse) -> tuple:
    """The layer as plain ember ops (input projection + the step-by-step loop)."""
    if reverse:
        x = flip(x, 0)
    xproj = matmul(x, transpose(w_ih, 0, 1))
    if cell == "lstm":
        if b_ih is not None:
            xproj = add(xproj, add(b_ih, b_hh))
        outs = lstm_composite(xproj, states[0], states[1], w_hh)
    else:
        if b_ih is not None:
            xproj = add(xproj, b_ih)
        outs = gru_composite(xproj, states[0], w_hh, b_hh)
    return ((flip(outs[0], 0),) if reverse else outs[:1]) + tuple(outs[1:])


def _attach_vjp(ctx, grads):
    attrs = ctx.attrs
    cell, has_bias, reverse = attrs["cell"], attrs["has_bias"], attrs["reverse"]
    inputs = ctx.inputs
    n_in = 3 + _STATES[cell] + (2 if has_bias else 0)
    need = ctx.needs_input_grad[:n_in]
    tail = (None,) * (len(inputs) - n_in)
    if grad_mode.enabled:  # create_graph: differentiate the composite, itself differentiable
        x, states, w_ih, w_hh, b_ih, b_hh, _ = _split(inputs[:n_in], cell, has_bias)
        with grad_mode.enable_grad():
            outs = _composite(x, states, w_ih, w_hh, b_ih, b_hh, cell, reverse)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        wanted = [t for t, n in zip(inputs[:n_in], need) if n]
        found = iter(_autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                                    create_graph=True, allow_unused=True))
        return tuple(next(found) if n else None for n in need) + tail
    present = tuple(g is not None for g in grads)
    found = iter(apply_multi(RNN_FUSED_BACKWARD,
                             tuple(inputs) + tuple(g for g in grads if g is not None),
                             cell=cell, has_bias=has_bias, reverse=reverse, present=present,
                             wanted=tuple(need)))
    return tuple(next(found) if n else None for n in need) + tail


RNN_FUSED = Op("rnn_fused", _attach_forward, _attach_vjp, _attach_infer)


# ------------------------------------------------------------------------------ public


def _layer(cell: str, x: Tensor, states: tuple, w_ih, w_hh, b_ih, b_hh, reverse: bool):
    has_bias = b_ih is not None
    inputs = (x,) + states + (w_ih, w_hh) + ((b_ih, b_hh) if has_bias else ())
    training = grad_mode.enabled and any(t.requires_grad for t in inputs)
    outs = apply_multi(RNN_FUSED_RUN, inputs, cell=cell, has_bias=has_bias, reverse=reverse,
                       training=training)
    if not training:
        return outs[:-1]
    return apply_multi(RNN_FUSED, inputs + tuple(outs), cell=cell, has_bias=has_bias,
                       reverse=reverse)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor | None = None, b_hh: Tensor | None = None, *,
               reverse: bool = False) -> tuple:
    """One LSTM layer direction on the oneDNN backend: ``x`` (T, B, I) time-major, ``h0``,
    ``c0`` (B, H), PyTorch-layout weights and biases (gates i, f, g, o). ``reverse`` runs
    right to left (outputs stay in input time order). Returns ``(hs, h_n, c_n)``."""
    return _layer("lstm", x, (h0, c0), w_ih, w_hh, b_ih, b_hh, reverse)


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, *, reverse: bool = False) -> tuple:
    """One GRU layer direction (PyTorch's GRU, gates r, z, n, ``b_hn`` inside the reset
    product) on the oneDNN backend. Returns ``(hs, h_n)``."""
    return _layer("gru", x, (h0,), w_ih, w_hh, b_ih, b_hh, reverse)


def fused_supported(mode: str, x: Tensor) -> bool:
    """Whether :func:`fused_direction` would run natively: oneDNN selected and available,
    an LSTM or GRU layer, float32 data."""
    if mode not in ("LSTM", "GRU") or x.dtype.np != np.float32:
        return False
    from ..backends import use_onednn
    return use_onednn()


def fused_direction(mode: str, x: Tensor, state, w_ih, w_hh, b_ih, b_hh,
                    reverse: bool = False):
    """``nn.functional.rnn._run_direction`` on oneDNN: same arguments plus ``reverse`` (run
    right to left instead of flipping ``x`` and ``hs``), same result ``(hs, final states)``;
    None when the case is not supported (the caller then runs the NumPy path)."""
    if not fused_supported(mode, x):
        return None
    from ..backends._errors import OneDNNUnimplemented
    try:
        if mode == "LSTM":
            hs, h_n, c_n = lstm_layer(x, state[0], state[1], w_ih, w_hh, b_ih, b_hh,
                                      reverse=reverse)
            return hs, (h_n, c_n)
        hs, h_n = gru_layer(x, state, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
        return hs, h_n
    except OneDNNUnimplemented:  # no oneDNN implementation for this shape: NumPy path
        return None


__all__ = ["lstm_layer", "gru_layer", "fused_direction", "fused_supported"]
