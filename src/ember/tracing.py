"""The one switch graph mode flips: the tracer recording ops, or None in eager mode.

Kept in a module of its own, importing nothing, so that the lowest layers (the op registry,
in-place ops, autograd, random draws) can check ``tracing.current is not None`` for the cost of
an attribute read without importing ``ember.graph``.
"""

current = None  # the active ember.graph.trace.Tracer while a function is being traced
