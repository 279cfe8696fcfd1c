"""Memory planning: which arrays are alive at each step of a graph, and the peak, before it runs.

Placeholder: the real planner (liveness, reuse, in-place) replaces plan_memory.
"""

from __future__ import annotations


class MemoryPlan:
    """The planned memory of a graph."""

    def __init__(self, peak_bytes: int, largest: list):
        self.peak_bytes = peak_bytes
        self.largest = largest

    def prologue(self, executor) -> list:
        return []

    def out_argument(self, node) -> str | None:
        return None


def plan_memory(graph) -> MemoryPlan:
    return MemoryPlan(0, [])
