"""Graph mode: ``ember.compile`` traces a function into a static graph, optimizes it and runs
it as generated straight-line Python.

- ``trace.py``: the Tracer (records ops while the function runs once, eagerly);
- ``ir.py``: Graph / Node / Value and the printed IR;
- ``passes/``: dead code, common subexpressions, constant folding, simplification, fusion;
- ``memory.py``: buffer planning and ``memory_plan()``;
- ``executor.py``: Graph -> generated Python calling the kernels;
- ``function.py``: ``ember.compile``: the cache, guards and retrace logging;
- ``control.py``: ``ember.cond``.
"""

from __future__ import annotations

from .control import cond
from .function import CompiledFunction, CompiledModule, compile
from .ir import Graph, Node, Value

__all__ = ["CompiledFunction", "CompiledModule", "Graph", "Node", "Value", "compile", "cond"]
