"""oneDNN 2-D pooling: max (with argmax) and average, forward and backward, channels-last.

Layouts follow ``conv.py``: activations NHWC in memory with PyTorch's logical NCHW shape.

Max pooling keeps ember's contract (``ember/backend/pool.py``): the forward returns
``(values, arg)`` where ``arg`` holds, per output element, the row-major kernel position of
the window's maximum (uint8 up to 256 positions, else int32). oneDNN's training workspace for
max pooling is exactly that array (same dtype rule, laid out like the output), so the forward
hands its workspace out as ``arg`` (NCHW-shaped, NHWC in memory) and the backward feeds
``arg`` back as the workspace: the NumPy ``max_pool2d_gather`` / ``max_pool2d_indices`` keep
working on it, and an ``arg`` made by the NumPy kernel can drive the oneDNN backward.
``tests/backends`` checks the workspace against the NumPy argmax, ties included.
Unlike PyTorch, oneDNN skips NaN inside a window (the max of the other elements wins); a
window with no finite value comes out as -FLT_MAX, which the forward detects and hands to
NumPy, so only windows mixing NaN and numbers differ from the NumPy backend.

Windows: symmetric ``padding`` per dim; ``ceil_mode`` becomes extra right padding.
Average pooling with ``count_include_pad`` and a ceil-mode window hanging past the padded
input, and any ``divisor_override``, differ from oneDNN's divisor: those raise
``OneDNNUnimplemented`` (NumPy runs them).
"""

from __future__ import annotations

import numpy as np

from .._errors import OneDNNUnimplemented
from . import _lib
from .conv import nhwc


def pool_output_size(size, kernel, stride, pad, dilation, ceil_mode) -> int:
    """Output length along one dim (PyTorch's rule, as ``ember/backend/pool.py``)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class _Geometry:
    def __init__(self, x_shape, kernel, stride, padding, dilation, ceil_mode, alg):
        n, c, h, w = (int(v) for v in x_shape)
        out, pad_r = [], []
        for d, size in enumerate((h, w)):
            o = pool_output_size(size, kernel[d], stride[d], padding[d], dilation[d], ceil_mode)
            need = (o - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1
            out.append(o)
            # ceil mode: the right padding that makes the last window fit; floor mode: the
            # user's padding (oneDNN's size check floors like PyTorch, stride leftovers fit)
            pad_r.append(max(need - size - padding[d], padding[d]))
        self.x_shape, self.out_shape = (n, c, h, w), (n, c, out[0], out[1])
        self.pad_l, self.pad_r = tuple(padding), tuple(pad_r)
        self.overhang = any(pad_r[d] > padding[d] for d in range(2))
        self.kernel, self.strides = tuple(kernel), tuple(stride)
        self.dilates = tuple(d - 1 for d in dilation)
        self.alg = alg
        f32 = np.float32
        self.src = _lib.memory_desc(self.x_shape, f32, _lib.TAG_NHWC)
        self.dst = _lib.memory_desc(self.out_shape, f32, _lib.TAG_NHWC)
        self.key = (self.x_shape, self.kernel, self.strides, self.pad_l, self.pad_r,
                    self.dilates, alg, "f32", "nhwc")

    def detail(self, what):
        return (f"{what} input {self.x_shape} kernel {self.kernel} stride {self.strides} "
                f"pad {self.pad_l}/{self.pad_r} dilation-1 {self.dilates}")


def _geometry(x_shape, kernel, stride, padding, dilation, ceil_mode, alg) -> _Geometry:
    key = ("pool_geometry", tuple(x_shape), tuple(kernel), tuple(stride), tuple(padding),
           tuple(dilation), bool(ceil_mode), alg)
    return _lib.cached(key, lambda: _Geometry(x_shape, kernel, stride, padding, dilation,
                                              ceil_mode, alg))


def _forward_prim(g: _Geometry) -> _lib.Primitive:
    def build():
        pd = _lib.api().pooling_forward_pd(
            _lib.lib(), _lib.engine(), _lib.PROP_FORWARD_TRAINING, g.alg, g.src, g.dst,
            g.strides, g.kernel, g.dilates, g.pad_l, g.pad_r, detail=g.detail("pool forward"))
        return _lib.Primitive(pd, "pooling forward")

    return _lib.cached(("pool_forward",) + g.key, build)


def _backward_prim(g: _Geometry) -> _lib.Primitive:
    def build():
        hint = _forward_prim(g)
        pd = _lib.api().pooling_backward_pd(
            _lib.lib(), _lib.engine(), g.alg, g.src, g.dst, g.strides, g.kernel, g.dilates,
            g.pad_l, g.pad_r, hint.pd, detail=g.detail("pool backward"))
        return _lib.Primitive(pd, "pooling backward")

    return _lib.cached(("pool_backward",) + g.key, build)


_LOWEST = np.finfo(np.float32).min


def _arg_dtype(kernel) -> type:
    return np.uint8 if kernel[0] * kernel[1] <= 256 else np.int32


def max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode):
    """``(values, arg)`` as the NumPy kernel: window maxima and each maximum's kernel position
    (both NCHW-shaped, NHWC in memory)."""
    g = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode, _lib.ALG_POOLING_MAX)
    prim = _forward_prim(g)
    n, c, ho, wo = g.out_shape
    out = np.empty((n, ho, wo, c), dtype=np.float32)
    ws = np.empty((n, ho, wo, c), dtype=_arg_dtype(kernel))
    if prim.md(_lib.ARG_WORKSPACE).nbytes != ws.nbytes:  # layout not the one documented above
        raise OneDNNUnimplemented("pooling", 3, "unimplemented", "unexpected workspace layout")
    prim.execute({_lib.ARG_SRC: nhwc(x), _lib.ARG_DST: out, _lib.ARG_WORKSPACE: ws})
    if out.size and out.min() == _LOWEST:
        # a window of only -inf/NaN: oneDNN answers -FLT_MAX where PyTorch gives -inf/NaN
        raise OneDNNUnimplemented("pooling", 3, "unimplemented", "window without a finite max")
    return out.transpose(0, 3, 1, 2), ws.transpose(0, 3, 1, 2)


def max_pool2d_backward(grad, arg, input_shape, kernel, stride, padding,
                        dilation) -> np.ndarray:
    """``grad`` routed to each window's maximum (``arg`` as from ``max_pool2d_forward``)."""
    # the geometry depends on ceil_mode only through the output size, which grad has
    ceil_mode = any(
        grad.shape[2 + d] != pool_output_size(input_shape[2 + d], kernel[d], stride[d],
                                              padding[d], dilation[d], False) for d in range(2))
    g = _geometry(input_shape, kernel, stride, padding, dilation, ceil_mode,
                  _lib.ALG_POOLING_MAX)
    prim = _backward_prim(g)
    n, c, h, w = g.x_shape
    out = np.empty((n, h, w, c), dtype=np.float32)
    ws = nhwc(arg.astype(_arg_dtype(kernel), copy=False))
    prim.execute({_lib.ARG_DIFF_DST: nhwc(grad), _lib.ARG_WORKSPACE: ws, _lib.ARG_DIFF_SRC: out})
    return out.transpose(0, 3, 1, 2)


def _avg_alg(g_shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if divisor_override:
        raise OneDNNUnimplemented("pooling", 3, "unimplemented", "divisor_override")
    if not count_include_pad:
        return _lib.ALG_POOLING_AVG_EXCLUDE_PADDING
    g = _geometry(g_shape, kernel, stride, padding, (1, 1), ceil_mode,
                  _lib.ALG_POOLING_AVG_INCLUDE_PADDING)
    if g.overhang:  # PyTorch counts the padding, but not the ceil-mode overhang past it
        raise OneDNNUnimplemented("pooling", 3, "unimplemented", "ceil-mode window overhang")
    return _lib.ALG_POOLING_AVG_INCLUDE_PADDING


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad,
                       divisor_override) -> np.ndarray:
    """Window means (NCHW-shaped, NHWC in memory)."""
    alg = _avg_alg(x.shape, kernel, stride, padding, ceil_mode, count_include_pad,
                   divisor_override)
    g = _geometry(x.shape, kernel, stride, padding, (1, 1), ceil_mode, alg)
    prim = _forward_prim(g)
    n, c, ho, wo = g.out_shape
    out = np.empty((n, ho, wo, c), dtype=np.float32)
    prim.execute({_lib.ARG_SRC: nhwc(x), _lib.ARG_DST: out})
    return out.transpose(0, 3, 1, 2)


def avg_pool2d_backward(grad, input_shape, kernel, stride, padding, ceil_mode,
                        count_include_pad, divisor_override) -> np.ndarray:
    """Gradient of average pooling w.r.t. its input (NCHW-shaped, NHWC in memory)."""
    alg = _avg_alg(input_shape, kernel, stride, padding, ceil_mode, count_include_pad,
                   divisor_override)
    g = _geometry(input_shape, kernel, stride, padding, (1, 1), ceil_mode, alg)
    prim = _backward_prim(g)
    n, c, h, w = g.x_shape
    out = np.empty((n, h, w, c), dtype=np.float32)
    prim.execute({_lib.ARG_DIFF_DST: nhwc(grad), _lib.ARG_DIFF_SRC: out})
    return out.transpose(0, 3, 1, 2)
