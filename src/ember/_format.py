"""PyTorch-style printing: ``tensor([[1.0000, 2.5000]], requires_grad=True)``.

The layout follows PyTorch's printer (precision 4, 80 columns, tensors of more than 1000
elements summarized to their first and last 3 items per dimension) so that a port prints the
same text. One formatter is chosen per tensor from its (summarized) values:

- floats that are all integers print as ``1.`` unless their range calls for scientific form;
- other floats print with 4 decimals, or as ``1.0000e-05`` when the nonzero magnitudes span
  more than 1000x, exceed 1e8 or go below 1e-4;
- every element is right-aligned to the widest nonzero finite value.
"""

from __future__ import annotations

import numpy as np

from .dtypes import get_default_dtype

PRECISION = 4
LINE_WIDTH = 80
THRESHOLD = 1000
EDGE_ITEMS = 3


class _Formatter:
    """Chooses the text form of one tensor's elements (see the module docstring)."""

    def __init__(self, values: np.ndarray):
        self.kind = values.dtype.kind
        self.sci = False
        self.int_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if self.kind != "f":
            if flat.size:
                self.width = max(len(self._plain(v)) for v in flat.tolist())
            return
        finite = flat[np.isfinite(flat)].astype(np.float64)
        nonzero = np.abs(finite[finite != 0])
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if nonzero.size == 0:
            return
        big, small = nonzero.max(), nonzero.min()
        if self.int_mode:
            self.sci = bool(big / small > 1000.0 or big > 1.0e8)
        else:
            self.sci = bool(big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4)
        # the width comes from the nonzero finite values; nan, inf and 0 only get padded
        self.width = max(len(self._plain(v)) for v in finite[finite != 0].tolist())

    def _plain(self, v) -> str:
        if self.kind == "b":
            return "True" if v else "False"
        if self.kind != "f":
            return str(v)
        if not np.isfinite(v):
            return str(float(v))  # nan, inf, -inf
        if self.sci:
            return f"{v:.{PRECISION}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{PRECISION}f}"

    def __call__(self, v) -> str:
        return self._plain(v).rjust(self.width)


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (first and last EDGE_ITEMS along each axis)."""
    for axis in range(arr.ndim):
        n = arr.shape[axis]
        if n > 2 * EDGE_ITEMS:
            keep = list(range(EDGE_ITEMS)) + list(range(n - EDGE_ITEMS, n))
            arr = np.take(arr, keep, axis=axis)
    return arr


def _vector(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, (LINE_WIDTH - indent) // (fmt.width + 2))
    if summarize and arr.shape[0] > 2 * EDGE_ITEMS:
        items = ([fmt(v) for v in arr[:EDGE_ITEMS].tolist()] + [" ..."]
                 + [fmt(v) for v in arr[-EDGE_ITEMS:].tolist()])
    else:
        items = [fmt(v) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    n = arr.shape[0]
    if summarize and n > 2 * EDGE_ITEMS:
        rows = ([_nested(arr[i], indent + 1, summarize, fmt) for i in range(EDGE_ITEMS)]
                + ["..."]
                + [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n - EDGE_ITEMS, n)])
    else:
        rows = [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    # one blank line between the blocks of a 3-d tensor, two for 4-d, ...
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def format_tensor(t) -> str:
    """``repr(t)`` in PyTorch's layout, with ``ember.`` in place of ``torch.``."""
    arr = t._data
    prefix = "tensor("
    suffixes = []
    name = arr.dtype.name
    default_float = get_default_dtype().name
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if name != default_float:  # nothing to infer the dtype from
            suffixes.append(f"dtype=ember.{name}")
    else:
        summarize = arr.size > THRESHOLD
        fmt = _Formatter(_summarized(arr) if summarize else arr)
        body = fmt(arr.item()) if arr.ndim == 0 else _nested(arr, len(prefix), summarize, fmt)
        if name not in (default_float, "int64", "bool"):
            suffixes.append(f"dtype=ember.{name}")
    if t._node is not None:
        suffixes.append(f"grad_fn=<{t._node.name}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
