"""ember's error classes.

Each subclasses the Python error a user would already catch for the same mistake, so
``except ValueError`` keeps working, while ``except ember.ShapeError`` can be precise.
Messages name the op, the shapes or dtypes involved and what was expected.
"""

from __future__ import annotations


class EmberError(Exception):
    """Base class of every error ember raises on purpose."""


class ShapeError(EmberError, ValueError):
    """Shapes that do not fit the op: broadcasting, matmul inner sizes, bad dims."""


class DTypeError(EmberError, TypeError):
    """A dtype the op cannot take, or a value that cannot be converted to one."""


class IndexingError(EmberError, IndexError):
    """An index out of range, or an index of the wrong kind."""


class AutogradError(EmberError, RuntimeError):
    """Misuse of autograd: backward through a freed graph, in-place on a leaf, stale saves."""


class OverlapError(EmberError, RuntimeError):
    """A write into a tensor whose elements share memory (a broadcast/expand view), or into
    read-only memory."""


class GraphError(EmberError, RuntimeError):
    """Something a traced (compiled) function cannot express."""


def shape_str(shape) -> str:
    """Format a shape the way PyTorch prints sizes: ``[2, 3]``."""
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"
