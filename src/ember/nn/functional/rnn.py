"""Recurrent networks as functions: the multi-layer loop behind ``nn.RNN``/``LSTM``/``GRU``
and the single-step cells behind ``nn.RNNCell``/``LSTMCell``/``GRUCell``.

Each layer and direction is two steps: the input projection of every timestep at once
(``linear``: one GEMM over T*B rows, with ``b_ih + b_hh`` folded into its bias where the gate
math allows it), then one fused recurrent primitive (``ops/rnn.py``) that runs the time loop.
A cell is the same primitive over a sequence of length 1.

The cell functions follow PyTorch's ``torch.lstm_cell(input, hx, w_ih, w_hh, b_ih, b_hh)``
(exposed there as ``torch.*``, here as ``nn.functional.*``).
"""

from __future__ import annotations

from ...creation import zeros
from ...errors import DTypeError, ShapeError, shape_str
from ...ops.elementwise import add
from ...ops.movement_copy import flip
from ...ops.movement_join import cat, stack
from ...ops.movement_split import select
from ...ops.movement_view import squeeze, transpose, unsqueeze
from ...ops.rnn import gru_sequence, lstm_sequence, rnn_sequence
from ...ops.rnn_fused import fused_direction
from ...tensor import Tensor
from .attention import linear
from .dropout import dropout as _dropout

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _projection_bias(mode: str, b_ih, b_hh):
    """The bias of the input projection: LSTM and RNN add both biases to the same sum, so
    they are folded into one; GRU keeps ``b_hh`` for its reset-gate product."""
    if b_ih is None:
        return None
    return b_ih if mode == "GRU" else add(b_ih, b_hh)


def _run_direction(mode: str, x: Tensor, state, w_ih, w_hh, b_ih, b_hh) -> tuple:
    """One layer, one direction, time-major ``x`` (T, B, I). Returns ``(hs, final states)``."""
    xproj = linear(x, w_ih, _projection_bias(mode, b_ih, b_hh))
    if mode == "LSTM":
        hs, h_n, c_n = lstm_sequence(xproj, state[0], state[1], w_hh)
        return hs, (h_n, c_n)
    if mode == "GRU":
        hs, h_n = gru_sequence(xproj, state, w_hh, b_hh)
    else:
        hs, h_n = rnn_sequence(xproj, state, w_hh, "tanh" if mode == "RNN_TANH" else "relu")
    return hs, h_n


def _check_states(name: str, mode: str, hx, expected: tuple, dtype, unbatched: bool) -> tuple:
    """``hx`` as a tuple of 3-D state tensors (LSTM: (h, c)), checked against ``expected``."""
    if mode == "LSTM":
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2
                and all(isinstance(t, Tensor) for t in hx)):
            raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of Tensors, got "
                            f"{type(hx).__name__}")
        states, labels = tuple(hx), ("hidden[0]", "hidden[1]")
    else:
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
        states, labels = (hx,), ("hidden",)
    want = expected[:1] + expected[2:] if unbatched else expected
    out = []
    for t, label in zip(states, labels):
        if unbatched and t.ndim != 2:
            raise ShapeError(f"{name}: for unbatched 2-D input, {label} should also be 2-D "
                             f"{shape_str(want)}, got shape {shape_str(t.shape)}")
        if tuple(t.shape) != want:
            raise ShapeError(f"{name}: expected {label} of shape {shape_str(want)} "
                             f"(num_layers * num_directions, batch, hidden_size), got "
                             f"{shape_str(t.shape)}")
        if t.dtype is not dtype:
            raise DTypeError(f"{name}: {label} must have the input's dtype {dtype.name}, got "
                             f"{t.dtype.name}")
        out.append(unsqueeze(t, 1) if unbatched else t)
    return tuple(out)


def recurrent(mode: str, input: Tensor, hx, weights: list, *, num_layers: int,
              hidden_size: int, bias: bool, dropout: float, training: bool,
              bidirectional: bool, batch_first: bool, name: str | None = None) -> tuple:
    """Run a stacked (optionally bidirectional) recurrent network, as ``nn.RNN``/``LSTM``/
    ``GRU`` do; ``mode`` is ``'LSTM'``, ``'GRU'``, ``'RNN_TANH'`` or ``'RNN_RELU'``.

    weights: per layer and direction, ``[w_ih, w_hh, b_ih, b_hh]`` (or ``[w_ih, w_hh]`` when
        ``bias`` is False), in PyTorch's ``_flat_weights`` order.
    Returns ``(output, h_n)``, or ``(output, (h_n, c_n))`` for LSTM.
    """
    name = name or mode
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected input to be 2-D (L, H_in) or 3-D, got "
                         f"{input.ndim}-D input of shape {shape_str(input.shape)}")
    input_size = weights[0].shape[1]
    if input.shape[-1] != input_size:
        raise ShapeError(f"{name}: expected input with {input_size} features (input_size) in "
                         f"its last dimension, got input of shape {shape_str(input.shape)}")
    dtype = weights[0].dtype
    if input.dtype is not dtype:
        raise DTypeError(f"{name}: input dtype {input.dtype.name} does not match the "
                         f"parameters' dtype {dtype.name}")
    unbatched = input.ndim == 2
    x = unsqueeze(input, 1) if unbatched else (transpose(input, 0, 1) if batch_first else input)
    batch = x.shape[1]
    directions = 2 if bidirectional else 1
    expected = (num_layers * directions, batch, hidden_size)
    n_states = 2 if mode == "LSTM" else 1
    if hx is None:
        states = tuple(zeros(expected, dtype=dtype) for _ in range(n_states))
    else:
        states = _check_states(name, mode, hx, expected, dtype, unbatched)

    per = 4 if bias else 2
    finals = [[] for _ in range(n_states)]
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w = weights[k * per:(k + 1) * per]
            b_ih, b_hh = (w[2], w[3]) if bias else (None, None)
            state = tuple(select(s, 0, k) for s in states)
            state = state if n_states == 2 else state[0]
            # the whole layer on oneDNN's fused RNN primitive when that backend is selected
            # (it runs right to left itself); None: the NumPy path
            fused = fused_direction(mode, x, state, w[0], w[1], b_ih, b_hh, reverse=d == 1)
            if fused is not None:
                hs, final = fused
                outs.append(hs)
            else:
                x_in = flip(x, 0) if d == 1 else x
                hs, final = _run_direction(mode, x_in, state, w[0], w[1], b_ih, b_hh)
                outs.append(flip(hs, 0) if d == 1 else hs)
            for acc, f in zip(finals, final if n_states == 2 else (final,)):
                acc.append(f)
        x = cat(outs, 2) if directions == 2 else outs[0]
        if dropout > 0.0 and training and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    h_n = tuple(stack(f, 0) for f in finals)
    if unbatched:
        x = squeeze(x, 1)
        h_n = tuple(squeeze(h, 1) for h in h_n)
    elif batch_first:
        x = transpose(x, 0, 1)
    return x, (h_n if n_states == 2 else h_n[0])


# ------------------------------------------------------------------------------ cells


def recurrent_cell(name: str, mode: str, input: Tensor, hx, w_ih: Tensor, w_hh: Tensor,
                   b_ih: Tensor | None, b_hh: Tensor | None):
    """One step of ``mode`` (see :func:`recurrent`), as ``nn.*Cell`` runs it; ``name`` is
    the caller named in error messages."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{name}: expected input to be 1-D or 2-D, got {input.ndim}-D input "
                         f"of shape {shape_str(input.shape)}")
    for arg, t in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if t is None and arg[0] == "b":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(t).__name__}")
        if t.dtype is not w_ih.dtype:
            raise DTypeError(f"{name}: {arg} is {t.dtype.name} but w_ih is {w_ih.dtype.name}; "
                             "the parameters must share one dtype")
    input_size, hidden = w_ih.shape[1], w_hh.shape[1]
    if input.shape[-1] != input_size:
        raise ShapeError(f"{name}: expected input with {input_size} features (input_size) in "
                         f"its last dimension, got input of shape {shape_str(input.shape)}")
    if input.dtype is not w_ih.dtype:
        raise DTypeError(f"{name}: input dtype {input.dtype.name} does not match the "
                         f"parameters' dtype {w_ih.dtype.name}")
    unbatched = input.ndim == 1
    x = unsqueeze(input, 0) if unbatched else input
    want = (hidden,) if unbatched else (x.shape[0], hidden)
    n_states = 2 if mode == "LSTM" else 1
    if hx is None:
        states = tuple(zeros(want, dtype=input.dtype) for _ in range(n_states))
    else:
        if mode == "LSTM":
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h, c) of Tensors, got "
                                f"{type(hx).__name__}")
            states = tuple(hx)
        else:
            states = (hx,)
        for t in states:
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: hx must hold Tensors, got {type(t).__name__}")
            if tuple(t.shape) != want:
                raise ShapeError(f"{name}: expected hidden state of shape {shape_str(want)} "
                                 f"(batch, hidden_size) for input of shape "
                                 f"{shape_str(input.shape)}, got {shape_str(t.shape)}")
            if t.dtype is not input.dtype:
                raise DTypeError(f"{name}: hidden state dtype {t.dtype.name} does not match "
                                 f"the input's {input.dtype.name}")
    if unbatched:
        states = tuple(unsqueeze(t, 0) for t in states)
    _, final = _run_direction(mode, unsqueeze(x, 0),
                              states if n_states == 2 else states[0], w_ih, w_hh, b_ih, b_hh)
    finals = final if n_states == 2 else (final,)
    if unbatched:
        finals = tuple(squeeze(t, 0) for t in finals)
    return finals if n_states == 2 else finals[0]


def lstm_cell(input: Tensor, hx: tuple | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple:
    """One LSTM step (PyTorch's ``torch.lstm_cell``): returns ``(h', c')``.

    input (B, I) or (I,); hx ``(h, c)`` each (B, H) / (H,), or None for zeros."""
    return recurrent_cell("lstm_cell", "LSTM", input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step (PyTorch's ``torch.gru_cell``): returns ``h'``."""
    return recurrent_cell("gru_cell", "GRU", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with tanh (PyTorch's ``torch.rnn_tanh_cell``): returns ``h'``."""
    return recurrent_cell("rnn_tanh_cell", "RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with ReLU (PyTorch's ``torch.rnn_relu_cell``): returns ``h'``."""
    return recurrent_cell("rnn_relu_cell", "RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)


__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]
