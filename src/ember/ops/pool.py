"""Pooling primitives: 2-D max and average pooling, each with its adjoint pair.

Max pooling is three primitives sharing one per-window argmax (``arg``: the kernel position
of each window's maximum, from ``ember/backend/pool.py``):

- ``max_pool2d(x)``                  vjp: ``max_pool2d_backward(g, arg)``
- ``max_pool2d_backward(g, arg)``    scatters ``g`` to the maxima;
  vjp: ``max_pool2d_gather(u, arg)``
- ``max_pool2d_gather(x, arg)``      reads the element at ``arg``; vjp: ``max_pool2d_backward``

The forward leaves ``arg`` in ``cache`` (1 byte per output element) when a backward or
``return_indices`` needs it; without it the vjp recomputes it from the saved input.

Average pooling is linear: ``avg_pool2d`` and ``avg_pool2d_backward`` are each other's vjp.
1-D pooling is 2-D pooling with a height of 1 (nn.functional does the reshaping).
"""

from __future__ import annotations

from ..backend import pool as kernels
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .registry import Op, TensorSpec, apply


def pool_output_shape(op: str, shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
                      dilation: tuple, ceil_mode: bool) -> tuple:
    """``(N, C, H_out, W_out)``, or a ShapeError naming ``op`` and the input shape."""
    if len(shape) != 4:
        raise ShapeError(f"{op}: expected a 4-D input (N, C, H, W), got {shape_str(shape)}")
    out = []
    for d in range(2):
        if min(kernel[d], stride[d], dilation[d]) < 1 or padding[d] < 0:
            raise ShapeError(f"{op}: kernel_size, stride and dilation must be positive and "
                             f"padding non-negative, got kernel_size={kernel}, stride={stride},"
                             f" padding={padding}, dilation={dilation}")
        if 2 * padding[d] > kernel[d]:
            raise ShapeError(f"{op}: pad should be at most half of effective kernel size, "
                             f"but got pad={padding[d]}, kernel_size={kernel[d]}")
        o = kernels.pool_output_size(shape[2 + d], kernel[d], stride[d], padding[d],
                                     dilation[d], ceil_mode)
        out.append(o)
    if min(out) < 1:
        raise ShapeError(f"{op}: input {shape_str(shape)} is too small for kernel_size={kernel}"
                         f" with padding={padding}, dilation={dilation}: the output size "
                         f"would be {out[0]}x{out[1]}")
    return (shape[0], shape[1], out[0], out[1])


def _float(op: str, a: TensorSpec) -> None:
    if not a.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating-point input, got {a.dtype.name}")


# ------------------------------------------------------------------------ max pooling


def _max_infer(x, *, kernel, stride, padding, dilation, ceil_mode, cache=None):
    _float("max_pool2d", x)
    return TensorSpec(pool_output_shape("max_pool2d", tuple(x.shape), kernel, stride, padding,
                                        dilation, ceil_mode), x.dtype)


def _max_forward(x, *, kernel, stride, padding, dilation, ceil_mode, cache=None):
    values, arg = kernels.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    if cache is not None:
        cache[:] = [arg]
    return values


def _window_attrs(attrs: dict) -> dict:
    return {k: attrs[k] for k in ("kernel", "stride", "padding", "dilation")}


def _max_vjp(ctx, g):
    x = ctx.inputs[0]
    a = ctx.attrs
    cache = a.get("cache")
    if cache:
        # kept (not popped): it is 1 byte per output and return_indices shares it. The same
        # array, wrapped: graph mode knows it as a side value of the forward's node
        arg = _make(cache[0])
    else:  # recomputed by an op, so that a traced backward recomputes it on every run
        arg = apply(MAX_POOL2D_ARGMAX, (x,), kernel=a["kernel"], stride=a["stride"],
                    padding=a["padding"], dilation=a["dilation"], ceil_mode=a["ceil_mode"])
    return (max_pool2d_backward(g, arg, tuple(x.shape), **_window_attrs(a)),)


def _argmax_infer(x, *, kernel, stride, padding, dilation, ceil_mode):
    from ..dtypes import int32, uint8

    shape = pool_output_shape("max_pool2d", tuple(x.shape), kernel, stride, padding,
                              dilation, ceil_mode)
    return TensorSpec(shape, uint8 if kernel[0] * kernel[1] <= 256 else int32)


# the per-window argmax alone (no gradient): the vjp's fallback when the forward kept none
MAX_POOL2D_ARGMAX = Op(
    "max_pool2d_argmax",
    lambda x, *, kernel, stride, padding, dilation, ceil_mode:
        kernels.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)[1],
    None, _argmax_infer, differentiable=False)


def _scatter_infer(g, arg, *, input_shape, kernel, stride, padding, dilation):
    _float("max_pool2d_backward", g)
    if tuple(g.shape) != tuple(arg.shape):
        raise ShapeError(f"max_pool2d_backward: gradient {shape_str(g.shape)} and indices "
                         f"{shape_str(arg.shape)} differ in shape")
    return TensorSpec(tuple(input_shape), g.dtype)


def _gather_infer(x, arg, *, kernel, stride, padding, dilation):
    _float("max_pool2d_gather", x)
    return TensorSpec(tuple(arg.shape), x.dtype)


def _scatter_vjp(ctx, u):
    a = dict(ctx.attrs)
    del a["input_shape"]
    return (apply(MAX_POOL2D_GATHER, (u, ctx.inputs[1]), **a), None)


MAX_POOL2D = Op("max_pool2d", _max_forward, _max_vjp, _max_infer)
MAX_POOL2D_BACKWARD = Op(
    "max_pool2d_backward",
    lambda g, arg, *, input_shape, kernel, stride, padding, dilation:
        kernels.max_pool2d_backward(g, arg, input_shape, kernel, stride, padding, dilation),
    _scatter_vjp, _scatter_infer, save=(1,))


def _gather_vjp(ctx, u):
    x, arg = ctx.inputs
    return (max_pool2d_backward(u, arg, tuple(x.shape), **ctx.attrs), None)


MAX_POOL2D_GATHER = Op(
    "max_pool2d_gather",
    lambda x, arg, *, kernel, stride, padding, dilation:
        kernels.max_pool2d_gather(x, arg, kernel, stride, padding, dilation),
    _gather_vjp, _gather_infer, save=(1,))


def max_pool2d(x: Tensor, *, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
               ceil_mode: bool, cache: list | None = None) -> Tensor:
    """The ``max_pool2d`` primitive on a 4-D input; ``cache=[]`` receives the argmax."""
    return apply(MAX_POOL2D, (x,), kernel=kernel, stride=stride, padding=padding,
                 dilation=dilation, ceil_mode=ceil_mode, cache=cache)


def max_pool2d_backward(g: Tensor, arg: Tensor, input_shape: tuple, *, kernel: tuple,
                        stride: tuple, padding: tuple, dilation: tuple) -> Tensor:
    """``g`` routed to the window positions ``arg`` of an input of ``input_shape``."""
    return apply(MAX_POOL2D_BACKWARD, (g, arg), input_shape=tuple(input_shape), kernel=kernel,
                 stride=stride, padding=padding, dilation=dilation)


def _flat_indices_infer(arg, *, input_shape, kernel, stride, padding, dilation):
    from ..dtypes import int64

    return TensorSpec(tuple(arg.shape), int64)


MAX_POOL2D_FLAT_INDICES = Op(
    "max_pool2d_flat_indices",
    lambda arg, *, input_shape, kernel, stride, padding, dilation:
        kernels.max_pool2d_indices(arg, input_shape, kernel, stride, padding, dilation),
    None, _flat_indices_infer, differentiable=False)


def max_pool2d_flat_indices(arg, input_shape: tuple, *, kernel, stride, padding,
                            dilation) -> Tensor:
    """PyTorch's ``return_indices`` (int64 flat index into each H*W plane) from the argmax
    (a Tensor, or the array the forward left in its cache). An op, so that graph mode
    recomputes it on every run."""
    if not isinstance(arg, Tensor):
        arg = _make(arg)  # the cached array itself: graph mode knows it as a side value
    return apply(MAX_POOL2D_FLAT_INDICES, (arg,), input_shape=tuple(input_shape),
                 kernel=kernel, stride=stride, padding=padding, dilation=dilation)


# ------------------------------------------------------------------------ average pooling


def _avg_infer(x, *, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _float("avg_pool2d", x)
    if divisor_override is not None and divisor_override == 0:
        raise ShapeError("avg_pool2d: divisor_override must be non-zero")
    return TensorSpec(pool_output_shape("avg_pool2d", tuple(x.shape), kernel, stride, padding,
                                        (1, 1), ceil_mode), x.dtype)


def _avg_backward_infer(g, *, input_shape, **attrs):
    _float("avg_pool2d_backward", g)
    return TensorSpec(tuple(input_shape), g.dtype)


def _avg_vjp(ctx, g):
    return (apply(AVG_POOL2D_BACKWARD, (g,), input_shape=tuple(ctx.inputs[0].shape),
                  **ctx.attrs),)


def _avg_backward_vjp(ctx, u):
    a = dict(ctx.attrs)
    del a["input_shape"]
    return (apply(AVG_POOL2D, (u,), **a),)


AVG_POOL2D = Op("avg_pool2d", lambda x, **a: kernels.avg_pool2d_forward(x, **a), _avg_vjp,
                _avg_infer, save=())
AVG_POOL2D_BACKWARD = Op("avg_pool2d_backward",
                         lambda g, *, input_shape, **a:
                             kernels.avg_pool2d_backward(g, input_shape, **a),
                         _avg_backward_vjp, _avg_backward_infer, save=())


def avg_pool2d(x: Tensor, *, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
               count_include_pad: bool, divisor_override: int | None) -> Tensor:
    """The ``avg_pool2d`` primitive on a 4-D input."""
    return apply(AVG_POOL2D, (x,), kernel=kernel, stride=stride, padding=padding,
                 ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                 divisor_override=divisor_override)


__all__ = ["max_pool2d", "max_pool2d_backward", "max_pool2d_flat_indices", "avg_pool2d",
           "pool_output_shape"]
