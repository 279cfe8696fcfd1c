"""Common-subexpression elimination: the same op on the same inputs with equal attributes is
computed once, and later copies read the first result.

Equal small constants are merged first (each Python number an optimizer wraps is a constant
of its own), so that ``lr * weight_decay`` computed once per parameter becomes one node.

Never merged: stateful ops (random draws: two draws are two different numbers), nodes that
leave side arrays or fill a ``cache`` list for a later node, ``ember.cond`` nodes, and nodes
running a generated kernel. A node inside a ``cond`` branch may reuse a result computed before
the ``cond``, never one computed in the other branch.
"""

from __future__ import annotations

import functools
import types

import numpy as np

from ...dtypes import DType
from ..ir import Graph, Node
from .rewrite import Rewriter, const_array

# arrays up to this size (attributes and constants) compare by content; bigger by identity
_CONTENT_BYTES = 1 << 16


def attr_key(a):
    """A hashable key for attribute value ``a``: equal keys mean the op computes the same.

    Types are part of the key (``1``, ``1.0`` and ``True`` promote differently), floats
    compare by bits (``0.0`` vs ``-0.0``, NaN equal to itself), arrays by dtype, shape and
    bytes, and anything else (functions, generators, modules) by identity.
    """
    if a is None or isinstance(a, (bool, int, str, bytes)):
        return (type(a).__name__, a)
    if isinstance(a, float):
        return ("float", a.hex()) if a == a else ("float", "nan")
    if isinstance(a, complex):
        return ("complex", a.real.hex(), a.imag.hex())
    if isinstance(a, (tuple, list)):
        return (type(a).__name__, tuple(attr_key(x) for x in a))
    if isinstance(a, dict):
        return ("dict", tuple((attr_key(k), attr_key(v)) for k, v in a.items()))
    if isinstance(a, slice):
        return ("slice", attr_key(a.start), attr_key(a.stop), attr_key(a.step))
    if a is Ellipsis:
        return ("...",)
    if isinstance(a, DType):
        return ("DType", a.name)
    if isinstance(a, np.dtype):
        return ("dtype", a.str)
    if isinstance(a, np.generic):
        return ("scalar", a.dtype.str, a.tobytes())
    if isinstance(a, np.ndarray):
        if a.nbytes <= _CONTENT_BYTES:
            return ("array", a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())
        return ("object", id(a))
    if isinstance(a, functools.partial):
        return ("partial", id(a.func), attr_key(a.args), attr_key(a.keywords))
    if isinstance(a, (types.FunctionType, types.BuiltinFunctionType, type)):
        return ("object", id(a))
    return ("object", type(a).__qualname__, id(a))


def _mergeable(node: Node) -> bool:
    if getattr(node.op, "stateful", False) or node.branches is not None or node.sides:
        return False
    if "cache" in node.attrs or "generator" in node.attrs:
        return False
    return getattr(node, "kernel", None) is None and bool(node.outputs)


def _node_key(node: Node):
    static = tuple((k, attr_key(a)) for k, a in sorted(node.attrs.items())
                   if k not in node.dynamic)
    dynamic = tuple((k, id(v)) for k, v in sorted(node.dynamic.items()))
    return (id(node.op), node.multi, len(node.outputs), tuple(id(v) for v in node.inputs),
            static, dynamic)


def _merge_constants(graph: Graph, rw: Rewriter) -> bool:
    """Make equal small constants one value (by dtype, shape and bytes)."""
    first: dict = {}
    changed = False
    for v in list(graph.values):
        arr = const_array(v)
        if arr is None or arr.nbytes > _CONTENT_BYTES or not v.users:
            continue
        key = (arr.dtype.str, arr.shape, np.ascontiguousarray(arr).tobytes())
        keep = first.setdefault(key, v)
        if keep is not v:
            changed |= rw.replace(v, keep)
    return changed


def _eliminate(rw: Rewriter, nodes: list, seen: dict, live: set) -> bool:
    changed = False
    for node in nodes:
        if node.branches is not None:
            for branch in node.branches[1:3]:
                changed |= _eliminate(rw, branch, dict(seen), live)
            continue
        if not _mergeable(node):
            continue
        try:
            key = _node_key(node)
            hash(key)
        except TypeError:  # an attribute we cannot key: leave the node alone
            continue
        earlier = seen.setdefault(key, node)
        if earlier is node:
            continue
        for old, new in zip(node.outputs, earlier.outputs):
            if old.users or id(old) in live:
                changed |= rw.replace(old, new)
    return changed


def eliminate_common_subexpressions(graph: Graph) -> bool:
    """Merge equal constants, then repeated computations; returns True if anything changed."""
    graph.link()
    rw = Rewriter(graph)
    changed = _merge_constants(graph, rw)
    live = {id(v) for v in graph.live_values()} | rw.escaping  # with cond branch results
    return _eliminate(rw, graph.nodes, {}, live) or changed
