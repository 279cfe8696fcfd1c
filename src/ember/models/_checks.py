"""Argument and input checks shared by the model constructors."""

from __future__ import annotations

from ..errors import ShapeError, shape_str
from ..tensor import Tensor


def positive_int(model: str, name: str, value: object) -> int:
    """Return ``value`` if it is a positive int, else raise a ValueError naming the model."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{model}: {name} must be a positive int, got {value!r}")
    return value


def check_image_input(model: str, x: Tensor, channels: int, size: int | None) -> None:
    """Raise a ShapeError unless ``x`` is (N, channels, size, size) (any H, W if size is None)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{model}: expected a Tensor, got {type(x).__name__}")
    ok = x.ndim == 4 and x.shape[1] == channels
    if ok and size is not None:
        ok = x.shape[2] == size and x.shape[3] == size
    if not ok:
        hw = f"{size}, {size}" if size is not None else "H, W"
        raise ShapeError(f"{model}: expected input of shape (N, {channels}, {hw}), got "
                         f"{shape_str(x.shape)}")
