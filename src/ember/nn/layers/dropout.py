"""``Dropout`` and ``Dropout2d``: random zeroing in training mode, identity in eval mode."""

from __future__ import annotations

from ...tensor import Tensor
from ..functional.dropout import dropout, dropout2d
from ..module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

    def describe(self) -> str:
        return f"{type(self).__name__} p={self.p}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` during training, scaling the rest by
    ``1 / (1 - p)``; does nothing after ``.eval()``."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of a (N, C, H, W) input with probability ``p`` during training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)


__all__ = ["Dropout", "Dropout2d"]
