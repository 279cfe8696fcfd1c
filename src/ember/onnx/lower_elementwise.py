"""Lowerings of elementwise ops: unary math, arithmetic, comparisons, activations, where/cast.

Each function takes ``(b, node, ins)``: the :class:`~ember.onnx._builder.Builder`, the ember
IR node, and the ONNX names of its inputs; it returns the ONNX name(s) of its output(s).
ember promotes operands before an op runs, but a Python scalar may still arrive as a 0-d
constant of another dtype, so arithmetic inputs are cast to the output dtype first (ONNX
requires equal input types).
"""

from __future__ import annotations

import math

import numpy as np

from ._builder import Unsupported
from .proto import onnx_dtype


def _same_type_inputs(b, node, ins, dtype=None) -> list:
    """``ins`` cast to ``dtype`` (default: the output dtype) where they differ."""
    dtype = node.outputs[0].dtype if dtype is None else dtype
    return [b.cast(name, v.dtype, dtype) for name, v in zip(ins, node.inputs)]


def _unary(onnx_op: str):
    def lower(b, node, ins):
        return b.op(onnx_op, _same_type_inputs(b, node, ins))

    lower.__doc__ = f"One ONNX ``{onnx_op}`` node."
    return lower


def _binary(onnx_op: str):
    def lower(b, node, ins):
        return b.op(onnx_op, _same_type_inputs(b, node, ins))

    lower.__doc__ = f"One ONNX ``{onnx_op}`` node on inputs cast to the output dtype."
    return lower


def _compare(onnx_op: str, negate: bool = False):
    def lower(b, node, ins):
        common = np.result_type(*[v.dtype for v in node.inputs])
        out = b.op(onnx_op, _same_type_inputs(b, node, ins, common))
        return b.op("Not", [out]) if negate else out

    lower.__doc__ = f"ONNX ``{onnx_op}`` on inputs cast to their common dtype."
    return lower


def _dt(node):
    return node.outputs[0].dtype


def rsqrt(b, node, ins):
    """``1 / sqrt(x)``."""
    return b.op("Reciprocal", [b.op("Sqrt", ins)])


def square(b, node, ins):
    """``x * x``."""
    return b.op("Mul", [ins[0], ins[0]])


def exp2(b, node, ins):
    """``2 ** x``."""
    return b.op("Pow", [b.scalar(2.0, _dt(node)), ins[0]])


def expm1(b, node, ins):
    """``exp(x) - 1`` (ONNX has no expm1; exact enough in float32 for |x| not tiny)."""
    return b.op("Sub", [b.op("Exp", ins), b.scalar(1.0, _dt(node))])


def _log_base(base: float):
    def lower(b, node, ins):
        return b.op("Div", [b.op("Log", ins), b.scalar(math.log(base), _dt(node))])

    lower.__doc__ = f"``log(x) / log({base:g})``."
    return lower


def log1p(b, node, ins):
    """``log(1 + x)``."""
    return b.op("Log", [b.op("Add", [ins[0], b.scalar(1.0, _dt(node))])])


def _trunc(b, name, dtype):
    # ONNX has no Trunc: sign(x) * floor(|x|)
    return b.op("Mul", [b.op("Sign", [name]), b.op("Floor", [b.op("Abs", [name])])])


def trunc(b, node, ins):
    """Round toward zero."""
    return _trunc(b, ins[0], _dt(node))


def frac(b, node, ins):
    """``x - trunc(x)``."""
    return b.op("Sub", [ins[0], _trunc(b, ins[0], _dt(node))])


def round_(b, node, ins):
    """``Round`` (half to even, like NumPy), scaled by ``10**decimals`` when given."""
    decimals = node.attrs.get("decimals", 0)
    if not decimals:
        return b.op("Round", ins)
    scale = b.scalar(10.0 ** decimals, _dt(node))
    return b.op("Div", [b.op("Round", [b.op("Mul", [ins[0], scale])]), scale])


def sign(b, node, ins):
    """``Sign``; a bool input is its own sign."""
    if node.inputs[0].dtype == np.bool_:
        return b.op("Identity", ins)
    return b.op("Sign", ins)


def silu(b, node, ins):
    """``x * sigmoid(x)``."""
    return b.op("Mul", [ins[0], b.op("Sigmoid", ins)])


def gelu(b, node, ins):
    """``x * Phi(x)`` with the erf form, or the tanh approximation when asked for."""
    x, dt = ins[0], _dt(node)
    half = b.scalar(0.5, dt)
    one = b.scalar(1.0, dt)
    if node.attrs.get("approximate", "none") == "tanh":
        cube = b.op("Mul", [b.op("Mul", [x, x]), x])
        inner = b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044715, dt)])])
        t = b.op("Tanh", [b.op("Mul", [inner, b.scalar(math.sqrt(2.0 / math.pi), dt)])])
        return b.op("Mul", [b.op("Mul", [x, half]), b.op("Add", [t, one])])
    # written as Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5: the pattern ONNX
    # Runtime's GeluFusion recognises (one fused Gelu kernel instead of five passes)
    e = b.op("Erf", [b.op("Div", [x, b.scalar(math.sqrt(2.0), dt)])])
    return b.op("Mul", [b.op("Mul", [x, b.op("Add", [e, one])]), half])


def leaky_relu(b, node, ins):
    """``LeakyRelu``."""
    return b.op("LeakyRelu", ins, alpha=float(node.attrs["negative_slope"]))


def elu(b, node, ins):
    """``Elu``."""
    return b.op("Elu", ins, alpha=float(node.attrs["alpha"]))


def softplus(b, node, ins):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``."""
    x, dt = ins[0], _dt(node)
    beta, threshold = float(node.attrs["beta"]), float(node.attrs["threshold"])
    bx = b.op("Mul", [x, b.scalar(beta, dt)]) if beta != 1.0 else x
    soft = b.op("Softplus", [bx])
    if beta != 1.0:
        soft = b.op("Div", [soft, b.scalar(beta, dt)])
    return b.op("Where", [b.op("Greater", [bx, b.scalar(threshold, dt)]), x, soft])


def _clip(b, node, ins, lo, hi):
    dt = _dt(node)
    x = ins[0]
    if (lo is None or np.ndim(lo) == 0) and (hi is None or np.ndim(hi) == 0):
        return b.op("Clip", [x, None if lo is None else b.scalar(lo, dt),
                             None if hi is None else b.scalar(hi, dt)])
    if lo is not None:  # tensor bounds broadcast: Max/Min instead of Clip's scalars
        x = b.op("Max", [x, b.const(np.asarray(lo, dt))])
    if hi is not None:
        x = b.op("Min", [x, b.const(np.asarray(hi, dt))])
    return x


def clamp(b, node, ins):
    """``Clip`` with scalar bounds, ``Max``/``Min`` with array bounds."""
    return _clip(b, node, ins, node.attrs.get("min"), node.attrs.get("max"))


def hardtanh(b, node, ins):
    """``Clip(min_val, max_val)``."""
    return _clip(b, node, ins, node.attrs["min_val"], node.attrs["max_val"])


def remainder(b, node, ins):
    """Python's ``%`` (sign of the divisor): ``Mod`` for integers, ``a - floor(a/b)*b``
    for floats (ONNX's float Mod is C's fmod)."""
    a, c = _same_type_inputs(b, node, ins)
    if np.issubdtype(_dt(node), np.integer):
        return b.op("Mod", [a, c], fmod=0)
    return b.op("Sub", [a, b.op("Mul", [b.op("Floor", [b.op("Div", [a, c])]), c])])


def fmod(b, node, ins):
    """C's ``fmod`` (sign of the dividend)."""
    return b.op("Mod", _same_type_inputs(b, node, ins), fmod=1)


def floor_divide(b, node, ins):
    """``floor(a / b)`` for floats."""
    a, c = _same_type_inputs(b, node, ins)
    if np.issubdtype(_dt(node), np.integer):
        raise Unsupported("integer floor division has no ONNX lowering yet")
    return b.op("Floor", [b.op("Div", [a, c])])


def where(b, node, ins):
    """``Where`` with the branches cast to the output dtype."""
    cond = b.cast(ins[0], node.inputs[0].dtype, np.bool_)
    dt = _dt(node)
    return b.op("Where", [cond, b.cast(ins[1], node.inputs[1].dtype, dt),
                          b.cast(ins[2], node.inputs[2].dtype, dt)])


def cast(b, node, ins):
    """``Cast`` to the output dtype."""
    return b.op("Cast", ins, to=onnx_dtype(_dt(node)))


def identity(b, node, ins):
    """A value that is its input (clone, contiguous, alias)."""
    return b.op("Identity", ins[:1])


def is_nan(b, node, ins):
    """``IsNaN``."""
    return b.op("IsNaN", ins)


def is_inf(b, node, ins):
    """``IsInf``."""
    return b.op("IsInf", ins)


LOWERINGS = {
    **{name: _unary(op) for name, op in {
        "neg": "Neg", "abs": "Abs", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
        "reciprocal": "Reciprocal", "sin": "Sin", "cos": "Cos", "tan": "Tan",
        "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
        "tanh": "Tanh", "sigmoid": "Sigmoid", "erf": "Erf", "floor": "Floor",
        "ceil": "Ceil", "relu": "Relu", "logical_not": "Not",
    }.items()},
    **{name: _binary(op) for name, op in {
        "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
        "maximum": "Max", "minimum": "Min", "logical_and": "And", "logical_or": "Or",
        "logical_xor": "Xor",
    }.items()},
    "eq": _compare("Equal"), "ne": _compare("Equal", negate=True),
    "lt": _compare("Less"), "le": _compare("LessOrEqual"),
    "gt": _compare("Greater"), "ge": _compare("GreaterOrEqual"),
    "rsqrt": rsqrt, "square": square, "exp2": exp2, "expm1": expm1,
    "log2": _log_base(2.0), "log10": _log_base(10.0), "log1p": log1p,
    "trunc": trunc, "frac": frac, "round": round_, "sign": sign,
    "silu": silu, "gelu": gelu, "leaky_relu": leaky_relu, "elu": elu, "softplus": softplus,
    "clamp": clamp, "hardtanh": hardtanh, "remainder": remainder, "fmod": fmod,
    "floor_divide": floor_divide, "where": where, "cast": cast,
    "clone": identity, "contiguous": identity, "alias": identity, "stale_view": identity,
    "isnan": is_nan, "isinf": is_inf,
}
