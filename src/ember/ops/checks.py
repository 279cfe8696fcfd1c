"""Argument checks shared by the ops that take only tensors (views, copies, indexing).

Ops that also accept numbers convert with ``registry.as_tensor_arg``; the ones here read
``input._data`` straight away, so without this check a wrong type would surface as an
``AttributeError`` from deep inside the op.
"""

from __future__ import annotations

from ..tensor import Tensor


def require_tensor(x, op: str, name: str = "input") -> None:
    """TypeError naming ``op`` and the argument when ``x`` is not a Tensor (PyTorch's wording)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")


def require_tensors(xs, op: str, name: str = "tensors") -> None:
    """``require_tensor`` for each element of a sequence of tensors."""
    if isinstance(xs, Tensor) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"{op}(): argument '{name}' must be a tuple or list of Tensors, not "
                        f"{type(xs).__name__}")
    for k, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must contain only Tensors, but "
                            f"element {k} is {type(x).__name__}")
