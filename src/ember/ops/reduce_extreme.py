"""Extremes: amax/amin, max/min (full, with dim, or of two tensors), argmax/argmin, aminmax.

Two gradient rules, as in PyTorch: ``amax``/``amin`` and the full ``max()``/``min()`` share the
gradient equally among tied elements; ``max(dim)``/``min(dim)`` send it to the one index they
return. Reductions without an identity element refuse empty dimensions with PyTorch's message.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..dtypes import int64
from ..errors import IndexingError, shape_str
from ..tensor import Tensor
from .broadcast import broadcast_to
from .elementwise import cast, eq, maximum, minimum
from .reduce import (
    _arg,
    _reduce_infer,
    expand_reduced,
    reduce_dims,
    reduced_shape,
    require_nonempty,
    reshape_reduced,
    single_dim,
    sum,
)
from .registry import Op, TensorSpec, apply, tensor_method

# ------------------------------------------------------------------------ amax / amin


def _extreme_vjp(ctx, g):
    x = ctx.inputs[0]
    dims, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
    shape = x.shape
    hit = cast(eq(x, expand_reduced(ctx.out, shape, dims, keepdim)), g.dtype)
    count = sum(hit, dims, keepdim=True)
    if not keepdim:
        g = reshape_reduced(g, reduced_shape(shape, dims, True))
    return (broadcast_to(g / count, shape) * hit,)


def _extreme_infer(name: str):
    def infer(a: TensorSpec, *, dim, keepdim) -> TensorSpec:
        require_nonempty(tuple(a.shape), dim, name)
        return _reduce_infer(a, dim=dim, keepdim=keepdim)

    return infer


AMAX = Op("amax", lambda a, *, dim, keepdim: a.max(axis=dim, keepdims=keepdim),
          _extreme_vjp, _extreme_infer("amax"), save_out=True)
AMIN = Op("amin", lambda a, *, dim, keepdim: a.min(axis=dim, keepdims=keepdim),
          _extreme_vjp, _extreme_infer("amin"), save_out=True)


def _extreme(op: Op, input, dim, keepdim: bool, name: str) -> Tensor:
    x = _arg(input, name)
    dims = reduce_dims(dim, x._data.ndim, name)
    if x._data.size == 0:
        require_nonempty(x._data.shape, dims, name)
    return apply(op, (x,), dim=dims, keepdim=keepdim)


@tensor_method("amax")
def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int or tuple; ``()`` = all). Ties share the gradient equally."""
    return _extreme(AMAX, input, dim, keepdim, "amax")


@tensor_method("amin")
def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int or tuple; ``()`` = all). Ties share the gradient equally."""
    return _extreme(AMIN, input, dim, keepdim, "amin")


# ------------------------------------------------------------------------ argmax / argmin


def _arg_extreme_infer(name: str):
    def infer(a: TensorSpec, *, dim, keepdim) -> TensorSpec:
        dims = None if dim is None or a.ndim == 0 else (dim,)
        require_nonempty(tuple(a.shape), dims, name)
        return TensorSpec(reduced_shape(tuple(a.shape), dims, keepdim), int64)

    return infer


# NumPy's argmax/argmin return the first extreme (and the first NaN), as PyTorch does
ARGMAX = Op("argmax", lambda a, *, dim, keepdim: a.argmax(axis=dim if a.ndim else None,
                                                          keepdims=keepdim),
            None, _arg_extreme_infer("argmax"), differentiable=False)
ARGMIN = Op("argmin", lambda a, *, dim, keepdim: a.argmin(axis=dim if a.ndim else None,
                                                          keepdims=keepdim),
            None, _arg_extreme_infer("argmin"), differentiable=False)


def _arg_extreme(op: Op, input, dim, keepdim: bool, name: str) -> Tensor:
    x = _arg(input, name)
    d = None if dim is None else single_dim(dim, x._data.ndim, name)
    if x._data.size == 0:
        require_nonempty(x._data.shape, None if d is None or x._data.ndim == 0 else (d,), name)
    return apply(op, (x,), dim=d, keepdim=keepdim)


@tensor_method("argmax")
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first maximum along ``dim``, or in the flattened tensor."""
    return _arg_extreme(ARGMAX, input, dim, keepdim, "argmax")


@tensor_method("argmin")
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first minimum along ``dim``, or in the flattened tensor."""
    return _arg_extreme(ARGMIN, input, dim, keepdim, "argmin")


# ------------------------------------------------------------------------ max(dim) / min(dim)


# ``index`` has the shape of the reduced result: with keepdim=False, without ``dim``.


def _take_forward(a, index, *, dim, keepdim):
    if a.ndim == 0:
        return a.copy()
    if not keepdim:
        index = np.expand_dims(index, dim)
    out = np.take_along_axis(a, index, axis=dim)
    return out if keepdim else out.squeeze(dim)


def _put_forward(g, index, *, dim, keepdim, shape):
    if len(shape) == 0:
        return g.copy()
    out = np.zeros(shape, dtype=g.dtype)
    if not keepdim:
        index, g = np.expand_dims(index, dim), np.expand_dims(g, dim)
    np.put_along_axis(out, index, g, axis=dim)
    return out


def _take_infer(a: TensorSpec, index: TensorSpec, *, dim, keepdim) -> TensorSpec:
    dims = None if a.ndim == 0 else (dim,)
    return TensorSpec(reduced_shape(tuple(a.shape), dims, keepdim), a.dtype)


def _take_vjp(ctx, g):
    return (reduce_put(g, ctx.inputs[1], ctx.inputs[0].shape, **ctx.attrs), None)


def _values_forward(method: str):
    # the values at ``index`` are the max/min themselves; reducing is much faster than
    # take_along_axis, and the index input is there for the vjp
    def forward(a, index, *, dim, keepdim):
        if a.ndim == 0:
            return a.copy()
        return getattr(a, method)(axis=dim, keepdims=keepdim)

    return forward


# The values of max/min(dim): the gradient goes to the selected index only. REDUCE_TAKE and
# REDUCE_PUT (its adjoint) are the general pair the vjps are written with.
MAX_DIM = Op("max_dim", _values_forward("max"), _take_vjp, _take_infer, save=(1,))
MIN_DIM = Op("min_dim", _values_forward("min"), _take_vjp, _take_infer, save=(1,))
REDUCE_TAKE = Op("reduce_take", _take_forward, _take_vjp, _take_infer, save=(1,))
REDUCE_PUT = Op("reduce_put", _put_forward,
                lambda ctx, g: (apply(REDUCE_TAKE, (g, ctx.inputs[1]),
                                      dim=ctx.attrs["dim"], keepdim=ctx.attrs["keepdim"]), None),
                lambda g, index, *, dim, keepdim, shape: TensorSpec(tuple(shape), g.dtype),
                save=(1,))


def reduce_put(g: Tensor, index: Tensor, shape: tuple, *, dim: int, keepdim: bool) -> Tensor:
    """Zeros of ``shape`` with ``g`` placed at ``index`` along ``dim`` (max(dim)'s vjp)."""
    return apply(REDUCE_PUT, (g, index), dim=dim, keepdim=keepdim, shape=tuple(shape))


# the named tuples of PyTorch's torch.return_types
MaxResult = namedtuple("max", ("values", "indices"))
MinResult = namedtuple("min", ("values", "indices"))
AminmaxResult = namedtuple("aminmax", ("min", "max"))


def _max_min(input, dim, keepdim: bool, name: str, full: Op, arg: Op, values_op: Op, result,
             elementwise):
    if isinstance(dim, Tensor):  # max(input, other) is the elementwise maximum
        return elementwise(input, dim)
    x = _arg(input, name)
    if dim is None:
        if x._data.size == 0:
            require_nonempty(x._data.shape, None, name)
        return apply(full, (x,), dim=None, keepdim=False)
    ndim = x._data.ndim
    d = single_dim(dim, ndim, name)
    if ndim and x._data.shape[d] == 0:
        require_nonempty(x._data.shape, (d,), name)
    index = apply(arg, (x,), dim=d, keepdim=keepdim)
    return result(apply(values_op, (x, index), dim=d, keepdim=keepdim), index)


@tensor_method("max")
def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(input)``: the largest value (ties share the gradient). ``max(input, dim,
    keepdim=False)``: named tuple ``(values, indices)``; the gradient goes to the selected
    index. ``max(input, other)``: the elementwise maximum of two tensors."""
    return _max_min(input, dim, keepdim, "max", AMAX, ARGMAX, MAX_DIM, MaxResult, maximum)


@tensor_method("min")
def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``min(input)``, ``min(input, dim, keepdim=False)`` -> ``(values, indices)``, or
    ``min(input, other)``; see :func:`max`."""
    return _max_min(input, dim, keepdim, "min", AMIN, ARGMIN, MIN_DIM, MinResult, minimum)


@tensor_method("aminmax")
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """Named tuple ``(min, max)`` over ``dim`` (one int) or over all elements."""
    x = _arg(input, "aminmax")
    if dim is not None:
        dim = single_dim(dim, x._data.ndim, "aminmax")
    dims = None if dim is None or x._data.ndim == 0 else (dim,)
    if x._data.size == 0 and (dims is None or x._data.shape[dim] == 0):
        raise IndexingError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            f"identity (input shape {shape_str(x._data.shape)}, dim={dim})"
        )
    return AminmaxResult(apply(AMIN, (x,), dim=dims, keepdim=keepdim),
                         apply(AMAX, (x,), dim=dims, keepdim=keepdim))
