"""2-D pooling kernels on NCHW NumPy arrays: max (with argmax) and average, forward and backward.

Each kernel loops over the ``kH*kW`` kernel positions (4 for a 2x2 pool), never over elements:
position ``(i, j)`` of every window is one strided slice of the (padded) input, so a step is
one vectorized op over the whole output. Max-pool records, per output element, which kernel
position held the maximum (``arg``, uint8 for kernels up to 255 positions): 1 byte per output
instead of PyTorch's 8-byte flat index, and the backward is ``kH*kW`` masked writes. The flat
indices PyTorch returns for ``return_indices=True`` are derived from ``arg`` on request.
The common 2x2 stride-2 max-pool forward has its own path (``_max_pool_2x2``: contiguous planes
and a comparison tree, 3x faster at the W2/W3 shapes) with the same results.

Windows follow PyTorch: ``padding`` (symmetric, per dim) pads with -inf (max) or 0 (avg);
with ``ceil_mode`` a last, partial window is kept when it starts inside the input or the left
padding. Ties pick the first maximum and NaN propagates, as in PyTorch.

With ``ember.set_backend("onednn")`` float32 cases run in ``ember/backends/onednn/pool.py``
(same ``arg`` contract; results NCHW-shaped, channels-last in memory); cases oneDNN does not
cover (``divisor_override``, ceil-mode averages counting padding past the input, windows
without a finite value) stay here.
"""

from __future__ import annotations

import numpy as np

from ..backends import use_onednn
from ..backends._errors import OneDNNUnimplemented

Pair = tuple


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                     ceil_mode: bool) -> int:
    """Output length along one dim, PyTorch's rule (ceil mode drops a window starting in the
    right padding)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _onednn(*arrays):
    """The oneDNN pool module when it is selected and every array is float32, else None."""
    if not use_onednn():
        return None
    for a in arrays:
        if a.dtype != np.float32 or a.size == 0:
            return None
    from ..backends.onednn import pool

    return pool


def _geometry(shape: tuple, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
              ceil_mode: bool):
    """Output size and the padded buffer size (right side grown for ceil-mode windows)."""
    out, full = [], []
    for d in range(2):
        size = shape[2 + d]
        o = pool_output_size(size, kernel[d], stride[d], padding[d], dilation[d], ceil_mode)
        need = (o - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1
        out.append(o)
        full.append(max(size + 2 * padding[d], need))
    return tuple(out), tuple(full)


def _padded(x: np.ndarray, padding: Pair, full: Pair, fill) -> np.ndarray:
    n, c, h, w = x.shape
    if full == (h, w) and padding == (0, 0):
        return x
    buf = np.full((n, c, full[0], full[1]), fill, dtype=x.dtype)
    buf[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return buf


def _position(buf: np.ndarray, i: int, j: int, out_hw: Pair, stride: Pair,
              dilation: Pair) -> np.ndarray:
    """Kernel position (i, j) of every window: a strided view of shape (N, C, Ho, Wo)."""
    r0, c0 = i * dilation[0], j * dilation[1]
    return buf[:, :, r0:r0 + stride[0] * (out_hw[0] - 1) + 1:stride[0],
               c0:c0 + stride[1] * (out_hw[1] - 1) + 1:stride[1]]


def _arg_dtype(kernel: Pair):
    return np.uint8 if kernel[0] * kernel[1] <= 256 else np.int32


def max_pool2d_forward(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                       dilation: Pair, ceil_mode: bool):
    """``(values, arg)``: window maxima (NCHW) and the kernel position of each (row-major)."""
    fast = _onednn(x)
    if fast is not None:
        try:
            return fast.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
        except OneDNNUnimplemented:
            pass
    out_hw, full = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode)
    buf = _padded(x, padding, full, -np.inf)
    if tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(dilation) == (1, 1):
        return _max_pool_2x2(buf, out_hw)
    best = np.array(_position(buf, 0, 0, out_hw, stride, dilation))
    arg = np.zeros(best.shape, dtype=_arg_dtype(kernel))
    for k in range(1, kernel[0] * kernel[1]):
        v = _position(buf, k // kernel[1], k % kernel[1], out_hw, stride, dilation)
        better = v > best
        better |= v != v  # NaN wins, as in PyTorch
        np.copyto(best, v, where=better)
        np.copyto(arg, k, where=better)
    return best, arg


def _max_pool_2x2(buf: np.ndarray, out_hw: Pair):
    """2x2 stride-2 max-pool of the (padded) NCHW ``buf``: the common case, 3-4x faster than
    the general loop (benchmarks/conv_kernels.py), with the same values and ``arg``.

    The windows tile the buffer, so one copy rearranges it into four contiguous planes (one per
    kernel position); every later op then runs on contiguous data instead of stride-2 views.
    The positions are reduced as a tree, (0 vs 1) and (2 vs 3), then the two winners; a later
    position wins only when strictly greater, which picks the first maximum in row-major order
    exactly as the sequential loop does. NaN (rare: checked once on the result) wins whenever
    it is the later one, so the tree also agrees with the loop on which NaN it reports.
    """
    n, c = buf.shape[:2]
    ho, wo = out_hw
    tiles = buf[:, :, :2 * ho, :2 * wo].reshape(n, c, ho, 2, wo, 2)
    planes = np.ascontiguousarray(tiles.transpose(3, 5, 0, 1, 2, 4))  # (2, 2, N, C, Ho, Wo)
    v0, v1, v2, v3 = planes[0, 0], planes[0, 1], planes[1, 0], planes[1, 1]
    top, bottom = np.maximum(v0, v1), np.maximum(v2, v3)  # np.maximum propagates NaN
    right_top, right_bottom = np.greater(v1, v0), np.greater(v3, v2)
    lower = np.greater(bottom, top)
    best = np.maximum(top, bottom)
    if buf.dtype.kind == "f" and np.isnan(best).any():
        right_top |= v1 != v1
        right_bottom |= v3 != v3
        lower |= bottom != bottom
    arg = right_bottom.view(np.uint8)  # bool -> 0/1 without a copy, then 2/3
    arg += 2
    np.copyto(arg, right_top.view(np.uint8), where=~lower)
    return best, arg


def max_pool2d_indices(arg: np.ndarray, input_shape: tuple, kernel: Pair, stride: Pair,
                       padding: Pair, dilation: Pair) -> np.ndarray:
    """PyTorch's ``return_indices``: int64 flat index into each input plane (H*W)."""
    ho, wo = arg.shape[2:]
    a = arg.astype(np.int64)
    rows = (np.arange(ho) * stride[0] - padding[0])[:, None] + (a // kernel[1]) * dilation[0]
    cols = (np.arange(wo) * stride[1] - padding[1]) + (a % kernel[1]) * dilation[1]
    return rows * input_shape[3] + cols


def _scatter(values_at, input_shape: tuple, dtype, kernel: Pair, stride: Pair,
             padding: Pair, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """Sum ``values_at(k)`` (an (N, C, Ho, Wo) array per kernel position k) into the input
    positions the windows read; returns the NCHW gradient of the unpadded input."""
    n, c, h, w = input_shape
    full = tuple(max(size + 2 * padding[d],
                     (out_hw[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1)
                 for d, size in enumerate((h, w)))
    buf = np.zeros((n, c, full[0], full[1]), dtype=dtype)
    # windows that do not overlap write disjoint elements: assign instead of add
    disjoint = all(stride[d] >= dilation[d] * (kernel[d] - 1) + 1 for d in range(2))
    for k in range(kernel[0] * kernel[1]):
        view = _position(buf, k // kernel[1], k % kernel[1], out_hw, stride, dilation)
        if disjoint:
            values_at(k, view)
        else:
            view += values_at(k, None)
    if full == (h, w):
        return buf
    return np.ascontiguousarray(buf[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w])


def max_pool2d_backward(grad: np.ndarray, arg: np.ndarray, input_shape: tuple, kernel: Pair,
                        stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
    """Gradient of max-pool w.r.t. its input: ``grad`` routed to each window's maximum."""
    fast = _onednn(grad)
    if fast is not None and arg.dtype == _arg_dtype(kernel):
        try:
            return fast.max_pool2d_backward(grad, arg, input_shape, kernel, stride, padding,
                                            dilation)
        except OneDNNUnimplemented:
            pass

    def values_at(k, out):
        return np.multiply(grad, arg == k, out=out)

    return _scatter(values_at, input_shape, grad.dtype, kernel, stride, padding, dilation,
                    grad.shape[2:])


def max_pool2d_gather(x: np.ndarray, arg: np.ndarray, kernel: Pair, stride: Pair,
                      padding: Pair, dilation: Pair) -> np.ndarray:
    """The element of each window of ``x`` at kernel position ``arg`` (the adjoint of
    ``max_pool2d_backward``; with ``arg`` from the forward, the max-pool values)."""
    out_hw = arg.shape[2:]
    need = tuple((out_hw[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1
                 for d in range(2))
    full = tuple(max(x.shape[2 + d] + 2 * padding[d], need[d]) for d in range(2))
    buf = _padded(x, padding, full, 0)
    out = np.zeros(arg.shape, dtype=x.dtype)
    for k in range(kernel[0] * kernel[1]):
        v = _position(buf, k // kernel[1], k % kernel[1], out_hw, stride, dilation)
        np.copyto(out, v, where=arg == k)
    return out


def avg_pool2d_divisor(input_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, padding: Pair,
                       ceil_mode: bool, count_include_pad: bool,
                       divisor_override: int | None) -> np.ndarray | int:
    """What each window's sum is divided by: an int, or an (Ho, Wo) array where windows
    differ (padding excluded from the count, or ceil-mode windows past the padded input)."""
    if divisor_override:
        return int(divisor_override)
    sizes = []
    for d in range(2):
        start = np.arange(out_hw[d]) * stride[d] - padding[d]
        end = np.minimum(start + kernel[d], input_hw[d] + padding[d])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, input_hw[d])
        sizes.append(end - start)
    div = sizes[0][:, None] * sizes[1][None, :]
    if (div == kernel[0] * kernel[1]).all():
        return kernel[0] * kernel[1]
    return div


def avg_pool2d_forward(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                       ceil_mode: bool, count_include_pad: bool,
                       divisor_override: int | None) -> np.ndarray:
    """Window means (NCHW); see ``avg_pool2d_divisor`` for the divisor."""
    fast = _onednn(x)
    if fast is not None:
        try:
            return fast.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode,
                                           count_include_pad, divisor_override)
        except OneDNNUnimplemented:
            pass
    out_hw, full = _geometry(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    buf = _padded(x, padding, full, 0)
    acc = np.array(_position(buf, 0, 0, out_hw, stride, (1, 1)))
    for k in range(1, kernel[0] * kernel[1]):
        acc += _position(buf, k // kernel[1], k % kernel[1], out_hw, stride, (1, 1))
    div = avg_pool2d_divisor(x.shape[2:], out_hw, kernel, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    acc /= np.asarray(div, dtype=acc.dtype)
    return acc


def avg_pool2d_backward(grad: np.ndarray, input_shape: tuple, kernel: Pair, stride: Pair,
                        padding: Pair, ceil_mode: bool, count_include_pad: bool,
                        divisor_override: int | None) -> np.ndarray:
    """Gradient of average pooling w.r.t. its input (also its adjoint)."""
    fast = _onednn(grad)
    if fast is not None:
        try:
            return fast.avg_pool2d_backward(grad, input_shape, kernel, stride, padding,
                                            ceil_mode, count_include_pad, divisor_override)
        except OneDNNUnimplemented:
            pass
    out_hw = grad.shape[2:]
    div = avg_pool2d_divisor(input_shape[2:], out_hw, kernel, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)
    share = grad / np.asarray(div, dtype=grad.dtype)

    def values_at(k, out):
        if out is None:
            return share
        np.copyto(out, share)

    return _scatter(values_at, input_shape, grad.dtype, kernel, stride, padding, (1, 1),
                    out_hw)
