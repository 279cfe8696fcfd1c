"""Dead-code elimination: drop nodes none of whose results are read or returned."""

from __future__ import annotations

from ..ir import Graph


def eliminate_dead_code(graph: Graph) -> Graph:
    """Remove nodes whose outputs (and side arrays) nothing reads; returns the graph.

    Random draws are kept even when unused: dropping one would shift every later draw of
    the same generator, so the compiled function would no longer match eager.
    """
    live = {id(v) for v in graph.live_values()}
    kept = []
    for node in reversed(graph.nodes):
        produced = list(node.outputs) + [v for v, _ in node.sides]
        if getattr(node.op, "stateful", False) or any(id(v) in live for v in produced):
            kept.append(node)
            for v in node.all_inputs():
                live.add(id(v))
            if node.branches is not None:
                live.add(id(node.branches[0]))
                for branch_nodes in node.branches[1:3]:
                    for inner in branch_nodes:
                        for v in inner.all_inputs():
                            live.add(id(v))
                for v in node.branches[3] + node.branches[4]:
                    live.add(id(v))
    kept.reverse()
    graph.nodes = kept
    graph.link()
    return graph
