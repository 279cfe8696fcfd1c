"""The two class-index loss primitives behind ``cross_entropy`` and ``nll_loss``.

Layout: ``input`` is (N, C, d1, ...) with classes on dim 1, ``target`` is (N, d1, ...) of
class indices (the public functions reshape the unbatched (C,) case to (1, C)).

``cross_entropy`` is fused: one forward computes log_softmax along dim 1 and picks the
target entries (no (N, C) one-hot, no separate nll node), and its vjp is the closed form

    d loss_i / d x_i = s_i * [(1 - eps) * w[t_i] * (softmax(x_i) - onehot(t_i))
                              + eps / C * (softmax(x_i) * sum(w) - w)]

with ``s_i`` the upstream gradient (divided by the total target weight for 'mean') and rows
whose target is ``ignore_index`` zeroed. The vjp is written with ember ops, so it can be
differentiated again and traced. ``tests/nn/test_losses.py`` checks it equals the composite
``nll_loss(log_softmax(x, 1), t)`` in value and gradient, with weights and ignore_index.
"""

from __future__ import annotations

import numpy as np

from ...creation import arange
from ...ops import elementwise as _ew
from ...ops.movement_view import reshape, unsqueeze
from ...ops.nn import _log_softmax_forward, softmax
from ...ops.reduce import sum as _sum
from ...ops.registry import Op, TensorSpec, apply
from ...tensor import Tensor


def _pick(logp: np.ndarray, t: np.ndarray, w: np.ndarray | None, ignore_index: int):
    """(log-probabilities of the targets, per-element target weights, valid mask)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0) if not valid.all() else t
    picked = np.take_along_axis(logp, np.expand_dims(safe, 1), axis=1)[:, 0]
    if w is None:
        wt = valid.astype(logp.dtype)
    else:
        wt = np.where(valid, w.astype(logp.dtype)[safe], 0).astype(logp.dtype, copy=False)
    return picked, wt, valid


def _reduce(loss: np.ndarray, wt: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype)
    return np.asarray(total / wt.sum(dtype=loss.dtype), dtype=loss.dtype)


def _class_shape(c: int, ndim: int) -> tuple:
    """Shape that broadcasts a length-C vector along dim 1 of an ndim-D input."""
    return (1, c) + (1,) * (ndim - 2)


def _nll_forward(logp, t, w=None, *, reduction, ignore_index):
    picked, wt, _ = _pick(logp, t, w, ignore_index)
    return _reduce(-picked * wt, wt, reduction)


def _ce_forward(x, t, w=None, *, reduction, ignore_index, label_smoothing):
    if label_smoothing == 0 and x.dtype in _FAST_DTYPES and x.size:
        # only the targets' log-probabilities are needed: x[t] - logsumexp(x), no (N, C)
        # log_softmax array (one pass and one full-size temporary less)
        valid = t != ignore_index
        safe = np.where(valid, t, 0) if not valid.all() else t
        top = x.max(axis=1, keepdims=True)
        e = np.subtract(x, top)
        np.exp(e, out=e)
        lse = np.log(e.sum(axis=1)) + top[:, 0]
        picked = np.take_along_axis(x, np.expand_dims(safe, 1), axis=1)[:, 0]
        if w is None:
            wt = valid.astype(x.dtype)
        else:
            wt = np.where(valid, w.astype(x.dtype)[safe], 0).astype(x.dtype, copy=False)
        return _reduce(((lse - picked) * wt).astype(x.dtype, copy=False), wt, reduction)
    logp = _log_softmax_forward(x, dim=1)
    picked, wt, valid = _pick(logp, t, w, ignore_index)
    loss = -picked * wt
    if label_smoothing > 0:
        c = x.shape[1]
        if w is None:
            smooth = -logp.sum(axis=1)
        else:
            smooth = -(logp * w.astype(logp.dtype).reshape(_class_shape(c, x.ndim))).sum(axis=1)
        smooth = np.where(valid, smooth, 0)
        loss = (1 - label_smoothing) * loss + (label_smoothing / c) * smooth
        loss = loss.astype(x.dtype, copy=False)
    return _reduce(loss, wt, reduction)


# ------------------------------------------------------------------------ vjps (ember ops)


def _target_weights(t: Tensor, w, valid: Tensor, dtype) -> Tensor:
    if w is None:
        return _ew.cast(valid, dtype)
    return _ew.where(valid, w[_ew.where(valid, t, 0)], 0)


def _one_hot(t: Tensor, c: int, ndim: int, dtype) -> Tensor:
    classes = reshape(arange(c), _class_shape(c, ndim))
    return _ew.cast(_ew.eq(unsqueeze(t, 1), classes), dtype)


def _scale(g: Tensor, wt: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return unsqueeze(g, 1)
    if reduction == "sum":
        return g
    return g / _sum(wt)


def _nll_vjp(ctx, g):
    x, t = ctx.inputs[0], ctx.inputs[1]
    w = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    a = ctx.attrs
    valid = t != a["ignore_index"]
    wt = _target_weights(t, w, valid, g.dtype)
    onehot = _one_hot(t, x.shape[1], len(x.shape), g.dtype)
    grad = -onehot * unsqueeze(wt, 1) * _scale(g, wt, a["reduction"])
    return (grad, None) + ((None,) if w is not None else ())


def _ce_vjp(ctx, g):
    x, t = ctx.inputs[0], ctx.inputs[1]
    w = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    a = ctx.attrs
    eps = a["label_smoothing"]
    c, nd = x.shape[1], x.ndim
    if eps == 0 and x.dtype.np in _FAST_DTYPES:
        valid = t != a["ignore_index"]
        wt = _target_weights(t, w, valid, x.dtype)
        reduction = a["reduction"]
        coef = wt * (g / _sum(wt) if reduction == "mean" else g)
        safe = _ew.where(valid, t, 0)
        return (apply(CE_GRAD, (x, safe, coef)), None) + ((None,) if w is not None else ())
    p = softmax(x, 1)
    valid = t != a["ignore_index"]
    wt = _target_weights(t, w, valid, x.dtype)
    grad = (p - _one_hot(t, c, nd, x.dtype)) * unsqueeze(wt, 1)
    if eps > 0:
        smooth = p * c - 1 if w is None else p * _sum(w) - reshape(w, _class_shape(c, nd))
        grad = grad * (1 - eps) + smooth * unsqueeze(_ew.cast(valid, x.dtype), 1) * (eps / c)
    grad = grad * _scale(g, wt, a["reduction"])
    return (grad, None) + ((None,) if w is not None else ())


def _infer(x: TensorSpec, t: TensorSpec, w: TensorSpec | None = None, *, reduction,
           **_) -> TensorSpec:
    shape = tuple(t.shape) if reduction == "none" else ()
    return TensorSpec(shape, x.dtype)


# ------------------------------------------------------------------------ fused gradient

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _ce_grad_forward(x, t, c):
    """``(softmax(x, 1) - onehot(t)) * c[:, None]``: one full-size array, written in place."""
    e = np.subtract(x, x.max(axis=1, keepdims=True))
    np.exp(e, out=e)
    coef = np.expand_dims(c.astype(e.dtype, copy=False), 1)
    e *= coef / e.sum(axis=1, keepdims=True)
    idx = np.expand_dims(t, 1)
    np.put_along_axis(e, idx, np.take_along_axis(e, idx, axis=1) - coef, axis=1)
    return e


def _ce_grad_vjp(ctx, gg):
    # value = (p - onehot) * c with p = softmax(x, 1): linear in c; in x it is c times
    # softmax, whose vjp is p * (q - sum(q * p)) for q = gg * c
    x, t, c = ctx.inputs
    need_x, _, need_c = ctx.needs_input_grad
    p = softmax(x, 1)
    gx = gc = None
    if need_x:
        q = gg * unsqueeze(c, 1)
        gx = p * (q - _sum(q * p, 1, keepdim=True))
    if need_c:
        gc = _sum(gg * (p - _one_hot(t, x.shape[1], x.ndim, x.dtype)), 1)
    return gx, None, gc


def _ce_grad_infer(x: TensorSpec, t: TensorSpec, c: TensorSpec) -> TensorSpec:
    return x


# The gradient of class-index cross_entropy without label smoothing, as one primitive: the
# composite (softmax, one-hot, subtract, two scalings) made five full-size temporaries.
# Inputs: logits (N, C, ...), in-range targets (N, ...), per-element coefficients (N, ...).
CE_GRAD = Op("cross_entropy_grad", _ce_grad_forward, _ce_grad_vjp, _ce_grad_infer)

NLL_LOSS = Op("nll_loss", _nll_forward, _nll_vjp, _infer, save=(1, 2))
CROSS_ENTROPY = Op("cross_entropy", _ce_forward, _ce_vjp, _infer)
