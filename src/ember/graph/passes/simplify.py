"""Algebraic simplification: rewrites that remove a node without changing any bit of a result.

- identities: ``x * 1``, ``1 * x``, ``x / 1``, ``x - 0``, ``x + 0`` (see below), ``neg(neg(x))``;
- no-op movement: reshape/view to the same shape, expand/sum_to to the same shape, a
  permutation or transpose that keeps the order, a cast to the same dtype, ``alias`` and
  ``stale_view`` (autograd-only markers), ``clone`` (the graph never writes into a value);
- chains: reshape of a reshape is one reshape, permute/transpose of a permute/transpose is
  one permute (or nothing).

An identity applies only when the result has exactly ``x``'s shape and dtype: ``int_x * 1.0``
promotes and ``x * ones(2, 3)`` broadcasts, so neither is ``x``. Floating ``x + 0.0`` is not
``x`` for ``x = -0.0`` (the sum is ``+0.0``), so ``x + c`` simplifies only for integer or
bool ``x`` or a constant of negative zeros; ``x - c`` needs positive zeros.
"""

from __future__ import annotations

import numpy as np

from ...ops.registry import REGISTRY
from ..ir import Graph, Node, Value
from .rewrite import Rewriter, const_array, set_input

_RESHAPES = ("reshape", "view", "reduce_reshape")
_PERMUTES = ("permute", "transpose")
_PASS_THROUGH = ("alias", "stale_view", "clone")
_SAME_SHAPE = ("expand", "sum_to") + _RESHAPES


def _all_equal(v: Value, number: float, zero_sign: bool | None = None) -> bool:
    """``v`` is a constant whose every element equals ``number`` (and, for zeros, whose sign
    bit is ``zero_sign`` when floating)."""
    arr = const_array(v)
    if arr is None or arr.size == 0 or arr.dtype.kind not in "biuf":
        return False
    if not np.all(arr == number):
        return False
    if zero_sign is not None and arr.dtype.kind == "f":
        return bool(np.all(np.signbit(arr) == zero_sign))
    return True


def _exact(out: Value, x: Value) -> bool:
    return out.shape == x.shape and out.dtype == x.dtype


def _identity_operand(node: Node):
    """For a binary arithmetic node that returns one operand unchanged, that operand."""
    if len(node.inputs) != 2 or node.dynamic or len(node.outputs) != 1:
        return None
    out, (a, b) = node.outputs[0], node.inputs
    name = node.op.name
    candidates = []
    if name == "mul":
        candidates = [(a, _all_equal(b, 1)), (b, _all_equal(a, 1))]
    elif name == "div":
        candidates = [(a, _all_equal(b, 1))]
    elif name == "sub":
        candidates = [(a, _all_equal(b, 0, zero_sign=False))]
    elif name == "add":
        for x, c in ((a, b), (b, a)):
            integral = x.dtype.kind in "biu"
            candidates.append((x, _all_equal(c, 0, zero_sign=None if integral else True)))
    for x, ok in candidates:
        if ok and _exact(out, x):
            return x
    return None


def _perm_of(node: Node) -> tuple | None:
    ndim = len(node.outputs[0].shape)
    if node.op.name == "permute":
        return tuple(d % ndim for d in node.attrs["dims"]) if ndim else ()
    d0, d1 = node.attrs["dim0"] % max(ndim, 1), node.attrs["dim1"] % max(ndim, 1)
    perm = list(range(ndim))
    if ndim:
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return tuple(perm)


def _producer(v: Value, names: tuple) -> Node | None:
    p = v.producer if v.kind == "node" else None
    if p is None or p.op.name not in names or p.dynamic or len(p.outputs) != 1:
        return None
    return p


def _simplify_node(rw: Rewriter, node: Node) -> bool:
    """Apply the first rule that matches ``node``; returns True if the graph changed."""
    name = node.op.name
    if node.branches is not None or node.sides or len(node.outputs) != 1:
        return False
    out = node.outputs[0]
    x = node.inputs[0] if node.inputs else None
    if name in ("mul", "div", "add", "sub"):
        same = _identity_operand(node)
        return same is not None and rw.replace(out, same)
    if x is None or len(node.inputs) != 1 or node.dynamic:
        return False
    if name in _PASS_THROUGH or name in _SAME_SHAPE and _exact(out, x):
        return rw.replace(out, x)
    if name == "cast" and _exact(out, x):
        return rw.replace(out, x)
    if name == "neg":
        inner = _producer(x, ("neg",))
        if inner is not None and _exact(out, inner.inputs[0]):
            return rw.replace(out, inner.inputs[0])
        return False
    if name in _RESHAPES:
        inner = _producer(x, _RESHAPES)
        if inner is None:
            return False
        source = inner.inputs[0]
        if _exact(out, source):
            return rw.replace(out, source)
        # reshape keeps the values in order whatever the layout; view would refuse some
        node.op = REGISTRY["reshape"]
        node.attrs = {"shape": out.shape}
        set_input(node, 0, source)
        return True
    if name in _PERMUTES:
        perm = _perm_of(node)
        if perm == tuple(range(len(perm))):
            return rw.replace(out, x)
        inner = _producer(x, _PERMUTES)
        if inner is None:
            return False
        first = _perm_of(inner)
        combined = tuple(first[i] for i in perm)
        source = inner.inputs[0]
        if combined == tuple(range(len(combined))):
            return rw.replace(out, source)
        node.op = REGISTRY["permute"]
        node.attrs = {"dims": combined}
        set_input(node, 0, source)
        return True
    return False


def simplify(graph: Graph) -> bool:
    """Apply the rules of the module docstring everywhere; returns True if anything changed.

    One sweep in execution order, so ``neg(neg(neg(neg(x))))`` and reshape chains collapse
    as far as one pass over the nodes takes them; ``optimize`` repeats passes to a fixed point.
    """
    graph.link()
    rw = Rewriter(graph)
    live = {id(v) for v in graph.live_values()} | rw.escaping  # with cond branch results
    changed = False
    for node in list(graph.walk()):
        if any(v.users or id(v) in live for v in node.outputs):
            changed |= _simplify_node(rw, node)
    return changed
