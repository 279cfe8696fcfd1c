"""Convolutions, as ``torch.nn.functional``: ``conv1d``, ``conv2d``, ``conv_transpose2d``.

These check and normalize the user's arguments (ints or tuples, ``padding='same'/'valid'``,
unbatched inputs) and call the primitives of ``ember/ops/conv.py``; 1-D convolutions run as
2-D ones over a height of 1. Inputs and outputs are NCHW (NCL), weights
``(C_out, C_in/groups, *kernel)`` (``conv_transpose2d``: ``(C_in, C_out/groups, kH, kW)``).
"""

from __future__ import annotations

from ...autograd import grad_mode
from ...errors import DTypeError, ShapeError, shape_str
from ...ops import conv as _conv
from ...ops.elementwise import add
from ...ops.movement_view import reshape, squeeze, unsqueeze
from ...tensor import Tensor
from .._utils import ntuple as _tuple
from .._utils import spatial_input


def _check_tensor(x, name: str, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _check_args(fn: str, input, weight, bias, spatial: int) -> tuple:
    """Type, rank and dtype checks; returns (input, batched?)."""
    _check_tensor(input, "input", fn)
    _check_tensor(weight, "weight", fn)
    if bias is not None:
        _check_tensor(bias, "bias", fn)
    if weight._data.ndim != spatial + 2:
        raise ShapeError(f"{fn}: expected a {spatial + 2}-D weight, got weight of shape "
                         f"{shape_str(weight.shape)}")
    batched = spatial_input(input, spatial, fn)
    for other, what in ((weight, "weight"), (bias, "bias")):
        if other is not None and other.dtype != input.dtype:
            raise DTypeError(f"{fn}: input dtype ({input.dtype.name}) and {what} dtype "
                             f"({other.dtype.name}) should be the same")
    return batched


def _padding(padding, kernel: tuple, stride: tuple, dilation: tuple, fn: str) -> tuple:
    """``((before, after), ...)`` per spatial dim; 'same' pads the extra one at the end."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{fn}: invalid padding string {padding!r}, should be one of "
                         "'valid', 'same'")
    pads = _tuple(padding, n, "padding", fn)
    if min(pads) < 0:
        raise ValueError(f"{fn}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)


def _geometry(fn: str, weight, stride, padding, dilation, groups, spatial: int) -> dict:
    stride = _tuple(stride, spatial, "stride", fn)
    dilation = _tuple(dilation, spatial, "dilation", fn)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{fn}: stride and dilation must be positive, got stride={stride}, "
                         f"dilation={dilation}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    pads = _padding(padding, tuple(weight.shape[2:]), stride, dilation, fn)
    if spatial == 1:  # run as 2-D over a height of 1
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    return {"stride": stride, "padding": pads, "dilation": dilation, "groups": groups}


def _check_channels(fn: str, x_shape: tuple, weight, groups: int, channels: int) -> None:
    w_shape = tuple(weight.shape)
    if x_shape[1] != channels:
        raise ShapeError(f"{fn}: given groups={groups}, weight of size {shape_str(w_shape)}, "
                         f"expected input{shape_str(x_shape)} to have {channels} channels, "
                         f"but got {x_shape[1]} channels instead")


def _convolve(fn: str, input, weight, bias, stride, padding, dilation, groups,
              spatial: int) -> Tensor:
    batched = _check_args(fn, input, weight, bias, spatial)
    geo = _geometry(fn, weight, stride, padding, dilation, groups, spatial)
    x = input if batched else unsqueeze(input, 0)
    _check_channels(fn, tuple(x.shape), weight, groups, weight.shape[1] * groups)
    w = weight
    if spatial == 1:
        x, w = unsqueeze(x, 2), unsqueeze(weight, 2)
    _conv.conv2d_output_shape(fn, tuple(x.shape), tuple(w.shape), **geo)  # clear errors first
    # keep the im2col columns for the weight's gradient only when there will be one
    cache = [] if grad_mode.enabled and weight._requires_grad else None
    out = _conv.conv2d(x, w, bias, cache=cache, **geo)
    if spatial == 1:
        out = squeeze(out, 2)
    return out if batched else squeeze(out, 0)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of a (N, C_in, H, W) or unbatched
    (C_in, H, W) input with a (C_out, C_in/groups, kH, kW) weight.

    ``padding``: int, (pad_h, pad_w), 'valid' (none) or 'same' (output size = input size;
    stride 1 only; an even kernel pads one more at the bottom/right, as PyTorch does).
    """
    return _convolve("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of a (N, C_in, L) or unbatched (C_in, L) input with a
    (C_out, C_in/groups, k) weight; arguments as :func:`conv2d`."""
    return _convolve("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of ``conv2d`` w.r.t. its input), with a
    (C_in, C_out/groups, kH, kW) weight.

    Output size: ``(H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1``.
    ``output_padding`` must be smaller than ``stride`` (PyTorch also allows values below
    ``dilation``; ember does not).
    """
    fn = "conv_transpose2d"
    batched = _check_args(fn, input, weight, bias, 2)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of 2 ints, got {padding!r}")
    geo = _geometry(fn, weight, stride, padding, dilation, groups, 2)
    out_pad = _tuple(output_padding, 2, "output_padding", fn)
    if any(not 0 <= op < s for op, s in zip(out_pad, geo["stride"])):
        raise ValueError(f"{fn}: output_padding {out_pad} must be non-negative and smaller "
                         f"than stride {geo['stride']}")
    x = input if batched else unsqueeze(input, 0)
    cin, cout_g, kh, kw = weight.shape
    if cin % groups:
        raise ShapeError(f"{fn}: weight of size {shape_str(weight.shape)} has {cin} input "
                         f"channels, not divisible by groups={groups}")
    _check_channels(fn, tuple(x.shape), weight, groups, cin)
    size = []
    for d, k in enumerate((kh, kw)):
        s = ((x.shape[2 + d] - 1) * geo["stride"][d] - sum(geo["padding"][d])
             + geo["dilation"][d] * (k - 1) + out_pad[d] + 1)
        if s < 1:
            raise ShapeError(f"{fn}: input {shape_str(input.shape)} with kernel {(kh, kw)}, "
                             f"stride {geo['stride']} and padding {padding!r} gives an output "
                             f"size {s} < 1 along {'HW'[d]}")
        size.append(s)
    out = _conv.conv2d_backward_input(x, weight, (x.shape[0], cout_g * groups, *size), **geo)
    if bias is not None:
        if tuple(bias.shape) != (cout_g * groups,):
            raise ShapeError(f"{fn}: bias of shape {shape_str(bias.shape)} does not match "
                             f"{cout_g * groups} output channels")
        out = add(out, reshape(bias, (-1, 1, 1)))
    return out if batched else squeeze(out, 0)


__all__ = ["conv1d", "conv2d", "conv_transpose2d"]
