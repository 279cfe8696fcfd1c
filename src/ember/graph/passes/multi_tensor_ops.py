"""The ops and run-time helpers of the multi-tensor update (``passes/multi_tensor.py``).

The pass adds a few nodes that are not registry ops (they exist only in compiled graphs):
``flat_concat`` (per-run tensors of a batch, one flat array), ``stack_scalars`` (per-run
0-d values, one vector), ``segment_expand`` (a per-parameter vector widened to one entry per
element) and ``per_segment`` (a scalar op that is not correctly rounded, applied once per
parameter on 0-d arrays, as eager does). :func:`adopt` is the arena guard the executor runs;
:func:`laid_out` finds an arena an earlier trace made; :func:`exact` says which ops batch.
"""

from __future__ import annotations

import numpy as np

# ufuncs whose result is the correctly rounded value of the exact one (or exact): the same
# for an element whatever the array around it, so batching cannot change a bit
EXACT_UFUNCS = frozenset((
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "positive", "sqrt",
    "absolute", "fabs", "maximum", "minimum", "fmax", "fmin", "square", "reciprocal", "sign",
    "floor", "ceil", "trunc", "rint", "copysign", "greater", "greater_equal", "less",
    "less_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "isnan", "isinf",
    "isfinite",
))
EXACT_SPECIAL = frozenset(("relu", "cast", "where", "relu_backward"))


class _HelperOp:
    """A graph op made by this pass (not in the registry): name + NumPy-level forward."""

    stateful = False
    differentiable = False

    def __init__(self, name: str, forward):
        self.name = name
        self.forward = forward

    def __repr__(self) -> str:
        return f"<ember op {self.name}>"


def flat_concat(*arrays):
    return np.concatenate([a.reshape(-1) for a in arrays])


def _stack_scalars(*arrays):
    return np.stack(arrays)


def _segment_expand(vec, *, counts):
    # one bit pattern for every parameter (the usual case: step counters move together, one
    # lr): the 0-d value broadcasts, element for element the same operand as the repeat
    b = _bits(vec)
    if b.min() == b.max():
        return vec[0, ...].copy()  # a copy: the planner may reuse vec's buffer (fresh op)
    return np.repeat(vec, counts)


FLAT_CONCAT = _HelperOp("flat_concat", flat_concat)
STACK_SCALARS = _HelperOp("stack_scalars", _stack_scalars)
SEGMENT_EXPAND = _HelperOp("segment_expand", _segment_expand)


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.itemsize in (1, 2, 4, 8) else a


def per_segment(op, attrs: dict, vec: tuple, n: int, dtype):
    """``op`` applied once per parameter on 0-d arrays (exactly the eager calls); once in
    all when every vector argument holds one bit pattern (Adam's step counters, usually)."""
    fwd = op.forward

    def forward(*args):
        out = np.empty(n, dtype)
        if all(not v or (b := _bits(a)).min() == b.max() for a, v in zip(args, vec)):
            out[...] = fwd(*[a[0, ...] if v else a for a, v in zip(args, vec)], **attrs)
            return out
        for i in range(n):
            out[i] = fwd(*[a[i, ...] if v else a for a, v in zip(args, vec)], **attrs)
        return out

    return _HelperOp("per_segment", forward)


def adopt(pairs: list) -> None:
    """Rebind every tensor of an arena to its view, copying in values it got elsewhere."""
    for t, view in pairs:
        if t._data is not view:
            view[...] = t._data
            t._data = view


def exact(node) -> bool:
    """Whether ``node``'s op gives an element the same bits whatever array it is in."""
    fwd = node.op.forward
    if isinstance(fwd, np.ufunc):
        return fwd.__name__ in EXACT_UFUNCS
    return node.op.name in EXACT_SPECIAL


def laid_out(ts, sizes: list, n: int, dtype):
    """The flat array ``ts`` already fill in order (an arena of an earlier trace of the same
    step), or None. Reusing it keeps every tensor's ``_data`` and spares the graphs of two
    traces from copying the tensors back and forth."""
    base = ts[0]._data.base
    if not (isinstance(base, np.ndarray) and base.ndim == 1 and base.size == n
            and base.dtype == dtype and base.flags.c_contiguous):
        return None
    start = base.__array_interface__["data"][0]
    off = 0
    for t, size in zip(ts, sizes):
        a = t._data
        if (a.base is not base or not a.flags.c_contiguous
                or a.__array_interface__["data"][0] != start + off * base.itemsize):
            return None
        off += size
    return base


def suitable(t, shape, dtype) -> bool:
    """Whether tensor ``t`` can move into an arena (its own C-contiguous writable memory)."""
    a = t._data
    return (isinstance(a, np.ndarray) and a.shape == shape and a.dtype == dtype
            and a.flags.c_contiguous and a.flags.writeable and t._base is None)


__all__ = ["EXACT_SPECIAL", "EXACT_UFUNCS", "FLAT_CONCAT", "SEGMENT_EXPAND", "STACK_SCALARS",
           "adopt", "exact", "flat_concat", "laid_out", "per_segment",
           "suitable"]
