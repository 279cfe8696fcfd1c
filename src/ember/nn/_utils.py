"""Argument checks shared by the functional ops and the layers of ``ember.nn``."""

from __future__ import annotations

import operator

from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor


def ntuple(value, n: int, name: str, where: str) -> tuple:
    """An int or a sequence of ``n`` ints as an ``n``-tuple (``kernel_size=3`` -> ``(3, 3)``).

    ``where`` (the function or layer) and ``name`` (the argument) go into the ``ValueError``.
    """
    try:
        if isinstance(value, (tuple, list)):
            if len(value) != n:
                raise ValueError
            return tuple(operator.index(v) for v in value)
        return (operator.index(value),) * n
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {name} must be an int or a tuple of {n} ints, got "
                         f"{value!r}") from None


def positive_int(value, name: str, where: str) -> int:
    """``value`` if it is an int >= 1 (not a bool), else a ``ValueError`` naming ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return value


def spatial_input(input, spatial: int, where: str) -> bool:
    """Check a floating-point (N, C, *spatial) or unbatched (C, *spatial) input; returns
    whether it is batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    nd = input.ndim
    if nd not in (spatial + 1, spatial + 2):
        raise ShapeError(f"{where}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
                         f"(batched) input, got input of shape {shape_str(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{where}: expected a floating-point input, got {input.dtype.name}")
    return nd == spatial + 2
