"""Graph passes, each a function over a :class:`~ember.graph.ir.Graph` in a module of its own.

- ``rewrite.py``: what the passes share: ``replace_all_uses`` (rewire every reader of a
  value, refusing to hand the caller memory eager mode would not share), view tracking;
- ``dce.py``: dead-code elimination (nodes whose results nothing reads);
- ``cse.py``: common-subexpression elimination (the same op on the same inputs, twice);
- ``fold.py``: constant folding (nodes whose inputs are all constants run at compile time);
- ``simplify.py``: algebraic simplification (x*1, x+0, transpose of a transpose, reshape
  chains, expand to the same shape, casts to the same dtype);
- ``fuse.py``: fusion of elementwise chains into one generated kernel;
- ``multi_tensor.py``: the per-parameter optimizer updates of a step merged into kernels over
  flat arenas (run by ``graph/function.py`` after fusion).

``optimize`` runs fold, simplify and CSE until none changes the graph, then DCE;
``graph/function.py`` runs fusion after it. Buffer planning lives in ``graph/memory.py``.
"""

from __future__ import annotations

from ..ir import Graph
from .rewrite import replace_all_uses

__all__ = ["optimize", "replace_all_uses"]

# Each pass exposes what the others feed (a fold makes a constant 1 that simplify removes, a
# simplified chain makes two nodes equal for CSE); a few rounds reach the fixed point on the
# workloads (2-3), the bound only guards against a pair of rules undoing each other.
MAX_ROUNDS = 6


def optimize(graph: Graph) -> Graph:
    """Run the default pipeline: fold, simplify and CSE to a fixed point, then dead code."""
    from .cse import eliminate_common_subexpressions
    from .dce import eliminate_dead_code
    from .fold import fold_constants
    from .simplify import simplify

    graph = eliminate_dead_code(graph)
    for _ in range(MAX_ROUNDS):
        changed = fold_constants(graph)
        changed |= simplify(graph)
        changed |= eliminate_common_subexpressions(graph)
        eliminate_dead_code(graph)
        if not changed:
            break
    graph.link()
    return graph
