"""Constant folding: a node whose inputs are all constants runs once, at compile time.

Its outputs become constant values (``Value.kind == "const"``) that every run reads, and the
node leaves the graph. Optimizers are full of these: ``1 - lr * weight_decay``, a learning
rate cast to the parameter dtype, a Python number wrapped as a tensor and reshaped.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from .rewrite import Rewriter, new_const

# A folded result is held for the life of the compiled function (and one copy per cached
# graph), whereas the node it replaces allocates its result only while a run needs it: a
# 1 MB bound keeps the memory a compiled function pins small, while every scalar, per-channel
# vector and small mask still folds. Bigger results are cheap to recompute relative to a
# training step that reads them.
MAX_FOLD_BYTES = 1 << 20


def _foldable(node: Node, escaping: set, max_bytes: int) -> bool:
    if getattr(node.op, "stateful", False) or node.branches is not None or node.sides:
        return False
    if "cache" in node.attrs or getattr(node, "kernel", None) is not None:
        return False
    if not node.outputs or any(v.nbytes > max_bytes for v in node.outputs):
        return False
    if any(v.kind != "const" or v.array is None for v in node.all_inputs()):
        return False
    # a constant handed to the caller or bound to a tensor would be shared by every run
    return not any(id(v) in escaping for v in node.outputs)


def _run(node: Node):
    """The node's output arrays computed now, or None when the forward fails or disagrees
    with the traced shapes and dtypes (then the node simply stays in the graph)."""
    attrs = {k: a for k, a in node.attrs.items() if k not in node.dynamic}
    attrs.update({k: v.array for k, v in node.dynamic.items()})
    try:
        result = node.op.forward(*[v.array for v in node.inputs], **attrs)
    except Exception:  # noqa: BLE001 - it fails at run time the same way, with a located error
        return None
    if node.multi:
        arrays = result[0]
    elif len(node.outputs) == 1:
        arrays = (result,)
    else:
        arrays = result
    arrays = [np.asarray(a) for a in arrays]
    if len(arrays) != len(node.outputs):
        return None
    for a, v in zip(arrays, node.outputs):
        if a.shape != v.shape or a.dtype != v.dtype:
            return None
    return arrays


def fold_constants(graph: Graph, max_bytes: int = MAX_FOLD_BYTES) -> bool:
    """Replace every foldable node's outputs by constants; returns True if anything changed.

    A node folds when it is not stateful, has no side arrays or cache, every input is a
    constant, no output exceeds ``max_bytes`` and no output leaves the graph (a constant
    returned to the caller would be one array shared by every call). Folding runs in
    execution order, so a chain of constant nodes folds in one sweep.
    """
    graph.link()
    rw = Rewriter(graph)
    escaping = rw.escaping  # folding never makes a value escape
    changed = False
    for node in list(graph.walk()):
        if not _foldable(node, escaping, max_bytes):
            continue
        arrays = _run(node)
        if arrays is None:
            continue
        for v, a in zip(node.outputs, arrays):
            rw.replace(v, new_const(graph, a))
        changed = True
    return changed
