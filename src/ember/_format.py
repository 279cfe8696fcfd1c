"""PyTorch-style printing: ``tensor([[1.0000, 2.5000]], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

_DEFAULT_SHOWN = ("float32", "int64", "bool")


def _float_formatter(arr: np.ndarray):
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    if np.all(finite == np.round(finite)) and np.max(np.abs(finite)) < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    nonzero = np.abs(finite[finite != 0])
    big, small = (nonzero.max(), nonzero.min()) if nonzero.size else (0.0, 0.0)
    if nonzero.size and (big / small > 1000 or big > 1e8 or small < 1e-4):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _edges(arr: np.ndarray, k: int = 3) -> np.ndarray:
    """The elements a summarized print shows (first and last ``k`` along each axis)."""
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * k:
            arr = np.concatenate([np.take(arr, range(k), axis),
                                  np.take(arr, range(arr.shape[axis] - k, arr.shape[axis]), axis)],
                                 axis)
    return arr


def format_tensor(t) -> str:
    arr = t._data
    prefix = "tensor("
    if arr.dtype.kind == "f":
        fmt = _float_formatter((arr if arr.size <= 1000 else _edges(arr)).astype(np.float64))
        formatter = {"float_kind": fmt}
    elif arr.dtype.kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
    else:
        formatter = {"int": lambda v: str(v)}
    if arr.size and formatter:
        kind, fn = next(iter(formatter.items()))
        shown = arr if arr.size <= 1000 else _edges(arr)
        width = max(len(fn(v)) for v in shown.reshape(-1).tolist())
        formatter = {kind: lambda v, fn=fn, w=width: fn(v).rjust(w)}
    if arr.size == 0:
        body = "[]" if arr.ndim == 1 else f"[], size={tuple(arr.shape)}"
    else:
        body = np.array2string(arr, separator=", ", prefix=prefix, formatter=formatter,
                               threshold=1000, edgeitems=3, max_line_width=80)
    extras = []
    name = arr.dtype.name
    if name not in _DEFAULT_SHOWN or arr.size == 0 and name != "float32":
        extras.append(f"dtype=ember.{name}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    tail = "".join(", " + e for e in extras)
    return f"{prefix}{body}{tail})"
