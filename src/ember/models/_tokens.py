"""Input check shared by the sequence models."""

from __future__ import annotations

from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor


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
