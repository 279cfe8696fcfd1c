"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d`` (PyTorch's arguments,
defaults, initialization and printed form)."""

from __future__ import annotations

import math

from ...errors import ShapeError, shape_str
from ...tensor import Tensor
from .. import init
from .._utils import ntuple as _ntuple
from .._utils import positive_int
from ..functional import conv as F
from ..functional import pad as _pad
from ..module import Module
from ..parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, initialization and printing of the convolution layers."""

    _spatial = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, output_padding=0) -> None:
        super().__init__()
        name, n = type(self).__name__, self._spatial
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            positive_int(value, arg, name)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name)
        self.stride = _ntuple(stride, n, "stride", name)
        self.dilation = _ntuple(dilation, n, "dilation", name)
        self.output_padding = _ntuple(output_padding, n, "output_padding", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one "
                                 "of 'valid', 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding", name)
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        from ...creation import empty

        self.weight = Parameter(empty(*shape, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)),
        and bias ~ U(+-1/sqrt(fan_in)), with fan_in from the weight's dim 1 (for a transposed
        conv that is out_channels/groups, as in PyTorch)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def describe(self) -> str:
        return f"{type(self).__name__} {self.in_channels}->{self.out_channels}"

    def extra_repr(self) -> str:
        n = self._spatial
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, input) -> None:
        n = self._spatial
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        shape = tuple(input.shape)
        if len(shape) not in (n + 1, n + 2):
            raise ShapeError(f"{name}: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                             f"input, got input of shape {shape_str(shape)}")
        channels = shape[-n - 1]
        if channels != self.in_channels:
            raise ShapeError(f"{name}: expected input with {self.in_channels} channels "
                             f"(in_channels={self.in_channels}) at dim {len(shape) - n - 1}, "
                             f"got input of shape {shape_str(shape)}")

    def _padded(self, input: Tensor) -> tuple:
        """The input, explicitly padded for a non-zeros padding_mode, and the conv's padding."""
        if self.padding_mode == "zeros":
            return input, self.padding
        k, d = self.kernel_size, self.dilation
        if self.padding == "same":
            pairs = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2)
                     for kk, dd in zip(k, d)]
        elif self.padding == "valid":
            pairs = [(0, 0)] * self._spatial
        else:
            pairs = [(p, p) for p in self.padding]
        widths = [w for pair in reversed(pairs) for w in pair]  # F.pad: last dim first
        return _pad(input, widths, mode=self.padding_mode), 0


class Conv2d(_ConvNd):
    """2-D convolution layer over (N, C_in, H, W) or unbatched (C_in, H, W) inputs.

    ``padding``: int, tuple, 'valid' or 'same'; ``padding_mode``: 'zeros', 'reflect',
    'replicate' or 'circular'.
    """

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        x, padding = self._padded(input)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C_in, L) or unbatched (C_in, L) inputs."""

    _spatial = 1

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        x, padding = self._padded(input)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution layer (weight shape (C_in, C_out/groups, kH, kW)).

    Only ``padding_mode='zeros'`` is supported, as in PyTorch; ``output_size`` in forward
    picks ``output_padding`` to reach that size.
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check_input(input)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, list(output_size)[-2:])
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding(self, input: Tensor, size: list) -> tuple:
        pads = []
        for d in range(2):
            smallest = ((input.shape[-2 + d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            extra = size[d] - smallest
            if not 0 <= extra < self.stride[d]:
                raise ShapeError(f"{self.describe()}: requested an output size of {size}, but "
                                 f"valid sizes range from {smallest} to "
                                 f"{smallest + self.stride[d] - 1} along {'HW'[d]} (for an "
                                 f"input of shape {shape_str(input.shape)})")
            pads.append(extra)
        return tuple(pads)


__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]
