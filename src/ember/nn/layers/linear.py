"""``Linear`` (the dense layer, ``y = x @ W.T + b``) and ``Identity``."""

from __future__ import annotations

import math

from ...creation import empty
from ...dtypes import get_default_dtype
from ...tensor import Tensor
from .. import init
from ..functional.attention import linear
from ..module import Module
from ..parameter import Parameter


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last dim of ``x``: (*, in_features) ->
    (*, out_features).

    ``weight`` is (out_features, in_features), initialized like PyTorch's: kaiming_uniform_
    with ``a=sqrt(5)``, i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)), and ``bias`` from
    the same range.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtype if dtype is not None else get_default_dtype()
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights with PyTorch's default initialization."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def describe(self) -> str:
        return f"Linear {self.in_features}->{self.out_features}"


__all__ = ["Identity", "Linear"]
