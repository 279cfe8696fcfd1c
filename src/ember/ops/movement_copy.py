"""Ops that copy (as in PyTorch, their results never alias the input): flip, roll,
repeat/tile, repeat_interleave, clone, contiguous.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .broadcast import sum_to
from .checks import require_tensor
from .movement_view import _reshape_to, dim_index, reshape, sizes_arg
from .registry import Op, TensorSpec, apply, tensor_method

_index = operator.index


def _same(a: TensorSpec, **_) -> TensorSpec:
    return a


# ------------------------------------------------------------------------ flip / roll


def _flip_forward(a, *, dims):
    return a[tuple(_REVERSE if i in dims else _FULL for i in range(a.ndim))].copy()


_FULL, _REVERSE = slice(None), slice(None, None, -1)
FLIP = Op("flip", _flip_forward,
          lambda ctx, g: (apply(FLIP, (g,), dims=ctx.attrs["dims"]),), _same, save=())


@tensor_method("flip")
def flip(input: Tensor, *dims) -> Tensor:
    """A copy with the order of elements reversed along ``dims`` (an int or a sequence)."""
    require_tensor(input, "flip")
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    nd = input._data.ndim
    norm = tuple([dim_index(d, nd, "flip") for d in dims])
    if len(set(norm)) != len(norm):
        raise ShapeError(f"flip: dims {tuple(dims)} name a dimension twice")
    return apply(FLIP, (input,), dims=norm)


@tensor_method("fliplr")
def fliplr(input: Tensor) -> Tensor:
    """Flip left/right: reverse dim 1 (needs at least 2 dims)."""
    require_tensor(input, "fliplr")
    if input._data.ndim < 2:
        raise ShapeError(f"fliplr: expects a tensor with at least 2 dimensions, got "
                         f"{shape_str(input.shape)}")
    return apply(FLIP, (input,), dims=(1,))


@tensor_method("flipud")
def flipud(input: Tensor) -> Tensor:
    """Flip up/down: reverse dim 0 (needs at least 1 dim)."""
    require_tensor(input, "flipud")
    if input._data.ndim < 1:
        raise ShapeError("flipud: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return apply(FLIP, (input,), dims=(0,))


def _roll_forward(a, *, shifts, dims):
    if a.size == 0:
        return a.copy()
    return np.roll(a, shifts, axis=dims)


ROLL = Op("roll", _roll_forward,
          lambda ctx, g: (apply(ROLL, (g,), shifts=tuple(-s for s in ctx.attrs["shifts"]),
                                dims=ctx.attrs["dims"]),),
          _same, save=())


@tensor_method("roll")
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements by ``shifts`` along ``dims`` cyclically; with ``dims=None`` the tensor is
    rolled as if flattened. ``shifts`` and ``dims`` are ints or equally long sequences."""
    require_tensor(input, "roll")
    shifts = (_index(shifts),) if isinstance(shifts, (int, np.integer)) \
        else tuple(map(_index, shifts))
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: with dims=None, shifts must be a single int, got {shifts}")
        return apply(ROLL, (input,), shifts=shifts, dims=None)
    nd = input._data.ndim
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return apply(ROLL, (input,), shifts=shifts,
                 dims=tuple(dim_index(d, nd, "roll") for d in dims))


# ------------------------------------------------------------------------ repeat / tile


def _repeat_infer(a: TensorSpec, *, sizes: tuple) -> TensorSpec:
    if len(sizes) < a.ndim:
        raise ShapeError(f"repeat: the number of repeat sizes ({len(sizes)}) cannot be smaller "
                         f"than the number of dimensions of the tensor {shape_str(a.shape)}")
    padded = (1,) * (len(sizes) - a.ndim) + tuple(a.shape)
    return TensorSpec(tuple(r * s for r, s in zip(sizes, padded)), a.dtype)


def _repeat_vjp(ctx, g):
    shape = ctx.inputs[0].shape
    sizes = ctx.attrs["sizes"]
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    # each output dim is (repeat, size) laid out repeat-major; sum over the repeat axes
    split = tuple(x for pair in zip(sizes, padded) for x in pair)
    folded = tuple(x for s in padded for x in (1, s))
    return (reshape(sum_to(reshape(g, split), folded), shape),)


REPEAT = Op("repeat", lambda a, *, sizes: np.tile(a, sizes), _repeat_vjp, _repeat_infer,
            save=())


@tensor_method("repeat")
def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along each dim (PyTorch's ``repeat``, which is
    NumPy's ``tile``; NumPy's ``repeat`` is :func:`repeat_interleave`). ``sizes`` may have
    more entries than ``input`` has dims; new dims go in front."""
    sizes = sizes_arg(sizes, "repeat")
    if len(sizes) < input._data.ndim:
        raise ShapeError(f"repeat: the number of repeat sizes ({len(sizes)}) cannot be smaller "
                         f"than the number of dimensions of the tensor "
                         f"{shape_str(input.shape)}")
    if sizes and min(sizes) < 0:
        raise ShapeError(f"repeat: repeat sizes must be non-negative, got {list(sizes)}")
    return apply(REPEAT, (input,), sizes=sizes)


def tile(input: Tensor, dims) -> Tensor:
    """Like :func:`repeat`, but ``dims`` shorter than ``input.ndim`` is padded with ones in
    front."""
    require_tensor(input, "tile")
    dims = sizes_arg((dims,), "tile")
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


Tensor.tile = lambda self, *dims: tile(self, sizes_arg(dims, "tile"))
Tensor.tile.__doc__ = tile.__doc__


def _repeat_interleave_infer(a: TensorSpec, *, repeats, dim) -> TensorSpec:
    n = a.shape[dim]
    if isinstance(repeats, tuple):
        if len(repeats) != n:
            raise ShapeError(f"repeat_interleave: repeats has {len(repeats)} entries but dim "
                             f"{dim} of the input {shape_str(a.shape)} has size {n}")
        total = sum(repeats)
    else:
        total = n * repeats
    return TensorSpec(a.shape[:dim] + (total,) + a.shape[dim + 1:], a.dtype)


def _segment_sum_forward(g, *, repeats, dim, size):
    if not isinstance(repeats, tuple):
        shape = g.shape[:dim] + (size, repeats) + g.shape[dim + 1:]
        return g.reshape(shape).sum(axis=dim + 1, dtype=g.dtype)
    owner = np.repeat(np.arange(size), repeats)
    out = np.zeros(g.shape[:dim] + (size,) + g.shape[dim + 1:], dtype=g.dtype)
    np.add.at(np.moveaxis(out, dim, 0), owner, np.moveaxis(g, dim, 0))
    return out


def _segment_sum_infer(g: TensorSpec, *, repeats, dim, size) -> TensorSpec:
    return TensorSpec(g.shape[:dim] + (size,) + g.shape[dim + 1:], g.dtype)


REPEAT_INTERLEAVE = Op(
    "repeat_interleave", lambda a, *, repeats, dim: np.repeat(a, repeats, axis=dim),
    lambda ctx, g: (apply(REPEAT_INTERLEAVE_BACKWARD, (g,), size=ctx.inputs[0].shape[
        ctx.attrs["dim"]], **ctx.attrs),),
    _repeat_interleave_infer, save=())
REPEAT_INTERLEAVE_BACKWARD = Op(
    "repeat_interleave_backward", _segment_sum_forward,
    lambda ctx, g: (apply(REPEAT_INTERLEAVE, (g,), repeats=ctx.attrs["repeats"],
                          dim=ctx.attrs["dim"]),),
    _segment_sum_infer, save=())


@tensor_method("repeat_interleave")
def repeat_interleave(input: Tensor, repeats, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (NumPy's ``repeat``); ``repeats``
    is an int or a 1-D tensor/sequence with one count per element. ``dim=None`` flattens."""
    require_tensor(input, "repeat_interleave")
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    shape = input._data.shape
    d = dim_index(dim, len(shape), "repeat_interleave")
    if not shape:
        input, shape = _reshape_to(input, (1,)), (1,)
    if isinstance(repeats, Tensor):
        if repeats.dtype.is_floating_point or repeats.ndim > 1:
            raise ShapeError(f"repeat_interleave: repeats must be an int or a 0-d/1-D integer "
                             f"tensor, got {repeats.dtype.name}{shape_str(repeats.shape)}")
        repeats = repeats.tolist()
    if isinstance(repeats, (list, tuple)):
        counts = tuple(map(_index, repeats))
        if len(counts) == 1:
            counts = counts[0]
        elif len(counts) != shape[d]:
            raise ShapeError(f"repeat_interleave: repeats has {len(counts)} entries but dim "
                             f"{dim} of the input {shape_str(shape)} has size {shape[d]}")
    else:
        counts = _index(repeats)
    if min(counts if isinstance(counts, tuple) else (counts,), default=0) < 0:
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
    out = apply(REPEAT_INTERLEAVE, (input,), repeats=counts, dim=d)
    if output_size is not None and out._data.shape[d] != output_size:
        raise ShapeError(f"repeat_interleave: output_size={output_size} but the repeats give "
                         f"{out._data.shape[d]}")
    return out


# ------------------------------------------------------------------------ copies


CLONE = Op("clone", lambda a: a.copy(order="K"), lambda ctx, g: (g,),
           lambda a: a, save=())
CONTIGUOUS = Op("contiguous", np.ascontiguousarray, lambda ctx, g: (g,), lambda a: a, save=())


@tensor_method("clone")
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``input`` (differentiable; keeps the memory layout, PyTorch's
    ``preserve_format``)."""
    require_tensor(input, "clone")
    return apply(CLONE, (input,))


@tensor_method("contiguous")
def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when C-contiguous, else a C-contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return apply(CONTIGUOUS, (input,))


__all__ = ["flip", "fliplr", "flipud", "roll", "repeat_interleave", "tile", "clone"]
