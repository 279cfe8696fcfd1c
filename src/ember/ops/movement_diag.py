"""Diagonals and triangles: diagonal (a view), diag, tril, triu (copies)."""

from __future__ import annotations

import operator

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .checks import require_tensor
from .movement_copy import clone
from .movement_view import as_view, dim_index
from .registry import Op, TensorSpec, apply, tensor_method

_index = operator.index


# ------------------------------------------------------------------------ diagonal


def _diag_axes(ndim: int, dim1: int, dim2: int, op: str) -> tuple:
    if ndim < 2:
        raise ShapeError(f"{op}: expects a tensor with at least 2 dimensions, got {ndim}")
    d1 = dim_index(dim1, ndim, op)
    d2 = dim_index(dim2, ndim, op)
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return d1, d2


def _diagonal_forward(a, *, offset, dim1, dim2):
    d = a.diagonal(offset, dim1, dim2)
    try:  # NumPy marks diagonals read-only; PyTorch's are writable views
        d.flags.writeable = True
    except ValueError:  # a view of read-only memory (e.g. of an expand) stays read-only
        pass
    return d


def _diagonal_infer(a: TensorSpec, *, offset, dim1, dim2) -> TensorSpec:
    d1, d2 = _diag_axes(a.ndim, dim1, dim2, "diagonal")
    n1, n2 = a.shape[d1], a.shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    rest = tuple(s for i, s in enumerate(a.shape) if i not in (d1, d2))
    return TensorSpec(rest + (length,), a.dtype)


def _diagonal_backward_forward(g, *, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=g.dtype)
    d = np.diagonal(out, offset, dim1, dim2)
    d.flags.writeable = True
    d[...] = g
    return out


def _diagonal_backward_infer(g: TensorSpec, *, shape, offset, dim1, dim2) -> TensorSpec:
    expected = _diagonal_infer(TensorSpec(shape, g.dtype), offset=offset, dim1=dim1, dim2=dim2)
    if tuple(expected.shape) != tuple(g.shape):
        raise ShapeError(f"diagonal_backward: gradient {shape_str(g.shape)} does not match the "
                         f"diagonal {shape_str(expected.shape)} of {shape_str(shape)}")
    return TensorSpec(tuple(shape), g.dtype)


DIAGONAL = Op("diagonal", _diagonal_forward,
              lambda ctx, g: (diagonal_backward(g, ctx.inputs[0].shape, **ctx.attrs),),
              _diagonal_infer, save=())
DIAGONAL_BACKWARD = Op("diagonal_backward", _diagonal_backward_forward,
                       lambda ctx, g: (_diagonal(g, ctx.attrs["offset"], ctx.attrs["dim1"],
                                                 ctx.attrs["dim2"]),),
                       _diagonal_backward_infer, save=())


def diagonal_backward(grad: Tensor, shape: tuple, offset: int, dim1: int, dim2: int) -> Tensor:
    """Zeros of ``shape`` with ``grad`` written on the diagonal (the adjoint of diagonal)."""
    return apply(DIAGONAL_BACKWARD, (grad,), shape=tuple(shape), offset=offset, dim1=dim1,
                 dim2=dim2)


def _diagonal(input: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    return as_view(apply(DIAGONAL, (input,), offset=offset, dim1=dim1, dim2=dim2), input)


@tensor_method("diagonal")
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal over ``dim1``/``dim2`` (``offset`` > 0: above the main one),
    appended as the last dim."""
    require_tensor(input, "diagonal")
    d1, d2 = _diag_axes(input._data.ndim, dim1, dim2, "diagonal")
    return _diagonal(input, _index(offset), d1, d2)


# ------------------------------------------------------------------------ triangles


def _triangle_infer(name):
    def infer(a: TensorSpec, *, diagonal: int) -> TensorSpec:
        if a.ndim < 2:
            raise ShapeError(f"{name}: expects a tensor with at least 2 dimensions, got "
                             f"{shape_str(a.shape)}")
        return a
    return infer


_tril_infer, _triu_infer = _triangle_infer("tril"), _triangle_infer("triu")
TRIL = Op("tril", lambda a, *, diagonal: np.tril(a, diagonal),
          lambda ctx, g: (apply(TRIL, (g,), **ctx.attrs),), _tril_infer, save=())
TRIU = Op("triu", lambda a, *, diagonal: np.triu(a, diagonal),
          lambda ctx, g: (apply(TRIU, (g,), **ctx.attrs),), _triu_infer, save=())


@tensor_method("tril")
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (elements on and below ``diagonal``); the
    rest is zero."""
    require_tensor(input, "tril")
    _tril_infer(input, diagonal=0)
    return apply(TRIL, (input,), diagonal=_index(diagonal))


@tensor_method("triu")
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (elements on and above ``diagonal``); the
    rest is zero."""
    require_tensor(input, "triu")
    _triu_infer(input, diagonal=0)
    return apply(TRIU, (input,), diagonal=_index(diagonal))


@tensor_method("diag")
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with ``input`` on diagonal ``diagonal``. 2-D input: a copy
    of that diagonal as a 1-D tensor."""
    require_tensor(input, "diag")
    k = _index(diagonal)
    nd = input._data.ndim
    if nd == 1:
        n = input._data.shape[0] + abs(k)
        return diagonal_backward(input, (n, n), k, 0, 1)
    if nd == 2:
        return clone(_diagonal(input, k, 0, 1))
    raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got {shape_str(input.shape)}")


__all__ = ["diagonal", "diag", "tril", "triu"]
