"""Fused recurrent primitives: one op runs the whole time loop of one LSTM, GRU or Elman-RNN
layer in one direction.

Written as ~15 ember ops per step, an LSTM layer records ~1000 autograd nodes per sequence
and accumulates the recurrent weight's gradient once per step; these primitives record one
node per layer and direction, run the loop in NumPy (``backend/rnn.py``) and compute the
weight gradient of all steps in one GEMM. Inputs are the input projection of every step
(``xproj``: the layer computes ``x @ W_ih^T + b`` beforehand with one GEMM), the initial
state and the recurrent weight.

Each op has several outputs (the sequence of hidden states and the final states), recorded
with the engine's multi-output mechanism (one small selector node per output, as for a
multi-output ``autograd.Function``); the vjp then receives one gradient per output, None
for an output nothing depended on.

Gradients: first order runs the fused NumPy backward kernel, itself an op
(``*_sequence_backward``, applied with ``apply_multi``) whose inputs are the saved tensors,
the forward's workspace arrays (wrapped as tensors, not copied) and the incoming gradients:
a traced training step then records the backward as a node reading the forward's side
values, instead of baking the trace-time gradients in as constants. Under ``create_graph=True`` the
vjp instead re-runs the step-by-step composite (:func:`lstm_composite` & co., plain ember
ops) from the saved inputs and differentiates that, so higher-order gradients are exact.
Tests check fused == composite in value and gradient.
"""

from __future__ import annotations

from ..autograd import grad_mode
from ..autograd.engine import grad as _autograd_grad
from ..backend import rnn as _kernels
from ..tensor import Tensor, _make
from .elementwise import add, mul, relu, sigmoid, sub, tanh
from .linalg import matmul
from .movement_join import stack
from .movement_split import chunk, unbind
from .movement_view import transpose
from .registry import Op, TensorSpec, apply_multi


def _composite_vjp(ctx, grads, composite) -> tuple:
    """The vjp by differentiating ``composite`` (ember ops) at the saved inputs; used under
    ``create_graph=True`` so the result is itself differentiable."""
    inputs = ctx.inputs
    attrs = {k: v for k, v in ctx.attrs.items() if k != "n_outputs"}
    with grad_mode.enable_grad():
        outs = composite(*inputs, **attrs)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
    need = ctx.needs_input_grad
    wanted = [x for x, n in zip(inputs, need) if n]
    found = iter(_autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                                create_graph=True, allow_unused=True))
    return tuple(next(found) if n else None for n in need)


def _workspace(ctx) -> tuple:
    """The forward's workspace arrays as tensors (the same arrays: graph mode knows each as
    a side value of the forward's node)."""
    return tuple(_make(a) for a in ctx.workspace)


def _present(grads) -> tuple:
    return tuple(g is not None for g in grads)


def _given(grads) -> tuple:
    return tuple(g for g in grads if g is not None)


def _unpack(arrays, present) -> list:
    """The output gradients in order, None where ``present`` says none reached the output."""
    it = iter(arrays)
    return [next(it) if p else None for p in present]


def _backward_op(name: str, kernel, n_fixed: int, result_specs):
    """A no-gradient multi-output op running a fused backward ``kernel``.

    Its inputs are ``n_fixed`` arrays (saved inputs, outputs, workspace) then the gradients
    that are present (attr ``present``); it returns the input gradients ``need`` asks for.
    ``result_specs(*specs)`` gives the specs of every input gradient (for ``infer``).
    """
    def forward(*arrays, present, need, **attrs):
        result = kernel(arrays[:n_fixed], _unpack(arrays[n_fixed:], present), need, **attrs)
        return tuple(r for r, n in zip(result, need) if n), None

    def infer(*specs, present, need, **attrs):
        return tuple(s for s, n in zip(result_specs(*specs[:n_fixed]), need) if n)

    return Op(name, forward, None, infer, differentiable=False)


def _run_backward(op: Op, fixed: tuple, grads, need, **attrs) -> tuple:
    """Apply backward ``op``; one gradient (or None) per forward input."""
    outs = iter(apply_multi(op, tuple(fixed) + _given(grads), present=_present(grads),
                            need=tuple(need), **attrs))
    return tuple(next(outs) if n else None for n in need)


def _states_infer(n_states: int, gates: int):
    def infer(xproj: TensorSpec, *rest, **attrs) -> tuple:
        steps, batch, _ = xproj.shape
        hidden = rest[0].shape[-1]
        seq = TensorSpec((steps, batch, hidden), xproj.dtype)
        state = TensorSpec((batch, hidden), xproj.dtype)
        return (seq,) + (state,) * n_states

    return infer


# ------------------------------------------------------------------------------ LSTM


def lstm_composite(xproj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> tuple:
    """The LSTM loop written step by step with ember ops (the reference the fused op is
    tested against, and what its higher-order gradients differentiate)."""
    w_t = transpose(w_hh, 0, 1)
    h, c = h0, c0
    hs = []
    for x_t in unbind(xproj, 0):
        i, f, g, o = chunk(add(x_t, matmul(h, w_t)), 4, 1)
        c = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)))
        h = mul(sigmoid(o), tanh(c))
        hs.append(h)
    return stack(hs, 0), h, c


def _lstm_forward(xproj, h0, c0, w_hh):
    (hs, h_n, c_n), (acts, cs, tanh_cs) = _kernels.lstm_forward(xproj, h0, c0, w_hh)
    return (hs, h_n, c_n), (acts, cs, tanh_cs, hs)


def _lstm_backward_kernel(fixed, grads, need):
    h0, c0, w_hh, acts, cs, tanh_cs, hs = fixed
    return _kernels.lstm_backward(*grads, h0, c0, w_hh, hs, (acts, cs, tanh_cs))


LSTM_SEQUENCE_BACKWARD = _backward_op("lstm_sequence_backward", _lstm_backward_kernel, 7,
                                      lambda h0, c0, w_hh, acts, *_: (acts, h0, c0, w_hh))


def _lstm_vjp(ctx, grads):
    if grad_mode.enabled:
        return _composite_vjp(ctx, grads, lstm_composite)
    _, h0, c0, w_hh = ctx.inputs
    return _run_backward(LSTM_SEQUENCE_BACKWARD, (h0, c0, w_hh) + _workspace(ctx), grads,
                         ctx.needs_input_grad)


LSTM_SEQUENCE = Op("lstm_sequence", _lstm_forward, _lstm_vjp, _states_infer(2, 4),
                   save_out=True)


def lstm_sequence(xproj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> tuple:
    """Run one LSTM layer direction: ``xproj`` (T, B, 4H) is ``x @ W_ih^T + b_ih + b_hh``,
    ``h0``/``c0`` (B, H), ``w_hh`` (4H, H). Returns ``(hs (T, B, H), h_n, c_n)``."""
    return apply_multi(LSTM_SEQUENCE, (xproj, h0, c0, w_hh))


# ------------------------------------------------------------------------------ GRU


def gru_composite(xproj: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None) -> tuple:
    """The GRU loop with ember ops (PyTorch's gates: ``n = tanh(x_n + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h``)."""
    w_t = transpose(w_hh, 0, 1)
    h = h0
    hs = []
    for x_t in unbind(xproj, 0):
        gh = matmul(h, w_t)
        if b_hh is not None:
            gh = add(gh, b_hh)
        x_r, x_z, x_n = chunk(x_t, 3, 1)
        h_r, h_z, h_n = chunk(gh, 3, 1)
        r = sigmoid(add(x_r, h_r))
        z = sigmoid(add(x_z, h_z))
        n = tanh(add(x_n, mul(r, h_n)))
        h = add(n, mul(z, sub(h, n)))
        hs.append(h)
    return stack(hs, 0), h


def _gru_forward(xproj, h0, w_hh, b_hh=None):
    (hs, h_n), (acts, hn_proj) = _kernels.gru_forward(xproj, h0, w_hh, b_hh)
    return (hs, h_n), (acts, hn_proj, hs)


def _gru_backward_kernel(fixed, grads, need):
    h0, w_hh, acts, hn_proj, hs = fixed
    result = _kernels.gru_backward(*grads, h0, w_hh, hs, (acts, hn_proj),
                                   len(need) > 3 and need[3])
    return result if len(need) > 3 else result[:3]


def _gru_result_specs(h0, w_hh, acts, *_):
    bias = TensorSpec((w_hh.shape[0],), w_hh.dtype)
    return acts, h0, w_hh, bias


GRU_SEQUENCE_BACKWARD = _backward_op("gru_sequence_backward", _gru_backward_kernel, 5,
                                     _gru_result_specs)


def _gru_vjp(ctx, grads):
    if grad_mode.enabled:
        return _composite_vjp(ctx, grads, gru_composite)
    h0, w_hh = ctx.inputs[1], ctx.inputs[2]
    return _run_backward(GRU_SEQUENCE_BACKWARD, (h0, w_hh) + _workspace(ctx), grads,
                         ctx.needs_input_grad)


GRU_SEQUENCE = Op("gru_sequence", _gru_forward, _gru_vjp, _states_infer(1, 3), save_out=True)


def gru_sequence(xproj: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None) -> tuple:
    """Run one GRU layer direction: ``xproj`` (T, B, 3H) is ``x @ W_ih^T + b_ih``; ``b_hh``
    stays separate (it sits inside the reset gate's product). Returns ``(hs, h_n)``."""
    inputs = (xproj, h0, w_hh) if b_hh is None else (xproj, h0, w_hh, b_hh)
    return apply_multi(GRU_SEQUENCE, inputs)


# ------------------------------------------------------------------------------ Elman RNN


def rnn_composite(xproj: Tensor, h0: Tensor, w_hh: Tensor, *, nonlinearity: str) -> tuple:
    """The Elman RNN loop with ember ops: ``h_t = act(xproj[t] + h_{t-1} @ W_hh^T)``."""
    act = tanh if nonlinearity == "tanh" else relu
    w_t = transpose(w_hh, 0, 1)
    h = h0
    hs = []
    for x_t in unbind(xproj, 0):
        h = act(add(x_t, matmul(h, w_t)))
        hs.append(h)
    return stack(hs, 0), h


def _rnn_forward(xproj, h0, w_hh, *, nonlinearity):
    (hs, h_n), _ = _kernels.rnn_forward(xproj, h0, w_hh, nonlinearity)
    return (hs, h_n), (hs,)


def _rnn_backward_kernel(fixed, grads, need, *, nonlinearity):
    h0, w_hh, hs = fixed
    return _kernels.rnn_backward(*grads, h0, w_hh, hs, nonlinearity)


RNN_SEQUENCE_BACKWARD = _backward_op("rnn_sequence_backward", _rnn_backward_kernel, 3,
                                     lambda h0, w_hh, hs: (hs, h0, w_hh))


def _rnn_vjp(ctx, grads):
    if grad_mode.enabled:
        return _composite_vjp(ctx, grads, rnn_composite)
    _, h0, w_hh = ctx.inputs
    return _run_backward(RNN_SEQUENCE_BACKWARD, (h0, w_hh) + _workspace(ctx), grads,
                         ctx.needs_input_grad, nonlinearity=ctx.attrs["nonlinearity"])


RNN_SEQUENCE = Op("rnn_sequence", _rnn_forward, _rnn_vjp, _states_infer(1, 1), save_out=True)


def rnn_sequence(xproj: Tensor, h0: Tensor, w_hh: Tensor, nonlinearity: str = "tanh") -> tuple:
    """Run one Elman RNN layer direction: ``xproj`` (T, B, H) is ``x @ W_ih^T + b_ih + b_hh``;
    ``nonlinearity`` is ``'tanh'`` or ``'relu'``. Returns ``(hs, h_n)``."""
    return apply_multi(RNN_SEQUENCE, (xproj, h0, w_hh), nonlinearity=nonlinearity)


__all__ = ["lstm_sequence", "gru_sequence", "rnn_sequence", "lstm_composite", "gru_composite",
           "rnn_composite"]
