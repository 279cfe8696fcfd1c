"""Broadcasting as ops: ``expand``/``broadcast_to`` and its adjoint ``sum_to``.

Every backward rule of a broadcasting op ends in ``sum_to(grad, input.shape)``; the two are
each other's vjp, so higher-order gradients through broadcasting work.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .checks import require_tensor, require_tensors
from .movement_view import as_view
from .registry import Op, TensorSpec, apply, tensor_method


def broadcast_shapes(*shapes, op: str = "broadcast_shapes") -> tuple:
    """The broadcast of ``shapes`` under NumPy/PyTorch rules; ShapeError naming ``op`` if none.

    A shape is a sequence of ints (or, as in PyTorch, one int for a 1-D shape).
    """
    if op == "broadcast_shapes":  # a user's call: internal callers pass checked shapes
        shapes = tuple(_shape_arg(s) for s in shapes)
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -axis:
                d = s[axis]
                if d != 1:
                    if size != 1 and d != size:
                        raise ShapeError(
                            f"{op}: shapes " + ", ".join(shape_str(x) for x in shapes)
                            + f" cannot be broadcast together (size {size} vs {d} at dimension "
                            f"{axis})"
                        )
                    size = d
        out.append(size)
    return tuple(out)


def _shape_arg(shape) -> tuple:
    try:
        if isinstance(shape, (list, tuple)):
            return tuple(operator.index(d) for d in shape)
        return (operator.index(shape),)
    except TypeError:
        raise TypeError(f"broadcast_shapes(): each shape must be an int or a sequence of "
                        f"ints, got {shape!r}") from None


def _sum_to_forward(a: np.ndarray, *, shape: tuple) -> np.ndarray:
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1
    )
    return np.sum(a, axis=axes).reshape(shape) if axes else a.reshape(shape)


def _sum_to_infer(a: TensorSpec, *, shape: tuple) -> TensorSpec:
    if broadcast_shapes(a.shape, shape, op="sum_to") != tuple(a.shape):
        raise ShapeError(f"sum_to: cannot reduce {shape_str(a.shape)} to {shape_str(shape)}")
    return TensorSpec(tuple(shape), a.dtype)


def _expand_forward(a: np.ndarray, *, shape: tuple) -> np.ndarray:
    return np.broadcast_to(a, shape)


def _expand_infer(a: TensorSpec, *, shape: tuple) -> TensorSpec:
    if len(shape) < a.ndim:
        raise ShapeError(
            f"expand: the target shape {shape_str(shape)} has fewer dimensions than the "
            f"tensor {shape_str(a.shape)}"
        )
    lead = len(shape) - a.ndim
    for i, s in enumerate(a.shape):
        if s != 1 and s != shape[lead + i]:
            raise ShapeError(
                f"expand: the expanded size {shape[lead + i]} must match the existing size {s} "
                f"at non-singleton dimension {lead + i}; target {shape_str(shape)}, tensor "
                f"{shape_str(a.shape)}"
            )
    return TensorSpec(tuple(shape), a.dtype)


SUM_TO = Op("sum_to", _sum_to_forward, lambda ctx, g: (expand(g, ctx.inputs[0].shape),),
            _sum_to_infer, save=())
EXPAND = Op("expand", _expand_forward, lambda ctx, g: (sum_to(g, ctx.inputs[0].shape),),
            _expand_infer, save=())


def sum_to(x: Tensor, shape) -> Tensor:
    """Sum ``x`` over broadcast dimensions so it has ``shape`` (the adjoint of expand)."""
    shape = tuple(shape)
    if x._data.shape == shape:
        return x
    return apply(SUM_TO, (x,), shape=shape)


@tensor_method("broadcast_to")
def broadcast_to(input: Tensor, size) -> Tensor:
    """A read-only view of ``input`` broadcast to ``size``."""
    require_tensor(input, "broadcast_to")
    shape = tuple(int(s) for s in size)
    if input._data.shape == shape:
        return input
    _expand_infer(TensorSpec(input._data.shape, input.dtype), shape=shape)
    return as_view(apply(EXPAND, (input,), shape=shape), input)


@tensor_method("expand")
def expand(input: Tensor, *sizes) -> Tensor:
    """PyTorch's ``expand``: -1 keeps a dimension's size; new dimensions go in front."""
    require_tensor(input, "expand")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - input._data.ndim
    if lead < 0:
        raise ShapeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
            f"to the number of dimensions in the tensor ({input._data.ndim})"
        )
    shape = tuple(
        input._data.shape[i - lead] if (s == -1 and i >= lead) else int(s)
        for i, s in enumerate(sizes)
    )
    return broadcast_to(input, shape)


@tensor_method("expand_as")
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(input, other.shape)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Broadcast all ``tensors`` to their common shape."""
    require_tensors(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*(t.shape for t in tensors), op="broadcast_tensors")
    return tuple(broadcast_to(t, shape) for t in tensors)
