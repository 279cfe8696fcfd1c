"""Argument and input checks shared by the models."""

from __future__ import annotations

from ..errors import DTypeError, ShapeError, shape_str
from ..nn._utils import positive_int as _positive_int
from ..tensor import Tensor


def positive_int(model: str, name: str, value: object) -> int:
    """Return ``value`` if it is a positive int, else raise a ValueError naming the model."""
    return _positive_int(value, name, model)


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


def check_tokens(model: str, tokens: Tensor, max_len: int | None = None) -> None:
    """Raise unless ``tokens`` is an integer tensor of shape (N, T) (with T <= max_len)."""
    if not isinstance(tokens, Tensor):
        raise TypeError(f"{model}: expected a Tensor of token ids, got {type(tokens).__name__}")
    if tokens.dtype.np.kind not in "iu":  # embedding lookups need integer ids
        raise DTypeError(f"{model}: expected integer token ids, got dtype {tokens.dtype}")
    if tokens.ndim != 2:
        raise ShapeError(f"{model}: expected token ids of shape (N, T), got "
                         f"{shape_str(tokens.shape)}")
    if max_len is not None and tokens.shape[1] > max_len:
        raise ShapeError(f"{model}: sequence length {tokens.shape[1]} exceeds max_len "
                         f"{max_len} (the size of the positional embedding); got "
                         f"{shape_str(tokens.shape)}")
