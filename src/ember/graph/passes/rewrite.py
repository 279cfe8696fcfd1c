"""Helpers every rewriting pass shares: replacing a value, and what may alias what.

The one way a pass changes what a value means is :func:`replace_all_uses`: it rewires node
inputs, ``node.dynamic`` attributes, ``ember.cond`` predicates and branch results, graph
outputs and write-backs from ``old`` to ``new``. The nodes that produced ``old`` stay in the
graph until dead-code elimination drops them.

Uses that hand an array to the world outside the graph (*escaping* uses: graph outputs,
``replace`` and ``grad`` write-backs, results of ``ember.cond`` branches) are rewired only when
that cannot make two tensors share memory where eager mode gave each its own: ``x * 1``
returned from a step must stay a fresh array, not the parameter ``x`` itself, or the next
optimizer update (a ``copy`` write-back into ``x``) would change the user's result too. A
``copy`` write-back copies its source, so it only needs the source not to live in memory an
earlier write-back overwrites.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Value

# Ops whose output may be the input array itself or a view of it.
VIEW_OPS = frozenset({
    "alias", "stale_view", "reshape", "view", "reduce_reshape", "expand", "sum_to", "permute",
    "transpose", "contiguous", "narrow", "select", "index", "diagonal", "squeeze", "unsqueeze",
    "flatten",
})

_OUTSIDE = ("input", "state", "grad")  # memory that write-backs may overwrite


def view_root(v: Value) -> Value:
    """The value whose memory ``v`` may share: follow view-like producers to their source."""
    while v.kind == "node" and v.producer.op.name in VIEW_OPS and v.producer.inputs:
        v = v.producer.inputs[0]
    return v


def is_fresh(v: Value) -> bool:
    """True when ``v`` is an array a node allocated (not a view, constant, input or state;
    not a ``cond`` result, which is whatever array its branch returned)."""
    return (v.kind == "node" and v.producer.branches is None
            and v.producer.op.name not in VIEW_OPS)


def escaping_values(graph: Graph) -> set:
    """Ids of values handed outside the graph: outputs, non-copy write-backs, cond results."""
    out = {id(v) for v in graph.outputs if v is not None}
    out |= {id(wb[2]) for wb in graph.writebacks if wb[2] is not None and wb[0] != "copy"}
    for node in graph.walk():
        if node.branches is not None:
            out |= {id(v) for v in node.branches[3] + node.branches[4]}
    return out


def escapes(graph: Graph, v: Value) -> bool:
    """True when ``v`` itself is handed outside the graph (see :func:`escaping_values`)."""
    return id(v) in escaping_values(graph)


def _may_hand_out(old: Value, new: Value, escaping: set) -> bool:
    """Can an escaping use of ``old`` read ``new`` instead without new memory sharing?"""
    if view_root(new) is view_root(old):
        return True  # old already shared new's memory
    return is_fresh(new) and id(new) not in escaping


def _may_copy_from(old: Value, new: Value, target) -> bool:
    """Can ``copy`` write-back into ``target`` read ``new`` instead of ``old``?"""
    root = view_root(new)
    if root is view_root(old) or root.kind not in _OUTSIDE:
        return True
    if isinstance(target, tuple):
        return root.kind == "input" and root.index == target[1]
    return root.kind == "state" and root.tensor is target


def replace_all_uses(graph: Graph, old: Value, new: Value) -> bool:
    """Make every reader of ``old`` read ``new``; returns True when any reader moved.

    Escaping uses that would make the outside world share memory it did not share in eager
    mode keep reading ``old`` (its node then stays alive); see the module docstring. Needs
    ``Value.users`` to be current (``graph.link()``) and keeps it current. A pass making many
    replacements uses one :class:`Rewriter` instead (it scans the graph once).
    """
    return Rewriter(graph).replace(old, new)


class Rewriter:
    """:func:`replace_all_uses` for one pass: the escaping values and the ``cond`` nodes are
    found once (passes neither add nor remove ``cond`` nodes)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.escaping = escaping_values(graph)
        self.conds = [node for node in graph.walk() if node.branches is not None]
        # values read by outputs and write-backs: only these need those lists scanned
        self.outside = {id(v) for v in graph.outputs + [wb[2] for wb in graph.writebacks]}

    def replace(self, old: Value, new: Value) -> bool:
        """See :func:`replace_all_uses`."""
        if old is new:
            return False
        graph = self.graph
        hand_out = _may_hand_out(old, new, self.escaping)
        moved = bool(old.users)
        for node in list(dict.fromkeys(old.users)):  # each reader once, in order
            node.inputs = [new if v is old else v for v in node.inputs]
            for k, v in node.dynamic.items():
                if v is old:
                    node.dynamic[k] = new
            new.users.append(node)
        old.users = []
        handed = False
        for node in self.conds:
            pred, t_nodes, f_nodes, t_outs, f_outs = node.branches
            if pred is old:
                pred, moved = new, True
            if hand_out and (old in t_outs or old in f_outs):
                t_outs = [new if v is old else v for v in t_outs]
                f_outs = [new if v is old else v for v in f_outs]
                handed = True
            node.branches = (pred, t_nodes, f_nodes, t_outs, f_outs)
        if handed:
            self.escaping.add(id(new))
        if id(old) not in self.outside:
            return moved or handed
        if hand_out and old in graph.outputs:
            graph.outputs = [new if v is old else v for v in graph.outputs]
            handed = True
        writebacks = []
        for how, target, v in graph.writebacks:
            if v is old and (_may_copy_from(old, new, target) if how == "copy" else hand_out):
                v = new
                moved = True
                handed |= how != "copy"
            writebacks.append((how, target, v))
        graph.writebacks = writebacks
        if handed:
            self.escaping.add(id(new))
        self.outside.add(id(new))
        return moved or handed


def set_input(node, position: int, v: Value) -> None:
    """Make ``node`` read ``v`` as input ``position`` (keeping ``Value.users`` current)."""
    old = node.inputs[position]
    node.inputs[position] = v
    if old in node.inputs or old in node.dynamic.values():
        pass  # still read through another argument
    elif node in old.users:
        old.users = [u for u in old.users if u is not node]
    v.users.append(node)


def const_array(v: Value, max_size: int = 1 << 20):
    """The array of a constant value (at most ``max_size`` elements), else None."""
    if v.kind != "const" or v.array is None:
        return None
    arr = np.asarray(v.array)
    return arr if arr.size <= max_size else None


def new_const(graph: Graph, array: np.ndarray) -> Value:
    """A new constant value holding ``array`` (made read-only: constants live for the life
    of the compiled function and are shared by every run)."""
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return graph.new_value(array.shape, array.dtype, "const", array=array)
