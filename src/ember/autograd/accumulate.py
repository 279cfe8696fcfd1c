"""What happens to a gradient when it arrives: validation of what a backward rule returned,
tensor hooks, and accumulation into ``.grad`` (PyTorch's AccumulateGrad rules).
"""

from __future__ import annotations

import sys

import numpy as np

from .. import tracing as _tracing
from ..errors import AutogradError, shape_str
from .node import Node

_getrefcount = sys.getrefcount

# Filled by load(): tensor.py imports this package, so these cannot be imported at load time.
Tensor = None
_make = None


def load() -> None:
    global Tensor, _make
    from ..tensor import Tensor as _Tensor
    from ..tensor import _make as _make_fn

    Tensor, _make = _Tensor, _make_fn


def run_hooks(hooks, g, where: str):
    for hook in list(hooks):
        new = hook(g)
        if new is not None:
            if not isinstance(new, Tensor):
                raise TypeError(f"a hook on {where} returned a {type(new).__name__}; hooks "
                                "must return a Tensor or None")
            if new._data.shape != g._data.shape:
                raise AutogradError(
                    f"a hook on {where} changed the gradient's shape from "
                    f"{shape_str(g._data.shape)} to {shape_str(new._data.shape)}"
                )
            g = new
    return g


def _grad_index(node: Node, i: int) -> int:
    """Input ``i`` of a node as the user counts it: a Function's forward argument position."""
    positions = node.attrs.get("tensor_positions") if type(node.attrs) is dict else None
    return positions[i] if positions else i


def fix_grad(node: Node, i: int, g, spec):
    """The slow path of gradient validation: not a Tensor, wrong shape or wrong dtype."""
    if not isinstance(g, Tensor):
        raise AutogradError(
            f"Function {node.name} returned a {type(g).__name__} as the gradient at index "
            f"{_grad_index(node, i)}; expected a Tensor or None"
        )
    if type(spec) is tuple:
        shape, np_dtype = spec
    else:
        shape, np_dtype = spec._data.shape, spec._data.dtype
    if g._data.shape != shape:
        from ..ops.broadcast import broadcast_shapes, sum_to

        # PyTorch reduces a custom Function's broadcast-shaped gradient; ember's own vjps
        # must undo their broadcasting themselves, so for them it is a bug to report
        custom = "ctx" in node.attrs
        try:
            expandable = broadcast_shapes(shape, g._data.shape) == g._data.shape
        except ValueError:
            expandable = False
        if not (custom and expandable):
            raise AutogradError(
                f"Function {node.name} returned an invalid gradient at index "
                f"{_grad_index(node, i)} - got {shape_str(g._data.shape)} but expected shape "
                f"compatible with {shape_str(shape)}"
            )
        g = sum_to(g, shape)
    if g._data.dtype != np_dtype:
        from ..dtypes import from_numpy_dtype

        if not g.dtype.is_floating_point:
            raise AutogradError(
                f"Function {node.name} returned a gradient of dtype {g.dtype.name} at index "
                f"{_grad_index(node, i)}, for an input of dtype "
                f"{from_numpy_dtype(np_dtype).name}; gradients must be floating point"
            )
        g = g.to(from_numpy_dtype(np_dtype))  # as PyTorch: float gradients take the input's dtype
    return g


def deliver_leaf(leaf, g, capture, create_graph: bool) -> None:
    if leaf._hooks:
        g = run_hooks(leaf._hooks, g, "a leaf tensor")
    if capture is not None:
        capture[leaf] = g
        return
    accumulate_grad(leaf, g, create_graph)


def accumulate_grad(t, g, create_graph: bool) -> None:
    """``t.grad += g`` with PyTorch's rules: the first gradient is adopted without a copy
    when nothing else holds it; later ones are added in place (unless building a graph)."""
    tracer = _tracing.current
    if tracer is not None:
        _accumulate_traced(tracer, t, g, create_graph)
        return
    old = t._grad
    if old is None:
        if create_graph:
            # a differentiable copy when another tensor shares g (x + y hands both the same)
            t._grad = _clone(g) if _getrefcount(g) > 3 else g
            return
        if g._node is not None:  # a user-given root gradient that itself requires grad
            g = g.detach()
        arr = g._data
        # refcounts: (caller's variable, parameter, getrefcount's argument) for g;
        # (g._data, local arr, argument) for arr. More means someone else sees it.
        if (arr.base is None and arr.flags.writeable and _getrefcount(g) <= 3
                and _getrefcount(arr) <= 3):
            t._grad = g
        else:
            t._grad = _make(arr.copy())
        return
    if create_graph or old._node is not None:
        t._grad = old + g
        return
    a = old._data
    if a.shape != g._data.shape:
        raise AutogradError(
            f"cannot accumulate a gradient of shape {shape_str(g._data.shape)} into .grad of "
            f"shape {shape_str(a.shape)}; .grad was set to a tensor of the wrong shape"
        )
    if a.flags.writeable and a.dtype == g._data.dtype:
        np.add(a, g._data, out=a)
        box = old._version
        if box is None:
            old._version = [1]
        else:
            box[0] += 1
    else:
        old._data = (a + g._data).astype(a.dtype, copy=False)


def _accumulate_traced(tracer, t, g, create_graph: bool) -> None:
    """accumulate_grad while ember.compile traces: the same effects, made of recorded ops
    (a copy is the same value; an in-place sum is a new value of .grad's memory)."""
    tracer.note_grad_owner(t)
    old = t._grad
    if old is None:
        if g._node is not None and not create_graph:
            g = g.detach()
        # a copy at trace time costs nothing at run time (a copy is the same graph value),
        # and keeps this .grad apart from any other tensor sharing g
        copy = _make(g._data.copy())
        tracer.same_value(copy._data, g)
        t._grad = copy
        return
    if create_graph or old._node is not None:
        t._grad = old + g
        return
    new = old + g
    np.copyto(old._data, new._data, casting="unsafe")
    tracer.rebind(old, new)


def _clone(g):
    """A differentiable copy (used only while building a graph)."""
    clone = getattr(g, "clone", None)  # the movement ops bind Tensor.clone
    return clone() if clone is not None else g * 1


def retain(t, g, create_graph: bool) -> None:
    """``retain_grad``: like PyTorch, a copy the first time, then out-of-place sums."""
    old = t._grad
    if create_graph:
        t._grad = _clone(g) if old is None else old + g
    elif old is None:
        t._grad = _make(g._data.copy())
        if _tracing.current is not None:  # the copy is g's value in the graph
            _tracing.current.note_grad_owner(t)
            _tracing.current.same_value(t._grad._data, g)
    elif _tracing.current is not None:  # a recorded sum, not a constant of the trace
        _tracing.current.note_grad_owner(t)
        t._grad = old + g
    else:
        t._grad = _make(old._data + g._data)
