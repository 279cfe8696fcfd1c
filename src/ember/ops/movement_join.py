"""Joining tensors: cat/stack, hstack/vstack/dstack and atleast_1d/2d/3d.

Inputs of different dtypes are promoted first, as in PyTorch. The vjps slice the gradient
with ``narrow``/``select`` (movement_split.py), so higher-order gradients work.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import promote_types
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .checks import require_tensors
from .elementwise import cast
from .movement_split import _narrow, _select
from .movement_view import _reshape_to, dim_index, reshape
from .registry import Op, TensorSpec, apply

# ------------------------------------------------------------------------ cat / stack


def _is_legacy_empty(shape: tuple) -> bool:
    # PyTorch's cat skips 1-D empty tensors whatever the other shapes are
    return len(shape) == 1 and shape[0] == 0


def _cat_forward(*arrays, dim):
    kept = [a for a in arrays if not _is_legacy_empty(a.shape)]
    return np.concatenate(kept or arrays[:1], axis=dim)


def _cat_infer(*specs, dim) -> TensorSpec:
    kept = [(i, s) for i, s in enumerate(specs) if not _is_legacy_empty(s.shape)] or [(0, specs[0])]
    i0, first = kept[0]
    if first.ndim == 0:
        raise ShapeError(f"cat: zero-dimensional tensor (at position {i0}) cannot be "
                         "concatenated")
    total = 0
    for i, s in kept:
        if s.ndim != first.ndim:
            raise ShapeError(f"cat: tensors must have the same number of dimensions: tensor 0 "
                             f"has shape {shape_str(first.shape)} but tensor {i} has shape "
                             f"{shape_str(s.shape)}")
        for d, (a, b) in enumerate(zip(first.shape, s.shape)):
            if d != dim and a != b:
                raise ShapeError(
                    f"cat: sizes of tensors must match except in dimension {dim}: expected "
                    f"size {a} but got size {b} in dimension {d} for tensor {i} (shape "
                    f"{shape_str(s.shape)}; tensor {i0} has shape {shape_str(first.shape)})")
        total += s.shape[dim]
        if s.dtype is not first.dtype:
            raise ShapeError(f"cat: inputs must share a dtype, got {first.dtype} and {s.dtype}")
    return TensorSpec(first.shape[:dim] + (total,) + first.shape[dim + 1:], first.dtype)


def _cat_vjp(ctx, g):
    dim = ctx.attrs["dim"]
    grads, offset = [], 0
    for spec, needed in zip(ctx.inputs, ctx.needs_input_grad):
        if _is_legacy_empty(spec.shape):
            grads.append(reshape(_narrow(g, dim, 0, 0), (0,)) if needed else None)
            continue
        length = spec.shape[dim]
        grads.append(_narrow(g, dim, offset, length) if needed else None)
        offset += length
    return tuple(grads)


CAT = Op("cat", _cat_forward, _cat_vjp, _cat_infer, save=())


def _same_dtype(tensors, op: str) -> list:
    """The tensors, cast to their promoted dtype as PyTorch's cat/stack do."""
    if type(tensors) is not list and type(tensors) is not tuple:
        if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
            raise TypeError(f"{op}: expected a sequence of Tensors, got "
                            f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of Tensors")
    np_dtype = None
    mixed = False
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} of the sequence is {type(t).__name__}, "
                            "expected a Tensor")
        if np_dtype is None:
            np_dtype = t._data.dtype
        elif t._data.dtype is not np_dtype:
            mixed = True
    if not mixed:
        return tensors
    dtype = tensors[0].dtype
    for t in tensors:
        dtype = promote_types(dtype, t.dtype)
    return [t if t.dtype is dtype else cast(t, dtype) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate ``tensors`` along ``dim`` (promoting dtypes; 1-D empty tensors are skipped
    as in PyTorch)."""
    tensors = _same_dtype(tensors, "cat")
    ref = tensors[0]
    if _is_legacy_empty(ref._data.shape):
        ref = next((t for t in tensors if not _is_legacy_empty(t._data.shape)), ref)
    if ref._data.ndim == 0:
        i = next(i for i, t in enumerate(tensors) if t._data.ndim == 0)
        raise ShapeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                         "concatenated")
    return apply(CAT, tuple(tensors), dim=dim_index(dim, ref._data.ndim, "cat"))


concat = concatenate = cat


def _stack_infer(*specs, dim) -> TensorSpec:
    first = specs[0]
    for i, s in enumerate(specs):
        if tuple(s.shape) != tuple(first.shape):
            raise ShapeError(f"stack: expects each tensor to be the same size, but got "
                             f"{shape_str(first.shape)} at entry 0 and {shape_str(s.shape)} at "
                             f"entry {i}")
        if s.dtype is not first.dtype:
            raise ShapeError(f"stack: inputs must share a dtype, got {first.dtype} and {s.dtype}")
    return TensorSpec(first.shape[:dim] + (len(specs),) + first.shape[dim:], first.dtype)


STACK = Op("stack", lambda *arrays, dim: np.stack(arrays, axis=dim),
           lambda ctx, g: tuple(_select(g, ctx.attrs["dim"], i) if needed else None
                                for i, needed in enumerate(ctx.needs_input_grad)),
           _stack_infer, save=())


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped ``tensors`` along a new dim ``dim`` (promoting dtypes)."""
    tensors = _same_dtype(tensors, "stack")
    return apply(STACK, tuple(tensors), dim=dim_index(dim, tensors[0]._data.ndim + 1,
                                                          "stack"))


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d become shape [1]); one tensor in, one out."""
    return _atleast(tensors, lambda s: (1,) if not s else None, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (new dims go in front)."""
    return _atleast(tensors, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else None,
                    "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: [] -> [1, 1, 1], [n] -> [1, n, 1], [m, n] -> [m, n, 1]."""
    def shape3(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s))
    return _atleast(tensors, shape3, "atleast_3d")


def _atleast(tensors, new_shape, op: str):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors if not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) \
        else tensors[0]
    require_tensors(list(items), op)
    out = []
    for t in items:
        shape = new_shape(t._data.shape)
        out.append(t if shape is None else _reshape_to(t, shape))
    return out[0] if single else tuple(out)


def hstack(tensors) -> Tensor:
    """Concatenate column-wise: along dim 0 for 1-D tensors, else dim 1."""
    require_tensors(tensors, "hstack")
    tensors = atleast_1d(list(tensors))
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate row-wise after making each tensor at least 2-D."""
    require_tensors(tensors, "vstack")
    return cat(atleast_2d(list(tensors)), 0)


def dstack(tensors) -> Tensor:
    """Concatenate depth-wise (dim 2) after making each tensor at least 3-D."""
    require_tensors(tensors, "dstack")
    return cat(atleast_3d(list(tensors)), 2)


row_stack = vstack


__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "row_stack",
    "atleast_1d", "atleast_2d", "atleast_3d",
]
