"""Dead-code elimination: drop nodes none of whose results are read or returned."""

from __future__ import annotations

from ..ir import Graph, Node


def _has_effects(node: Node) -> bool:
    """Stateful ops (random draws), and conds with one inside a branch, must always run."""
    if getattr(node.op, "stateful", False):
        return True
    if node.branches is not None:
        return any(_has_effects(inner) for branch in node.branches[1:3] for inner in branch)
    return False


def _prune(nodes: list, live: set) -> list:
    """The nodes of ``nodes`` (one straight-line block) that are needed; grows ``live``."""
    kept = []
    for node in reversed(nodes):
        produced = list(node.outputs) + [v for v, _ in node.sides]
        if not (_has_effects(node) or any(id(v) in live for v in produced)):
            continue
        kept.append(node)
        for v in node.all_inputs():
            live.add(id(v))
        if node.branches is not None:
            pred, true_nodes, false_nodes, true_outs, false_outs = node.branches
            for v in true_outs + false_outs:
                live.add(id(v))
            true_nodes = _prune(true_nodes, live)
            false_nodes = _prune(false_nodes, live)
            live.add(id(pred))
            node.branches = (pred, true_nodes, false_nodes, true_outs, false_outs)
    kept.reverse()
    return kept


def eliminate_dead_code(graph: Graph) -> Graph:
    """Remove nodes whose outputs (and side arrays) nothing reads; returns the graph.

    Random draws are kept even when unused: dropping one would shift every later draw of
    the same generator, so the compiled function would no longer match eager. Values nothing
    reads any more (a constant a folded node read) leave ``graph.values``, so the compiled
    function does not keep their arrays alive.
    """
    live = {id(v) for v in graph.live_values()}
    graph.nodes = _prune(graph.nodes, live)
    graph.link()
    produced = set()
    for node in graph.walk():
        produced.update(id(v) for v in node.outputs)
        produced.update(id(v) for v, _ in node.sides)
    inputs = {id(v) for v in graph.inputs}
    graph.values = [v for v in graph.values
                    if id(v) in inputs or id(v) in produced or v.users or id(v) in live]
    return graph
