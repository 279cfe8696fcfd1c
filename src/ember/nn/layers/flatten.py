"""``Flatten`` and ``Unflatten``: reshape layers for the boundary between conv and dense."""

from __future__ import annotations

import math

from ...errors import ShapeError, shape_str
from ...ops.movement_view import flatten, unflatten
from ...tensor import Tensor
from ..module import Module


def _check_tensor(input, layer: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer}: expected an ember.Tensor input, got {type(input).__name__}")


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one; by default (N, *) -> (N, prod(*))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        _check_tensor(input, "Flatten")
        nd = input.ndim
        for name, d in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -max(nd, 1) <= d < max(nd, 1):
                raise ShapeError(f"{name}={d} is out of range for an input of shape "
                                 f"{shape_str(input.shape)} ({nd} dimensions)")
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (a tuple of ints, one of which may be -1)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(unflattened_size, list):
            unflattened_size = tuple(unflattened_size)
        if not isinstance(unflattened_size, tuple) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        _check_tensor(input, "Unflatten")
        nd = input.ndim
        if not -nd <= self.dim < nd:
            raise ShapeError(f"dim={self.dim} is out of range for an input of shape "
                             f"{shape_str(input.shape)}")
        size = input.shape[self.dim]
        known = math.prod(s for s in self.unflattened_size if s != -1)
        fits = (size % known == 0) if -1 in self.unflattened_size else size == known
        if not fits:
            raise ShapeError(f"cannot unflatten dim {self.dim} of size {size} (input shape "
                             f"{shape_str(input.shape)}) into {self.unflattened_size}")
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
