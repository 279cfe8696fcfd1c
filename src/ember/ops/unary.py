"""Unary math functions: neg, abs, sign, exp/log families, sqrt/rsqrt, trigonometric and
hyperbolic functions, sigmoid, erf, and rounding (floor, ceil, trunc, round, frac).

Integer and bool inputs of float-valued functions (exp, sin, sqrt, ...) compute in the default
float dtype, as in PyTorch; neg/abs/sign/square keep integer dtypes, and rounding an integer
tensor returns it unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend.special import erf as _special_erf
from ..dtypes import get_default_dtype, int64
from ..errors import DTypeError
from ..tensor import Tensor
from .operands import cast, float_arg, refuse_bool, same_spec, tensor_arg, zeros_like_t
from .registry import Op, apply, tensor_method

NEG = Op("neg", np.negative, lambda ctx, g: (neg(g),), same_spec, save=())
ABS = Op("abs", np.abs, lambda ctx, g: (g * sign(ctx.inputs[0]),), same_spec)
SIGN = Op("sign", lambda a: a.copy() if a.dtype == np.bool_ else np.sign(a),
          lambda ctx, g: (zeros_like_t(g),), same_spec, save=())
EXP = Op("exp", np.exp, lambda ctx, g: (g * ctx.out,), same_spec, save=(), save_out=True)
EXP2 = Op("exp2", np.exp2, lambda ctx, g: (g * ctx.out * math.log(2.0),), same_spec,
          save=(), save_out=True)
EXPM1 = Op("expm1", np.expm1, lambda ctx, g: (g * (ctx.out + 1),), same_spec,
           save=(), save_out=True)
LOG = Op("log", np.log, lambda ctx, g: (g / ctx.inputs[0],), same_spec)
LOG2 = Op("log2", np.log2, lambda ctx, g: (g / (ctx.inputs[0] * math.log(2.0)),), same_spec)
LOG10 = Op("log10", np.log10, lambda ctx, g: (g / (ctx.inputs[0] * math.log(10.0)),), same_spec)
LOG1P = Op("log1p", np.log1p, lambda ctx, g: (g / (ctx.inputs[0] + 1),), same_spec)
SQRT = Op("sqrt", np.sqrt, lambda ctx, g: (g / (ctx.out * 2),), same_spec,
          save=(), save_out=True)
RSQRT = Op("rsqrt", lambda a: 1 / np.sqrt(a),
           lambda ctx, g: (g * ctx.out ** 3 * -0.5,), same_spec, save=(), save_out=True)
SQUARE = Op("square", np.square, lambda ctx, g: (g * ctx.inputs[0] * 2,), same_spec)
RECIPROCAL = Op("reciprocal", np.reciprocal,
                lambda ctx, g: (neg(g) * ctx.out * ctx.out,), same_spec, save=(), save_out=True)
SIN = Op("sin", np.sin, lambda ctx, g: (g * cos(ctx.inputs[0]),), same_spec)
COS = Op("cos", np.cos, lambda ctx, g: (neg(g) * sin(ctx.inputs[0]),), same_spec)
TAN = Op("tan", np.tan, lambda ctx, g: (g * (ctx.out * ctx.out + 1),), same_spec,
         save=(), save_out=True)
ASIN = Op("asin", np.arcsin, lambda ctx, g: (g * rsqrt(1 - square(ctx.inputs[0])),), same_spec)
ACOS = Op("acos", np.arccos, lambda ctx, g: (neg(g) * rsqrt(1 - square(ctx.inputs[0])),),
          same_spec)
ATAN = Op("atan", np.arctan, lambda ctx, g: (g / (square(ctx.inputs[0]) + 1),), same_spec)
SINH = Op("sinh", np.sinh, lambda ctx, g: (g * cosh(ctx.inputs[0]),), same_spec)
COSH = Op("cosh", np.cosh, lambda ctx, g: (g * sinh(ctx.inputs[0]),), same_spec)


def _tanh_vjp(ctx, g):
    out = ctx.out  # read once: each read checks the version and wraps the saved array
    return (g * (1 - out * out),)


TANH = Op("tanh", np.tanh, _tanh_vjp, same_spec, save=(), save_out=True)


def sigmoid_forward(a):
    # 0.5 * (1 + tanh(a / 2)) is sigmoid without overflow warnings for large |a|; an explicit
    # out= keeps 0-d results arrays (a ufunc on a 0-d array returns a scalar)
    out = np.multiply(a, 0.5, out=np.empty_like(a))
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def _sigmoid_vjp(ctx, g):
    out = ctx.out
    return (g * out * (1 - out),)


SIGMOID = Op("sigmoid", sigmoid_forward, _sigmoid_vjp, same_spec, save=(), save_out=True)


ERF = Op("erf", _special_erf,
         lambda ctx, g: (g * exp(neg(square(ctx.inputs[0]))) * (2 / math.sqrt(math.pi)),),
         same_spec)


# ------------------------------------------------------------------------ rounding ops

_ZERO_GRAD = lambda ctx, g: (zeros_like_t(g),)  # noqa: E731  piecewise-constant functions
FLOOR = Op("floor", np.floor, _ZERO_GRAD, same_spec, save=())
CEIL = Op("ceil", np.ceil, _ZERO_GRAD, same_spec, save=())
TRUNC = Op("trunc", np.trunc, _ZERO_GRAD, same_spec, save=())
ROUND = Op("round", lambda a, *, decimals=0: np.round(a, decimals), _ZERO_GRAD, same_spec, save=())
FRAC = Op("frac", lambda a: a - np.trunc(a), lambda ctx, g: (g,), same_spec, save=())


def _unary(op: Op, floating: bool, doc: str):
    """The public function of ``op``; ``floating``: integer inputs compute in the default
    float dtype."""

    def fn(input) -> Tensor:
        x = tensor_arg(input, op.name)
        if floating and not x.dtype.is_floating_point:
            x = cast(x, get_default_dtype())
        return apply(op, (x,))

    fn.__name__ = op.name
    fn.__doc__ = doc
    return fn


neg = negative = _unary(NEG, False, "``-input``.")
_abs = _unary(ABS, False, "|input|.")


def abs(input) -> Tensor:  # noqa: A001  PyTorch's name
    """|input|; not defined for bool, as in PyTorch."""
    x = tensor_arg(input, "abs")
    refuse_bool(x, "abs")
    return _abs(x)


absolute = abs
sign = _unary(SIGN, False, "-1, 0 or 1 by the sign of each element (bools stay bools).")
exp = _unary(EXP, True, "e ** input.")
exp2 = _unary(EXP2, True, "2 ** input.")
expm1 = _unary(EXPM1, True, "exp(input) - 1, accurate near 0.")
log = _unary(LOG, True, "Natural logarithm (-inf at 0, NaN below).")
log2 = _unary(LOG2, True, "Base-2 logarithm.")
log10 = _unary(LOG10, True, "Base-10 logarithm.")
log1p = _unary(LOG1P, True, "log(1 + input), accurate near 0.")
sqrt = _unary(SQRT, True, "Square root (NaN for negative inputs).")
rsqrt = _unary(RSQRT, True, "1 / sqrt(input).")
_square = _unary(SQUARE, False, "input * input.")


def square(input) -> Tensor:
    """``input * input``; bool squares to int64 as in PyTorch."""
    x = tensor_arg(input, "square")
    return _square(cast(x, int64) if x._data.dtype == np.bool_ else x)


reciprocal = _unary(RECIPROCAL, True, "1 / input.")
sin = _unary(SIN, True, "Sine (radians).")
cos = _unary(COS, True, "Cosine (radians).")
tan = _unary(TAN, True, "Tangent (radians).")
asin = arcsin = _unary(ASIN, True, "Inverse sine.")
acos = arccos = _unary(ACOS, True, "Inverse cosine.")
atan = arctan = _unary(ATAN, True, "Inverse tangent.")
sinh = _unary(SINH, True, "Hyperbolic sine.")
cosh = _unary(COSH, True, "Hyperbolic cosine.")
tanh = _unary(TANH, True, "Hyperbolic tangent.")
sigmoid = _unary(SIGMOID, True, "1 / (1 + exp(-input)), without overflow for large |input|.")
erf = _unary(ERF, True, "The error function.")


def frac(input) -> Tensor:
    """The fractional part ``input - trunc(input)`` (sign of the input); floats only."""
    return apply(FRAC, (float_arg(input, "frac"),))


for _name, _fn in [("neg", neg), ("negative", neg), ("__neg__", neg), ("abs", abs),
                   ("absolute", abs), ("__abs__", abs), ("sign", sign), ("exp", exp),
                   ("exp2", exp2), ("expm1", expm1), ("log", log), ("log2", log2),
                   ("log10", log10), ("log1p", log1p), ("sqrt", sqrt), ("rsqrt", rsqrt),
                   ("square", square), ("reciprocal", reciprocal), ("sin", sin), ("cos", cos),
                   ("tan", tan), ("asin", asin), ("arcsin", asin), ("acos", acos),
                   ("arccos", acos), ("atan", atan), ("arctan", atan), ("sinh", sinh),
                   ("cosh", cosh), ("tanh", tanh), ("sigmoid", sigmoid), ("erf", erf),
                   ("frac", frac)]:
    setattr(Tensor, _name, _fn)


# ------------------------------------------------------------------------ rounding


def _rounding(op: Op, doc: str):
    def fn(input) -> Tensor:
        x = tensor_arg(input, op.name)
        if not x.dtype.is_floating_point:
            refuse_bool(x, op.name)
            return x  # PyTorch: rounding an integer tensor is the identity
        return apply(op, (x,))

    fn.__name__ = op.name
    fn.__doc__ = doc
    return fn


floor = tensor_method("floor")(_rounding(FLOOR, "Round down to an integer value."))
ceil = tensor_method("ceil")(_rounding(CEIL, "Round up to an integer value."))
trunc = fix = tensor_method("trunc", "fix")(_rounding(TRUNC, "Round toward zero."))


@tensor_method("round")
def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001  PyTorch's name
    """Round half to even (like PyTorch), optionally to ``decimals`` places."""
    x = tensor_arg(input, "round")
    if not x.dtype.is_floating_point:
        refuse_bool(x, "round")
        if decimals:
            raise DTypeError(f"round: decimals={decimals} needs a floating point tensor, got "
                             f"{x.dtype.name}")
        return x
    return apply(ROUND, (x,), decimals=decimals)


__all__ = [
    "neg", "negative", "abs", "absolute", "sign", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin",
    "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "tanh", "sigmoid", "erf",
    "frac", "floor", "ceil", "trunc", "fix", "round",
]
