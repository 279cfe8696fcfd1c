"""Lowerings of reductions, scans and the softmax family.

ember's reduction ``dim`` attribute is ``None`` (every dimension), an int, or a tuple of
non-negative ints. At opset 17 ``ReduceSum`` takes its axes as an input while
``ReduceMean``/``ReduceMax``/``ReduceMin``/``ReduceProd``/``ReduceLogSumExp`` take an
attribute; the helpers hide the difference.
"""

from __future__ import annotations

import numpy as np


def _axes(dim, ndim: int) -> list:
    if dim is None:
        return list(range(ndim))
    if isinstance(dim, (tuple, list)):
        return [int(d) % max(ndim, 1) for d in dim]
    return [int(dim) % max(ndim, 1)]


def _reduce(b, onnx_op, x, axes, keepdim):
    if not axes:  # 0-d input, or an empty dim tuple: nothing to reduce
        return b.op("Identity", [x])
    if onnx_op == "ReduceSum":
        return b.op(onnx_op, [x, b.ints(axes)], keepdims=int(bool(keepdim)))
    return b.op(onnx_op, [x], axes=axes, keepdims=int(bool(keepdim)))


def _reduction(onnx_op: str):
    def lower(b, node, ins):
        x = node.inputs[0]
        src = b.cast(ins[0], x.dtype, node.outputs[0].dtype)
        return _reduce(b, onnx_op, src, _axes(node.attrs.get("dim"), len(x.shape)),
                       node.attrs.get("keepdim", False))

    lower.__doc__ = f"``{onnx_op}`` over ``dim`` (in the output dtype)."
    return lower


def mean(b, node, ins):
    """``ReduceMean`` (integer inputs are cast to the float output first)."""
    return _reduction("ReduceMean")(b, node, ins)


def var(b, node, ins):
    """``sum((x - mean)^2) / (n - correction)``."""
    x = node.inputs[0]
    axes = _axes(node.attrs["dim"], len(x.shape))
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    dt = node.outputs[0].dtype
    centered = b.op("Sub", [ins[0], _reduce(b, "ReduceMean", ins[0], axes, True)])
    total = _reduce(b, "ReduceSum", b.op("Mul", [centered, centered]), axes,
                    node.attrs["keepdim"])
    denom = max(n - node.attrs["correction"], 0)
    return b.op("Div", [total, b.scalar(denom, dt)])


def logsumexp(b, node, ins):
    """``max + log(sum(exp(x - max)))`` (stable; ONNX's ReduceLogSumExp is not in every
    runtime)."""
    x = node.inputs[0]
    axes = _axes(node.attrs["dim"], len(x.shape))
    if not axes:
        return b.op("Identity", ins)
    keep = node.attrs["keepdim"]
    top = _reduce(b, "ReduceMax", ins[0], axes, True)
    # an infinite maximum is not subtracted (inf - inf would give NaN)
    dt = node.outputs[0].dtype
    finite = b.op("Where", [b.op("IsInf", [top]), b.scalar(0.0, dt), top])
    s = _reduce(b, "ReduceSum", b.op("Exp", [b.op("Sub", [ins[0], finite])]), axes, keep)
    shift = finite if keep else b.op("Squeeze", [finite, b.ints(axes)])
    return b.op("Add", [b.op("Log", [s]), shift])


def _arg(onnx_op: str):
    def lower(b, node, ins):
        dim = node.attrs["dim"]
        x = ins[0]
        if dim is None or len(node.inputs[0].shape) == 0:
            flat = b.op("Reshape", [x, b.ints([-1])])
            out = b.op(onnx_op, [flat], axis=0, keepdims=0)
            if node.attrs["keepdim"] and node.outputs[0].shape:
                out = b.op("Reshape", [out, b.ints(node.outputs[0].shape)])
            return out
        return b.op(onnx_op, [x], axis=int(dim), keepdims=int(bool(node.attrs["keepdim"])))

    lower.__doc__ = f"``{onnx_op}`` (the flattened input when ``dim`` is None)."
    return lower


def _values(onnx_op: str):
    def lower(b, node, ins):  # inputs: the tensor, and its arg index (for the vjp only)
        x = node.inputs[0]
        return _reduce(b, onnx_op, ins[0], _axes(node.attrs["dim"], len(x.shape)),
                       node.attrs["keepdim"])

    lower.__doc__ = f"``{onnx_op}`` along ``dim`` (the values of max/min with a dim)."
    return lower


def cumsum(b, node, ins):
    """``CumSum`` along ``dim`` (``reverse`` kept)."""
    x = node.inputs[0]
    src = b.cast(ins[0], x.dtype, node.outputs[0].dtype)
    if len(x.shape) == 0:
        return b.op("Identity", [src])
    axis = b.const(np.asarray(int(node.attrs["dim"]), np.int64))
    return b.op("CumSum", [src, axis], reverse=int(bool(node.attrs.get("reverse", False))))


def softmax(b, node, ins):
    """``Softmax`` over ``dim``."""
    return b.op("Softmax", ins, axis=int(node.attrs["dim"]))


def log_softmax(b, node, ins):
    """``LogSoftmax`` over ``dim``."""
    return b.op("LogSoftmax", ins, axis=int(node.attrs["dim"]))


def softmax_sum(b, node, ins):
    """``ReduceSum`` keepdim over ``dim``."""
    return _reduce(b, "ReduceSum", ins[0], _axes(node.attrs["dim"], len(node.inputs[0].shape)),
                   True)


def _logical(onnx_op: str):
    def lower(b, node, ins):
        x = node.inputs[0]
        as_int = b.cast(b.cast(ins[0], x.dtype, np.bool_), np.bool_, np.int64)
        red = _reduce(b, onnx_op, as_int, _axes(node.attrs.get("dim"), len(x.shape)),
                      node.attrs.get("keepdim", False))
        return b.cast(red, np.int64, np.bool_)

    lower.__doc__ = f"``{onnx_op}`` of the input as 0/1 integers, back to bool."
    return lower


def count_nonzero(b, node, ins):
    """``ReduceSum`` of ``x != 0``."""
    x = node.inputs[0]
    nz = b.op("Not", [b.op("Equal", [ins[0], b.scalar(0, x.dtype)])])
    return _reduce(b, "ReduceSum", b.cast(nz, np.bool_, np.int64),
                   _axes(node.attrs.get("dim"), len(x.shape)), False)


LOWERINGS = {
    "sum": _reduction("ReduceSum"), "mean": mean, "prod": _reduction("ReduceProd"),
    "amax": _reduction("ReduceMax"), "amin": _reduction("ReduceMin"),
    "var": var, "logsumexp": logsumexp,
    "argmax": _arg("ArgMax"), "argmin": _arg("ArgMin"),
    "max_dim": _values("ReduceMax"), "min_dim": _values("ReduceMin"),
    "cumsum": cumsum, "softmax": softmax, "log_softmax": log_softmax,
    "softmax_sum": softmax_sum, "all": _logical("ReduceMin"), "any": _logical("ReduceMax"),
    "count_nonzero": count_nonzero,
}
