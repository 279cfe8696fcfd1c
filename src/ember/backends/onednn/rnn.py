"""oneDNN's fused RNN primitive for one LSTM or GRU layer direction, forward and backward, on
NumPy arrays in PyTorch's layouts.

Arrays: ``x`` (T, N, I) time-major, states (N, H), weights ``w_ih`` (G*H, I) and ``w_hh``
(G*H, H) as PyTorch stores them, biases (G*H,) or None. ``reverse`` runs right to left
(oneDNN's ``unidirectional_right2left``: outputs stay in input time order, no flips).

How PyTorch's parameters map onto oneDNN's (v2.6, ``dnnl_lstm_*`` / ``dnnl_lbr_gru_*``):

- weights: PyTorch's (G*H, in) row-major buffer *is* oneDNN's ``ldgoi`` layout of logical dims
  (1, 1, in, G, H), so it is described, not copied; a cached reorder converts it to the
  format the primitive picked (``any``), once per call (weights change every step). Gradients
  come back in the primitive's format and are reordered to ``ldgoi`` the same way.
- LSTM gate order is the same in both (i, f, g/c~, o); the bias is one vector
  ``b_ih + b_hh`` and its gradient is the gradient of each.
- GRU: PyTorch's GRU is oneDNN's *linear-before-reset* GRU. Gate blocks are reordered from
  PyTorch's (r, z, n) to oneDNN's (u=z, r, o=n); the bias has G+1 = 4 blocks
  ``(b_iz + b_hz, b_ir + b_hr, b_in, b_hn)`` because ``b_hn`` sits inside ``r * (...)``.
- The backward **accumulates** into ``diff_weights_*`` and ``diff_bias`` (it adds the
  gradient to what the buffers hold), so they are zeroed before every call; an earlier probe
  that reused an unzeroed buffer got a wrong recurrent-weight gradient.

Only float32 is implemented (oneDNN's RNN has no f64); callers check :func:`supports`.
Primitives, their memory objects and the weight reorders are cached per (cell, direction,
shapes, training) through ``_lib.cached``.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _lib

_GATES = {"lstm": 4, "gru": 3}
_BIAS_GATES = {"lstm": 4, "gru": 4}
_ALG = {"lstm": "ALG_VANILLA_LSTM", "gru": "ALG_LBR_GRU"}
_RIGHT2LEFT = 1  # dnnl_unidirectional_right2left (left2right is 0)
_P, _I = ctypes.c_void_p, ctypes.c_int
_SIGNATURES = {  # number of memory-descriptor pointers after (desc, prop, direction)
    "dnnl_lstm_forward_desc_init": 9, "dnnl_lstm_backward_desc_init": 18,
    "dnnl_lbr_gru_forward_desc_init": 7, "dnnl_lbr_gru_backward_desc_init": 14,
}
_declared: set = set()


def supports(dtype) -> bool:
    """Whether the fused primitive runs arrays of ``dtype`` (float32 only)."""
    return np.dtype(dtype) == np.float32


def _declare(name: str):
    fn = getattr(_lib.lib(), name)
    if name not in _declared:  # pointer arguments must not be truncated to C int
        fn.restype = ctypes.c_int
        fn.argtypes = [_P, _I, _I] + [_P] * _SIGNATURES[name] + [ctypes.c_uint]
        _declared.add(name)
    return name


# ------------------------------------------------------------------------------ plans


class _Plan:
    """Everything fixed for one (cell, direction, T, N, I, H): descriptors and primitives."""

    def __init__(self, cell: str, reverse: bool, steps: int, batch: int, inp: int, hidden: int):
        self.cell, self.reverse = cell, reverse
        self.shape = (steps, batch, inp, hidden)
        g, f32, a = _GATES[cell], np.float32, _lib.api()
        md = _lib.memory_desc
        self.src = md((steps, batch, inp), f32, a.TAG_TNC)
        self.dst = md((steps, batch, hidden), f32, a.TAG_TNC)
        self.state = md((1, 1, batch, hidden), f32, a.TAG_LDNC)
        self.bias = md((1, 1, _BIAS_GATES[cell], hidden), f32, a.TAG_LDGO)
        self.wl_user = md((1, 1, inp, g, hidden), f32, a.TAG_LDGOI)
        self.wi_user = md((1, 1, hidden, g, hidden), f32, a.TAG_LDGOI)
        self.wl_any = md((1, 1, inp, g, hidden), f32, None)
        self.wi_any = md((1, 1, hidden, g, hidden), f32, None)
        self.direction = _RIGHT2LEFT if reverse else a.RNN_UNIDIRECTIONAL_LEFT2RIGHT
        self.detail = f"{cell} T={steps} N={batch} I={inp} H={hidden} reverse={reverse}"
        self._prims: dict = {}

    def _forward_args(self) -> list:
        s = self.state.ptr
        layer = [self.src.ptr] + ([s, s] if self.cell == "lstm" else [s])
        outs = [self.dst.ptr] + ([s, s] if self.cell == "lstm" else [s])
        return layer, outs

    def forward(self, training: bool) -> _lib.Primitive:
        """The forward primitive (training: writes the workspace the backward reads)."""
        key = "train" if training else "infer"
        if key not in self._prims:
            a = _lib.api()
            prop = a.PROP_FORWARD_TRAINING if training else a.PROP_FORWARD_INFERENCE
            layer, outs = self._forward_args()
            init = _declare(f"dnnl_{'lstm' if self.cell == 'lstm' else 'lbr_gru'}"
                            "_forward_desc_init")
            args = (prop, self.direction, *layer, self.wl_any.ptr, self.wi_any.ptr,
                    self.bias.ptr, *outs, 0)
            pd = a.op_pd(_lib.lib(), _lib.engine(), "rnn", init, args, detail=self.detail)
            self._prims[key] = _lib.Primitive(pd, f"{self.cell} forward")
        return self._prims[key]

    def backward(self) -> _lib.Primitive:
        """The backward primitive, matched to the training forward (its workspace layout)."""
        if "bwd" not in self._prims:
            a = _lib.api()
            hint = self.forward(True).pd
            layer, outs = self._forward_args()
            init = _declare(f"dnnl_{'lstm' if self.cell == 'lstm' else 'lbr_gru'}"
                            "_backward_desc_init")
            weights = (self.wl_any.ptr, self.wi_any.ptr, self.bias.ptr)
            args = (a.PROP_BACKWARD, self.direction, *layer, *weights, *outs,
                    *layer, *weights, *outs, 0)
            pd = a.op_pd(_lib.lib(), _lib.engine(), "rnn", init, args, hint=hint,
                         detail=self.detail)
            self._prims["bwd"] = _lib.Primitive(pd, f"{self.cell} backward")
        return self._prims["bwd"]


def _plan(cell: str, reverse: bool, steps: int, batch: int, inp: int, hidden: int) -> _Plan:
    key = ("rnn", cell, bool(reverse), steps, batch, inp, hidden, "f32")
    return _lib.cached(key, lambda: _Plan(cell, reverse, steps, batch, inp, hidden))


# ------------------------------------------------------------------------------ helpers


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _convert(src_md, array: np.ndarray, dst_md) -> np.ndarray:
    """``array`` (laid out as ``src_md``) in ``dst_md``'s layout; no copy when they match."""
    if src_md == dst_md:
        return array
    out = np.empty(dst_md.nbytes, np.uint8)
    _lib.reorder(src_md, dst_md).execute({_lib.ARG_FROM: array, _lib.ARG_TO: out})
    return out


def _from_primitive(src_md, buffer: np.ndarray, dst_md, shape: tuple) -> np.ndarray:
    """A gradient buffer in the primitive's layout as a plain float32 array of ``shape``."""
    out = np.empty(shape, np.float32)
    if src_md == dst_md:
        out.reshape(-1)[:] = buffer.view(np.float32)[:out.size]
        return out
    _lib.reorder(src_md, dst_md).execute({_lib.ARG_FROM: buffer, _lib.ARG_TO: out})
    return out


def _gru_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    """PyTorch's (r, z, n) gate blocks as oneDNN's (z, r, n) (the same swap undoes it)."""
    blocks = w.reshape((3, hidden) + w.shape[1:])
    return np.ascontiguousarray(blocks[[1, 0, 2]].reshape(w.shape), dtype=np.float32)


def _bias(cell: str, b_ih, b_hh, hidden: int) -> np.ndarray:
    if b_ih is None:
        return np.zeros((_BIAS_GATES[cell], hidden), np.float32)
    if cell == "lstm":
        return (b_ih + b_hh).astype(np.float32).reshape(4, hidden)
    bi, bh = b_ih.reshape(3, hidden), b_hh.reshape(3, hidden)
    return np.stack([bi[1] + bh[1], bi[0] + bh[0], bi[2], bh[2]]).astype(np.float32)


def _user_weights(cell: str, w_ih, w_hh, hidden: int) -> tuple:
    if cell == "gru":
        return _gru_gates(w_ih, hidden), _gru_gates(w_hh, hidden)
    return _f32(w_ih), _f32(w_hh)


def _zeros_if_none(g, shape) -> np.ndarray:
    return np.zeros(shape, np.float32) if g is None else _f32(g)


# ------------------------------------------------------------------------------ kernels


def _forward(cell, x, states, w_ih, w_hh, b_ih, b_hh, reverse, training):
    steps, batch, inp = x.shape
    hidden = w_hh.shape[1]
    plan = _plan(cell, reverse, steps, batch, inp, hidden)
    prim = plan.forward(training)
    wl, wi = _user_weights(cell, w_ih, w_hh, hidden)
    A = _lib.api()
    hs = np.empty((steps, batch, hidden), np.float32)
    finals = tuple(np.empty((batch, hidden), np.float32) for _ in states)
    args = {A.ARG_SRC_LAYER: _f32(x), A.ARG_SRC_ITER: _f32(states[0]),
            A.ARG_WEIGHTS_LAYER: _convert(plan.wl_user, wl, prim.md(A.ARG_WEIGHTS_LAYER)),
            A.ARG_WEIGHTS_ITER: _convert(plan.wi_user, wi, prim.md(A.ARG_WEIGHTS_ITER)),
            A.ARG_BIAS: _bias(cell, b_ih, b_hh, hidden),
            A.ARG_DST_LAYER: hs, A.ARG_DST_ITER: finals[0]}
    if cell == "lstm":
        args[A.ARG_SRC_ITER_C] = _f32(states[1])
        args[A.ARG_DST_ITER_C] = finals[1]
    workspace = np.empty(prim.md(A.ARG_WORKSPACE).nbytes if training else 0, np.uint8)
    if training:
        args[A.ARG_WORKSPACE] = workspace
    prim.execute(args)
    return (hs,) + finals + (workspace,)


def _backward(cell, x, states, w_ih, w_hh, b_ih, b_hh, outs, workspace, grads, reverse):
    steps, batch, inp = x.shape
    hidden = w_hh.shape[1]
    plan = _plan(cell, reverse, steps, batch, inp, hidden)
    prim = plan.backward()
    A = _lib.api()
    wl, wi = _user_weights(cell, w_ih, w_hh, hidden)
    dwl_md, dwi_md = prim.md(A.ARG_DIFF_WEIGHTS_LAYER), prim.md(A.ARG_DIFF_WEIGHTS_ITER)
    # zeroed: the primitive adds its gradient to what these buffers hold
    dwl, dwi = np.zeros(dwl_md.nbytes, np.uint8), np.zeros(dwi_md.nbytes, np.uint8)
    db = np.zeros((_BIAS_GATES[cell], hidden), np.float32)
    dx = np.empty((steps, batch, inp), np.float32)
    d_states = tuple(np.empty((batch, hidden), np.float32) for _ in states)
    seq, state = (steps, batch, hidden), (batch, hidden)
    args = {A.ARG_SRC_LAYER: _f32(x), A.ARG_SRC_ITER: _f32(states[0]),
            A.ARG_WEIGHTS_LAYER: _convert(plan.wl_user, wl, prim.md(A.ARG_WEIGHTS_LAYER)),
            A.ARG_WEIGHTS_ITER: _convert(plan.wi_user, wi, prim.md(A.ARG_WEIGHTS_ITER)),
            A.ARG_BIAS: _bias(cell, b_ih, b_hh, hidden),
            A.ARG_DST_LAYER: _f32(outs[0]), A.ARG_DST_ITER: _f32(outs[1]),
            A.ARG_WORKSPACE: workspace,
            A.ARG_DIFF_DST_LAYER: _zeros_if_none(grads[0], seq),
            A.ARG_DIFF_DST_ITER: _zeros_if_none(grads[1], state),
            A.ARG_DIFF_SRC_LAYER: dx, A.ARG_DIFF_SRC_ITER: d_states[0],
            A.ARG_DIFF_WEIGHTS_LAYER: dwl, A.ARG_DIFF_WEIGHTS_ITER: dwi, A.ARG_DIFF_BIAS: db}
    if cell == "lstm":
        args[A.ARG_SRC_ITER_C] = _f32(states[1])
        args[A.ARG_DST_ITER_C] = _f32(outs[2])
        args[A.ARG_DIFF_DST_ITER_C] = _zeros_if_none(grads[2], state)
        args[A.ARG_DIFF_SRC_ITER_C] = d_states[1]
    prim.execute(args)
    g = _GATES[cell]
    dw_ih = _from_primitive(dwl_md, dwl, plan.wl_user, (g * hidden, inp))
    dw_hh = _from_primitive(dwi_md, dwi, plan.wi_user, (g * hidden, hidden))
    if cell == "gru":
        dw_ih, dw_hh = _gru_gates(dw_ih, hidden), _gru_gates(dw_hh, hidden)
    return (dx,) + d_states + (dw_ih, dw_hh), db


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False,
                 training=True) -> tuple:
    """``(hs (T, N, H), h_n, c_n, workspace)``; the uint8 ``workspace`` (empty unless
    ``training``) is what :func:`lstm_backward` reads."""
    return _forward("lstm", x, (h0, c0), w_ih, w_hh, b_ih, b_hh, reverse, training)


def lstm_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, h_n, c_n, workspace, d_hs, d_hn, d_cn,
                  *, reverse=False) -> tuple:
    """``(dx, dh0, dc0, dw_ih, dw_hh, db)`` of :func:`lstm_forward` (``db`` is the gradient
    of ``b_ih`` and of ``b_hh``); output gradients may be None (zero)."""
    grads, db = _backward("lstm", x, (h0, c0), w_ih, w_hh, b_ih, b_hh, (hs, h_n, c_n),
                          workspace, (d_hs, d_hn, d_cn), reverse)
    return grads + (db.reshape(-1),)


def gru_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False,
                training=True) -> tuple:
    """``(hs (T, N, H), h_n, workspace)`` of PyTorch's GRU layer."""
    return _forward("gru", x, (h0,), w_ih, w_hh, b_ih, b_hh, reverse, training)


def gru_backward(x, h0, w_ih, w_hh, b_ih, b_hh, hs, h_n, workspace, d_hs, d_hn, *,
                 reverse=False) -> tuple:
    """``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)`` of :func:`gru_forward`."""
    grads, db = _backward("gru", x, (h0,), w_ih, w_hh, b_ih, b_hh, (hs, h_n), workspace,
                          (d_hs, d_hn), reverse)
    # oneDNN's bias blocks: (z, r, n of the input side, n of the hidden side); r and z are
    # shared sums, so b_ih and b_hh get the same gradient there
    d_r, d_z = db[1], db[0]
    return grads + (np.concatenate([d_r, d_z, db[2]]), np.concatenate([d_r, d_z, db[3]]))


__all__ = ["supports", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]
