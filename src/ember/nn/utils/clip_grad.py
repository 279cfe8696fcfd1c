"""Gradient clipping: ``clip_grad_norm_`` (rescale all gradients together) and
``clip_grad_value_`` (clamp each element), as ``torch.nn.utils``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...autograd import no_grad
from ...ops.elementwise import clamp, isfinite
from ...ops.movement import stack
from ...ops.reduce import all as all_
from ...ops.reduce_stats import norm
from ...tensor import Tensor, _make

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters, fn: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{fn}: parameters must be a Tensor or an iterable of Tensors, got "
                        f"{type(parameters).__name__}") from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameters must be Tensors, but parameters[{i}] is "
                            f"{type(p).__name__}")
    return [p.grad for p in parameters if p.grad is not None]


def _norm_type(norm_type, fn: str) -> float:
    if isinstance(norm_type, str):
        if norm_type != "inf":
            raise ValueError(f"{fn}: norm_type must be a number or 'inf', got {norm_type!r}")
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)):
        raise TypeError(f"{fn}: norm_type must be a number or 'inf', got "
                        f"{type(norm_type).__name__}")
    return float(norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their joint norm (the
    ``norm_type``-norm of all gradient elements, as if concatenated) is at most ``max_norm``.

    Returns the joint norm before clipping, as a 0-d tensor. ``norm_type`` may be ``inf``
    (the largest absolute element). With ``error_if_nonfinite=True`` a nan/inf norm raises
    ``RuntimeError`` instead of scaling every gradient by it. Parameters without a gradient
    are skipped; with no gradients at all the result is ``tensor(0.)``.

    Example::

        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    """
    fn = "clip_grad_norm_"
    grads = _grads(parameters, fn)
    p = _norm_type(norm_type, fn)
    max_norm = float(max_norm)
    if not grads:
        return _make(np.array(0.0, dtype=np.float32))
    with no_grad():
        norms = [norm(g, p) for g in grads]
        total = norms[0] if len(norms) == 1 else norm(stack(norms), p)
        if error_if_nonfinite and not bool(all_(isfinite(total))):
            raise RuntimeError(
                f"{fn}: The total norm of order {p} for gradients from `parameters` is "
                f"non-finite ({total.item()}), so it cannot be clipped. To disable this error "
                "and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`")
        # the 1e-6 keeps a zero norm finite; clamping at 1 leaves small gradients untouched
        coef = clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element of ``parameters`` to ``[-clip_value, clip_value]`` in
    place."""
    fn = "clip_grad_value_"
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)):
        raise TypeError(f"{fn}: clip_value must be a number, got {type(clip_value).__name__}")
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters, fn):
            g.clamp_(-clip_value, clip_value)
