"""Loss functions of ``ember.nn.functional`` with PyTorch's signatures and ``reduction``.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``; the deprecated
``size_average``/``reduce`` pair is still understood, as in PyTorch. ``cross_entropy`` and
``nll_loss`` with class indices are fused primitives (``_nll.py``); the others are
composites of ember ops.
"""

from __future__ import annotations

import warnings

from ...errors import DTypeError, IndexingError, ShapeError, shape_str
from ...ops import elementwise as _ew
from ...ops.movement_view import reshape
from ...ops.nn import log_softmax
from ...ops.reduce import mean as _mean
from ...ops.reduce import sum as _sum
from ...ops.registry import apply, as_tensor_arg
from ...tensor import Tensor
from ._nll import CROSS_ENTROPY, NLL_LOSS, _class_shape

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction: str, size_average, reduce, op: str) -> str:
    """The reduction to use, translating PyTorch's deprecated ``size_average``/``reduce``."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{op}: size_average and reduce are deprecated, use reduction= instead",
                      UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _tensor(x, name: str, op: str) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor_arg(x, name, op)


def _float(x, name: str, op: str) -> Tensor:
    x = _tensor(x, name, op)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected '{name}' to be a floating-point tensor, got "
                         f"{x.dtype.name}")
    return x


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


# ------------------------------------------------------------------------ class indices


def _class_weight(weight, c: int, dtype, op: str):
    if weight is None:
        return None
    weight = _float(weight, "weight", op)
    if tuple(weight.shape) != (c,):
        raise ShapeError(f"{op}: weight must be a 1-D tensor of {c} class weights, got shape "
                         f"{shape_str(weight.shape)}")
    if weight._requires_grad:
        from ...autograd import grad_mode

        if grad_mode.enabled:
            raise NotImplementedError(f"{op}: the derivative with respect to 'weight' is not "
                                      "implemented (as in PyTorch); pass weight.detach()")
    return weight if weight.dtype is dtype else _ew.cast(weight, dtype)


def _class_target(input: Tensor, target: Tensor, ignore_index: int, op: str) -> int:
    """Check a class-index target against (N, C, d1, ...) input; returns C."""
    td = target._data
    if td.dtype.kind not in "iu":
        hint = (f"; for class probabilities pass a float target of the input's shape "
                f"{shape_str(input.shape)}" if op == "cross_entropy" else "")
        raise DTypeError(f"{op}: expected a target of integer class indices (int64), got "
                         f"{target.dtype.name}{hint}")
    shape = input._data.shape
    want = (shape[0],) + shape[2:]
    if td.shape != want:
        raise ShapeError(f"{op}: expected target of shape {shape_str(want)} for input of shape "
                         f"{shape_str(shape)} (N, C, d1, ...), got target of shape "
                         f"{shape_str(td.shape)}")
    c = shape[1]
    if td.size:
        lo, hi = int(td.min()), int(td.max())
        if lo < 0 or hi >= c:  # rare: only then look for the first bad value
            valid = td != ignore_index
            bad = td[valid & ((td < 0) | (td >= c))]
            if bad.size:
                raise IndexingError(f"{op}: target value {int(bad.flat[0])} is out of range "
                                    f"for {c} classes (expected 0 <= target < {c}, or "
                                    f"ignore_index={ignore_index})")
    return c


def _unbatched(input: Tensor, target: Tensor, op: str):
    """(C,) input with a 0-d target becomes (1, C) and (1,), as PyTorch allows."""
    if input._data.ndim == 1:
        if target._data.ndim != 0:
            raise ShapeError(f"{op}: for an unbatched input of shape {shape_str(input.shape)} "
                             f"the target must be a 0-d class index, got shape "
                             f"{shape_str(target.shape)}")
        input = reshape(input, (1,) + input._data.shape)
        target = reshape(target, (1,) + target._data.shape)
        return input, target, True
    if input._data.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    return input, target, False


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities ``input``.

    ``input`` is (N, C), (N, C, d1, ...) or unbatched (C,); ``target`` holds class indices
    of shape (N,), (N, d1, ...) or (); entries equal to ``ignore_index`` contribute nothing.
    ``'mean'`` divides by the summed ``weight`` of the non-ignored targets.
    """
    reduction = _reduction(reduction, size_average, reduce, "nll_loss")
    x = _float(input, "input", "nll_loss")
    t = _tensor(target, "target", "nll_loss")
    x, t, squeezed = _unbatched(x, t, "nll_loss")
    c = _class_target(x, t, ignore_index, "nll_loss")
    w = _class_weight(weight, c, x.dtype, "nll_loss")
    inputs = (x, t) if w is None else (x, t, w)
    out = apply(NLL_LOSS, inputs, reduction=reduction, ignore_index=int(ignore_index))
    return reshape(out, ()) if squeezed and reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between the logits ``input`` and ``target``.

    ``target`` is either class indices (integer, shaped like ``input`` without dim 1), or
    class probabilities (float, the shape of ``input``). ``input`` is (N, C), (N, C, d1, ...)
    or unbatched (C,). ``label_smoothing`` mixes the target with the uniform distribution.
    With class indices, ``'mean'`` divides by the summed ``weight`` of the non-ignored
    targets, as in PyTorch.
    """
    reduction = _reduction(reduction, size_average, reduce, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    x = _float(input, "input", "cross_entropy")
    t = _tensor(target, "target", "cross_entropy")
    if t.dtype.is_floating_point:
        return _cross_entropy_probabilities(x, t, weight, reduction, label_smoothing)
    x, t, squeezed = _unbatched(x, t, "cross_entropy")
    c = _class_target(x, t, ignore_index, "cross_entropy")
    w = _class_weight(weight, c, x.dtype, "cross_entropy")
    inputs = (x, t) if w is None else (x, t, w)
    out = apply(CROSS_ENTROPY, inputs, reduction=reduction, ignore_index=int(ignore_index),
                label_smoothing=float(label_smoothing))
    return reshape(out, ()) if squeezed and reduction == "none" else out


def _cross_entropy_probabilities(x: Tensor, t: Tensor, weight, reduction: str,
                                 label_smoothing: float) -> Tensor:
    if tuple(t.shape) != tuple(x.shape):
        raise ShapeError(f"cross_entropy: a target of class probabilities must have the "
                         f"input's shape {shape_str(x.shape)}, got {shape_str(t.shape)} (for "
                         "class indices pass an integer target)")
    if t.dtype is not x.dtype:
        t = _ew.cast(t, x.dtype)
    if x._data.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    cdim = 0 if x._data.ndim == 1 else 1
    c = x.shape[cdim]
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / c
    logp = log_softmax(x, cdim)
    w = _class_weight(weight, c, x.dtype, "cross_entropy")
    if w is not None and cdim == 1:
        logp = logp * reshape(w, _class_shape(c, x._data.ndim))
    elif w is not None:
        logp = logp * w
    loss = -_sum(logp * t, cdim)
    if reduction == "mean":
        return _sum(loss) / (x._data.size // c if x._data.size else float("nan"))
    return _apply_reduction(loss, reduction)


# ------------------------------------------------------------------------ regression


def _pair(input, target, op: str) -> tuple:
    x = _float(input, "input", op)
    t = _tensor(target, "target", op)
    if t.dtype is not x.dtype:
        t = _ew.cast(t, x.dtype)
    if tuple(t.shape) != tuple(x.shape):
        # PyTorch broadcasts here with this warning; a (N, 1) vs (N,) mix-up then silently
        # gives an (N, N) loss, so the warning matters
        warnings.warn(f"{op}: using a target size ({shape_str(t.shape)}) that is different "
                      f"to the input size ({shape_str(x.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)
    return x, t


def _weighted(loss: Tensor, weight, reduction: str, op: str,
              mean_over_weight: bool = True) -> Tensor:
    if weight is None:
        return _apply_reduction(loss, reduction)
    weight = _float(weight, "weight", op)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ShapeError(f"{op}: weight must have the shape of the input "
                         f"{shape_str(loss.shape)}, got {shape_str(weight.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return _sum(loss) / _sum(weight)
    return _apply_reduction(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Squared error ``(input - target) ** 2``; a ``weight`` of the input's shape scales each
    element ('mean' then divides by its sum)."""
    reduction = _reduction(reduction, size_average, reduce, "mse_loss")
    x, t = _pair(input, target, "mse_loss")
    return _weighted(_ew.square(x - t), weight, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Absolute error ``|input - target|`` (optionally weighted per element)."""
    reduction = _reduction(reduction, size_average, reduce, "l1_loss")
    x, t = _pair(input, target, "l1_loss")
    return _weighted(_ew.abs(x - t), weight, reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (d = input -
    target); ``beta=0`` is the L1 loss."""
    reduction = _reduction(reduction, size_average, reduce, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, t = _pair(input, target, "smooth_l1_loss")
    d = _ew.abs(x - t)
    if beta == 0:
        return _apply_reduction(d, reduction)
    loss = _ew.where(d < beta, _ew.square(d) * (0.5 / beta), d - 0.5 * beta)
    return _apply_reduction(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    With ``weight``, 'mean' is the mean of the weighted elements (mse/l1 divide by the
    weights' sum instead), as in PyTorch.
    """
    reduction = _reduction(reduction, None, None, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _pair(input, target, "huber_loss")
    d = _ew.abs(x - t)
    loss = _ew.where(d < delta, _ew.square(d) * 0.5, (d - 0.5 * delta) * delta)
    # PyTorch's weighted huber 'mean' averages over elements; mse/l1 divide by sum(weight)
    return _weighted(loss, weight, reduction, "huber_loss", mean_over_weight=False)


# ------------------------------------------------------------------------ binary and KL


def _same_shape(x: Tensor, t: Tensor, op: str) -> None:
    if tuple(t.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: target size {shape_str(t.shape)} must be the same as input "
                         f"size {shape_str(x.shape)}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-(t * log(p) + (1 - t) * log(1 - p))`` for probabilities ``input`` in [0, 1].

    Each log is clamped at -100, as in PyTorch, so p = 0 or 1 gives a finite loss.
    """
    reduction = _reduction(reduction, size_average, reduce, "binary_cross_entropy")
    p = _float(input, "input", "binary_cross_entropy")
    t = _float(target, "target", "binary_cross_entropy")
    _same_shape(p, t, "binary_cross_entropy")
    pd = p._data
    if pd.size and (pd.min() < 0 or pd.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and "
                         f"1, got values in [{float(pd.min()):g}, {float(pd.max()):g}]; for "
                         "logits use binary_cross_entropy_with_logits")
    log_p = _ew.clamp(_ew.log(p), min=-100)
    log_q = _ew.clamp(_ew.log(1 - p), min=-100)
    loss = -(t * log_p + (1 - t) * log_q)
    if weight is not None:
        loss = loss * _float(weight, "weight", "binary_cross_entropy")
    return _apply_reduction(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)``, computed stably from logits.

    ``pos_weight`` (broadcast along the last dim, one per class) scales the positive term.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, size_average, reduce, op)
    x = _float(input, "input", op)
    t = _float(target, "target", op)
    _same_shape(x, t, op)
    # log(1 + exp(-x)) = softplus(-x) never overflows; log(sigmoid(x)) = -softplus(-x)
    neg_log_sig = _ew.softplus(-x)
    if pos_weight is None:
        loss = (1 - t) * x + neg_log_sig
    else:
        pw = _float(pos_weight, "pos_weight", op)
        loss = (1 - t) * x + (1 + (pw - 1) * t) * neg_log_sig
    if weight is not None:
        loss = loss * _float(weight, "weight", op)
    return _apply_reduction(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence ``target * (log(target) - input)`` with ``input`` given as log-probs.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically correct
    KL); ``'mean'`` divides by the number of elements, as PyTorch does. ``log_target=True``
    takes ``target`` as log-probabilities too.
    """
    if reduction == "batchmean":
        _reduction("mean", size_average, reduce, "kl_div")
    else:
        reduction = _reduction(reduction, size_average, reduce, "kl_div")
    x = _float(input, "input", "kl_div")
    t = _float(target, "target", "kl_div")
    if log_target:
        loss = _ew.exp(t) * (t - x)
    else:
        # xlogy: 0 * log(0) is 0, so zero-probability targets contribute nothing
        safe = _ew.where(t > 0, t, 1.0)
        loss = _ew.where(t > 0, t * _ew.log(safe), 0.0) - t * x
    if reduction == "batchmean":
        n = x._data.shape[0] if x._data.ndim else 1
        return _sum(loss) / n
    return _apply_reduction(loss, reduction)


__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]
