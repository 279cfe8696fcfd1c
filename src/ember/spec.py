"""TensorSpec: a tensor's shape and dtype without its data.

What ``infer`` rules read and return, what graph mode traces with, and what an autograd node
keeps of an input whose values its backward rule does not need.
"""

from __future__ import annotations

from typing import NamedTuple

from .dtypes import DType
from .errors import shape_str


class TensorSpec(NamedTuple):
    """Shape and dtype of a tensor without its data (what ``infer`` reads and returns)."""

    shape: tuple
    dtype: DType

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __str__(self) -> str:
        return f"{self.dtype.name}{shape_str(self.shape)}"
