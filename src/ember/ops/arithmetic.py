"""Arithmetic: ``+ - * / // % **``, fmod, maximum/minimum, atan2, clamp and lerp.

Operands are promoted with PyTorch's rules (``operands.py``) before NumPy sees them. Integer
division by zero raises (NumPy would give 0), and bools are refused where PyTorch refuses them
(``-``, ``//``, ``%``, ``**``).
"""

from __future__ import annotations

import numpy as np

from ..dtypes import bool_, get_default_dtype, result_type
from ..errors import DTypeError
from ..tensor import Tensor
from .broadcast import sum_to
from .operands import (
    binary,
    binary_operands,
    binary_spec,
    cast,
    float_operands,
    same_spec,
    tensor_arg,
    zeros_like_t,
)
from .registry import Op, apply, as_tensor_arg, tensor_method
from .selection import where
from .unary import log, neg, trunc

# ------------------------------------------------------------------------ arithmetic


def _add_vjp(ctx, g):
    a, b = ctx.inputs  # read once: each read builds the inputs' TensorSpecs
    return sum_to(g, a.shape), sum_to(g, b.shape)


def _sub_vjp(ctx, g):
    a, b = ctx.inputs
    na, nb = ctx.needs_input_grad
    return (sum_to(g, a.shape) if na else None, sum_to(neg(g), b.shape) if nb else None)


ADD = Op("add", np.add, _add_vjp, binary_spec("add"), save=())
SUB = Op("sub", np.subtract, _sub_vjp, binary_spec("sub"), save=())


def _mul_vjp(ctx, g):
    a, b = ctx.inputs
    na, nb = ctx.needs_input_grad
    return (sum_to(g * b, a.shape) if na else None, sum_to(g * a, b.shape) if nb else None)


MUL = Op("mul", np.multiply, _mul_vjp, binary_spec("mul"))


def _div_vjp(ctx, g):
    a, b = ctx.inputs
    na, nb = ctx.needs_input_grad
    ga = sum_to(g / b, a.shape) if na else None
    gb = sum_to(neg(g) * a / (b * b), b.shape) if nb else None
    return ga, gb


DIV = Op("div", np.true_divide, _div_vjp, binary_spec("div"))


def _pow_vjp(ctx, g):
    a, b = ctx.inputs
    na, nb = ctx.needs_input_grad
    ga = gb = None
    if na:
        # where b == 0 the derivative is 0 even at a == 0 (PyTorch's convention)
        ga = sum_to(where(b == 0, 0.0, g * b * pow(a, b - 1)), a.shape)
    if nb:
        gb = sum_to(where((a == 0) & (b >= 0), 0.0, g * pow(a, b) * log(a)), b.shape)
    return ga, gb


def _pow_forward(a, b):
    if b.dtype.kind == "i" and a.dtype.kind in "iu" and (b < 0).any():
        # NumPy refuses integers to negative powers; PyTorch truncates 1/a**|b| toward zero,
        # which leaves only 1 and -1 nonzero
        negative = b < 0
        out = np.power(a, np.where(negative, 0, b).astype(b.dtype))
        inverse = np.where(a == 1, 1, np.where(a == -1, np.where(b & 1, -1, 1), 0))
        return np.where(negative, inverse.astype(out.dtype), out)
    return np.power(a, b)


POW = Op("pow", _pow_forward, _pow_vjp, binary_spec("pow"))
FLOOR_DIVIDE = Op("floor_divide", np.floor_divide, None, binary_spec("floor_divide"))


def _remainder_vjp(ctx, g):
    a, b = ctx.inputs
    na, nb = ctx.needs_input_grad
    ga = sum_to(g, a.shape) if na else None
    gb = sum_to(neg(g) * floor_divide(a, b), b.shape) if nb else None
    return ga, gb


REMAINDER = Op("remainder", np.remainder, _remainder_vjp, binary_spec("remainder"))
FMOD = Op("fmod", np.fmod, lambda ctx, g: (sum_to(g, ctx.inputs[0].shape),
                                           sum_to(neg(g) * trunc(ctx.inputs[0] / ctx.inputs[1]),
                                                  ctx.inputs[1].shape)),
          binary_spec("fmod"))


def _trunc_divide_forward(a, b):
    # integer division rounded toward zero, exact for all of int64 (no detour through floats)
    q = np.floor_divide(a, b)
    q += (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
    return q


TRUNC_DIVIDE = Op("trunc_divide", _trunc_divide_forward, None, binary_spec("trunc_divide"),
                  differentiable=False)


def _check_integer_division(a: Tensor, b: Tensor, op_name: str) -> None:
    """PyTorch refuses bools here and raises on integer division by zero (NumPy gives 0)."""
    if a.dtype is bool_:
        raise DTypeError(f"{op_name}: not implemented for bool tensors")
    if not a.dtype.is_floating_point and not b._data.all():
        raise ZeroDivisionError(f"{op_name}: integer division by zero")


def _integer_division(op: Op, a, b) -> Tensor:
    a, b = binary_operands(a, b, op.name)
    _check_integer_division(a, b, op.name)
    return apply(op, (a, b))


def _minmax_vjp(pick_first):
    def vjp(ctx, g):
        a, b = ctx.inputs
        # ties share the gradient equally, as in PyTorch
        first = pick_first(a, b)
        tie = a == b
        wa = where(tie, 0.5, where(first, 1.0, 0.0))
        wa = cast(wa, g.dtype)
        return sum_to(g * wa, a.shape), sum_to(g * (1 - wa), b.shape)

    return vjp


MAXIMUM = Op("maximum", np.maximum, _minmax_vjp(lambda a, b: a > b), binary_spec("maximum"))
MINIMUM = Op("minimum", np.minimum, _minmax_vjp(lambda a, b: a < b), binary_spec("minimum"))


def _atan2_vjp(ctx, g):
    a, b = ctx.inputs
    denom = a * a + b * b
    return sum_to(g * b / denom, a.shape), sum_to(neg(g) * a / denom, b.shape)


ATAN2 = Op("atan2", np.arctan2, _atan2_vjp, binary_spec("atan2"))


def _scaled(other, alpha, input, op_name: str):
    """``alpha * other`` for add/sub; PyTorch refuses a float alpha on integer operands."""
    if isinstance(alpha, float) or isinstance(alpha, bool):
        dt = result_type(*[x for x in (input, other) if isinstance(x, (Tensor, int, float))])
        if isinstance(alpha, float) and not dt.is_floating_point:
            raise DTypeError(f"{op_name}: alpha must not be a float ({alpha}) for {dt.name} "
                             "operands")
        if isinstance(alpha, bool) and dt is not bool_:
            raise DTypeError(f"{op_name}: a bool alpha is only allowed for bool operands")
    return mul(other, alpha)


@tensor_method("add", "__add__", "__radd__")
def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion."""
    if alpha != 1 or alpha is True:
        other = _scaled(other, alpha, input, "add")
    return binary(ADD, input, other)


_NP_BOOL = np.dtype(np.bool_)


def _is_bool(x) -> bool:
    return x._data.dtype is _NP_BOOL if isinstance(x, Tensor) else type(x) is bool


def _check_no_bool(input, other) -> None:
    """PyTorch refuses ``-`` on bools (it would be xor or logical_not, not arithmetic)."""
    a_bool, b_bool = _is_bool(input), _is_bool(other)
    if a_bool and b_bool:
        raise DTypeError("sub: subtracting two bools is not supported; use the ^ operator "
                         "or logical_xor() instead")
    if a_bool or b_bool:
        raise DTypeError("sub: subtraction with a bool tensor or bool number is not supported;"
                         " to invert a mask use the ~ operator or logical_not() instead")


@tensor_method("sub", "subtract", "__sub__")
def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting and type promotion; bools are refused."""
    _check_no_bool(input, other)
    if alpha != 1 or alpha is True:
        other = _scaled(other, alpha, input, "sub")
    return binary(SUB, input, other)


subtract = sub


@tensor_method("__rsub__")
def _rsub(input, other) -> Tensor:
    _check_no_bool(other, input)
    return binary(SUB, other, input)


@tensor_method("mul", "multiply", "__mul__", "__rmul__")
def mul(input, other) -> Tensor:
    """``input * other`` with broadcasting and type promotion."""
    return binary(MUL, input, other)


multiply = mul


@tensor_method("div", "divide", "true_divide", "__truediv__")
def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division; ``rounding_mode`` 'floor' or 'trunc' rounds the quotient."""
    if rounding_mode is None:
        return apply(DIV, float_operands(input, other, "div"))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = binary_operands(input, other, "div")
        if a.dtype.is_floating_point:
            return trunc(apply(DIV, (a, b)))
        _check_integer_division(a, b, "div")
        return apply(TRUNC_DIVIDE, (a, b))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


divide = true_divide = div


@tensor_method("__rtruediv__")
def _rdiv(input, other) -> Tensor:
    return apply(DIV, float_operands(other, input, "div"))


@tensor_method("floor_divide", "__floordiv__")
def floor_divide(input, other) -> Tensor:
    """Division rounded toward negative infinity (Python's ``//``); not differentiable."""
    return _integer_division(FLOOR_DIVIDE, input, other)


@tensor_method("__rfloordiv__")
def _rfloordiv(input, other) -> Tensor:
    return _integer_division(FLOOR_DIVIDE, other, input)


@tensor_method("remainder", "__mod__")
def remainder(input, other) -> Tensor:
    """Python's ``%``: the result has the sign of the divisor."""
    return _integer_division(REMAINDER, input, other)


@tensor_method("__rmod__")
def _rmod(input, other) -> Tensor:
    return _integer_division(REMAINDER, other, input)


@tensor_method("fmod")
def fmod(input, other) -> Tensor:
    """C's fmod: the result has the sign of the dividend."""
    return _integer_division(FMOD, input, other)


@tensor_method("pow", "__pow__")
def pow(input, exponent) -> Tensor:
    """``input ** exponent``; integer tensors to negative integer powers raise like PyTorch."""
    a, b = binary_operands(input, exponent, "pow")
    if a.dtype is bool_:
        raise DTypeError("pow: not implemented for bool tensors")
    if type(exponent) is int and exponent < 0 and not a.dtype.is_floating_point:
        raise ValueError(f"pow: integers to negative integer powers are not allowed "
                         f"({a.dtype.name} tensor ** {exponent}); use a float exponent")
    return apply(POW, (a, b))


@tensor_method("__rpow__")
def _rpow(input, other) -> Tensor:
    return pow(other, input)


@tensor_method("maximum")
def maximum(input, other) -> Tensor:
    """Elementwise maximum; ties split the gradient equally."""
    return binary(MAXIMUM, input, other)


@tensor_method("minimum")
def minimum(input, other) -> Tensor:
    """Elementwise minimum; ties split the gradient equally."""
    return binary(MINIMUM, input, other)


@tensor_method("atan2", "arctan2")
def atan2(input, other) -> Tensor:
    """The angle of the point (``other``, ``input``), i.e. atan(input / other) in the right
    quadrant."""
    return apply(ATAN2, float_operands(input, other, "atan2"))


arctan2 = atan2


# ------------------------------------------------------------------------ clamp, lerp


def _clamp_vjp(ctx, g):
    x = ctx.inputs[0]
    lo, hi = ctx.attrs["min"], ctx.attrs["max"]
    keep = None
    if lo is not None:
        keep = x >= lo
    if hi is not None:
        keep = (x <= hi) if keep is None else keep & (x <= hi)
    return (where(keep, g, zeros_like_t(g)),)


CLAMP = Op("clamp", lambda a, *, min, max: np.clip(a, min, max), _clamp_vjp, same_spec)


@tensor_method("clamp", "clip")
def clamp(input, min=None, max=None) -> Tensor:  # noqa: A002  PyTorch's names
    """Limit values to [min, max]; either bound may be None, or a tensor (broadcast)."""
    x = tensor_arg(input, "clamp")
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if not x.dtype.is_floating_point and (isinstance(min, float) or isinstance(max, float)):
        x = cast(x, get_default_dtype())
    return apply(CLAMP, (x,), min=min, max=max)


clip = clamp


@tensor_method("lerp")
def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    input = as_tensor_arg(input, "input", "lerp")
    end = as_tensor_arg(end, "end", "lerp")
    if not isinstance(weight, (int, float)):
        weight = as_tensor_arg(weight, "weight", "lerp")
    if not (input.dtype.is_floating_point and end.dtype.is_floating_point):
        raise DTypeError(
            f"lerp: expected floating point tensors, got input {input.dtype.name} and end "
            f"{end.dtype.name}"
        )
    return add(input, mul(weight, sub(end, input)))


__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "maximum", "minimum", "atan2", "arctan2",
    "clamp", "clip", "lerp",
]
