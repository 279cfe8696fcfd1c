"""Pooling, as ``torch.nn.functional``: max/avg pooling in 1-D and 2-D, adaptive average.

Arguments are checked and normalized here; the primitives are in ``ember/ops/pool.py``. 1-D
pooling runs as 2-D pooling over a height of 1. Unbatched inputs (C, H, W) / (C, L) are
accepted, as in PyTorch. ``adaptive_avg_pool`` is a composite: averaging over PyTorch's
adaptive windows (``floor(i*H/out)`` to ``ceil((i+1)*H/out)``) is separable, so it is
``A_h @ x @ A_w^T`` with two constant averaging matrices, and its gradient comes from matmul.
"""

from __future__ import annotations

import operator

import numpy as np

from ...autograd import grad_mode
from ...errors import ShapeError
from ...ops import pool as _pool
from ...ops.linalg import matmul
from ...ops.movement_copy import clone
from ...ops.movement_view import squeeze, unsqueeze
from ...tensor import Tensor, _make
from .._utils import ntuple as _tuple
from .._utils import spatial_input


def _input(fn: str, input, spatial: int) -> tuple:
    """``(4-D input, batched?, 1-D?)`` after type, rank and dtype checks."""
    batched = spatial_input(input, spatial, fn)
    x = input if batched else unsqueeze(input, 0)
    if spatial == 1:
        x = unsqueeze(x, 2)
    return x, batched


def _output(out: Tensor, batched: bool, spatial: int) -> Tensor:
    if spatial == 1:
        out = squeeze(out, 2)
    return out if batched else squeeze(out, 0)


def _window(fn: str, kernel_size, stride, padding, dilation, spatial: int) -> dict:
    kernel = _tuple(kernel_size, spatial, "kernel_size", fn)
    stride = kernel if stride is None or stride == [] or stride == () else \
        _tuple(stride, spatial, "stride", fn)
    padding = _tuple(padding, spatial, "padding", fn)
    dilation = _tuple(dilation, spatial, "dilation", fn)
    if spatial == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


def _max_pool(fn: str, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices, spatial: int):
    x, batched = _input(fn, input, spatial)
    win = _window(fn, kernel_size, stride, padding, dilation, spatial)
    _pool.pool_output_shape(fn, tuple(x.shape), ceil_mode=bool(ceil_mode), **win)
    needs_arg = return_indices or (grad_mode.enabled and x._requires_grad)
    cache = [] if needs_arg else None
    out = _pool.max_pool2d(x, ceil_mode=bool(ceil_mode), cache=cache, **win)
    out = _output(out, batched, spatial)
    if not return_indices:
        return out
    indices = _pool.max_pool2d_flat_indices(cache[0], tuple(x.shape), **win)
    return out, _output(indices, batched, spatial)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over (kH, kW) windows of a (N, C, H, W) or (C, H, W) input.

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) pads with
    -inf; ``ceil_mode`` keeps a last partial window. With ``return_indices`` also returns the
    int64 flat index (into each H*W plane) of every maximum, as PyTorch does.
    """
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over windows of a (N, C, L) or (C, L) input; see :func:`max_pool2d`."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1)


def _avg_pool(fn: str, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, spatial: int) -> Tensor:
    x, batched = _input(fn, input, spatial)
    win = _window(fn, kernel_size, stride, padding, 1, spatial)
    del win["dilation"]
    if divisor_override is not None:
        if not isinstance(divisor_override, int) or divisor_override == 0:
            raise ValueError(f"{fn}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
    _pool.pool_output_shape(fn, tuple(x.shape), dilation=(1, 1), ceil_mode=bool(ceil_mode),
                            **win)
    out = _pool.avg_pool2d(x, ceil_mode=bool(ceil_mode),
                           count_include_pad=bool(count_include_pad),
                           divisor_override=divisor_override, **win)
    return _output(out, batched, spatial)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over (kH, kW) windows of a (N, C, H, W) or (C, H, W) input.

    ``count_include_pad``: whether the zero padding counts in the divisor;
    ``divisor_override``: divide every window's sum by this instead.
    """
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of a (N, C, L) or (C, L) input; see :func:`avg_pool2d`."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, 1)


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out)."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_sizes(fn: str, output_size, in_hw: tuple) -> tuple:
    n = len(in_hw)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != n:
            raise ValueError(f"{fn}: output_size must be an int or a tuple of {n} ints (None "
                             f"keeps the input size), got {output_size!r}")
        sizes = tuple(s if o is None else o for o, s in zip(output_size, in_hw))
    else:
        sizes = (output_size,) * n
    try:
        sizes = tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise ValueError(f"{fn}: output_size must be an int or a tuple of {n} ints, got "
                         f"{output_size!r}") from None
    if min(sizes) < 1:
        raise ValueError(f"{fn}: output_size must be positive, got {output_size!r}")
    if min(in_hw) < 1:
        raise ShapeError(f"{fn}: input spatial size {in_hw} must be non-empty")
    return sizes


def _adaptive_avg(fn: str, input, output_size, spatial: int) -> Tensor:
    x, batched = _input(fn, input, spatial)
    in_hw = tuple(x.shape[2:])
    sizes = _adaptive_sizes(fn, output_size, in_hw[2 - spatial:])
    if spatial == 1:
        sizes = (1,) + sizes
    dtype = x._data.dtype
    out = x
    if sizes[1] != in_hw[1]:
        out = matmul(out, _make(np.ascontiguousarray(
            _averaging_matrix(in_hw[1], sizes[1], dtype).T)))
    if sizes[0] != in_hw[0]:
        out = matmul(_make(_averaging_matrix(in_hw[0], sizes[0], dtype)), out)
    if out is x:  # output size == input size: a copy, as PyTorch returns
        out = clone(x)
    return _output(out, batched, spatial)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size (int, or (H_out, W_out) with None keeping the
    input's size), with PyTorch's windows."""
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of a (N, C, L) or (C, L) input to a fixed output length."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]
