"""Elementwise ops: arithmetic, math functions, activations, comparisons, logic.

Each primitive is one ``Op`` line: NumPy forward, a vjp written with ember ops, and an infer
rule. Binary ops apply PyTorch's type promotion (``dtypes.result_type``) before NumPy sees the
arrays, so ``int_tensor * 1.5`` is float32 as in PyTorch, not float64 as in NumPy.
"""

from __future__ import annotations

import math

import numpy as np

from ..dtypes import DType, bool_, get_default_dtype, int64, result_type
from ..errors import DTypeError
from ..tensor import Tensor, _make
from .broadcast import broadcast_shapes, sum_to
from .registry import Op, TensorSpec, apply, tensor_method

# ------------------------------------------------------------------------ infer rules


def same_spec(a: TensorSpec, **_) -> TensorSpec:
    return a


def bool_spec(a: TensorSpec, **_) -> TensorSpec:
    return TensorSpec(a.shape, bool_)


def binary_spec(op_name: str):
    def infer(a: TensorSpec, b: TensorSpec, **_) -> TensorSpec:
        shape = broadcast_shapes(a.shape, b.shape, op=op_name)
        dtype = a.dtype if a.dtype is b.dtype else result_type(a, b)
        return TensorSpec(shape, dtype)

    return infer


def compare_spec(op_name: str):
    inner = binary_spec(op_name)

    def infer(a, b, **_):
        return TensorSpec(inner(a, b).shape, bool_)

    return infer


# ------------------------------------------------------------------------ operands


def _const(value, dtype: DType, op_name: str = "") -> Tensor:
    try:
        return _make(np.asarray(value, dtype=dtype.np))
    except OverflowError:
        return _make(_wrapped_int(value, dtype, op_name))


def _wrapped_int(value: int, dtype: DType, op_name: str) -> np.ndarray:
    """A Python int outside ``dtype``'s range, wrapped modulo 2**64 as PyTorch does
    (``uint8_tensor + 300`` adds 44); ints beyond what 64 bits hold are an error."""
    if type(value) is not int or not -(2**63) <= value < 2**64:
        raise DTypeError(
            f"{op_name}: the Python int {_int_text(value)} does not fit in {dtype.name} "
            "(nor in int64 or uint64, the widest integers ember can wrap it from)"
        ) from None
    return np.asarray(value % 2**64, dtype=np.uint64).astype(dtype.np)


def _int_text(value) -> str:
    if type(value) is int and value > 0 and value & (value - 1) == 0:
        return f"2**{value.bit_length() - 1}"  # 1180591620717411303424 says less than 2**70
    return repr(value)


def _binary_operands(a, b, op_name: str):
    """Both operands as tensors of their promoted dtype (PyTorch's rules)."""
    a_is_t = isinstance(a, Tensor)
    b_is_t = isinstance(b, Tensor)
    if a_is_t and b_is_t:
        if a._data.dtype is b._data.dtype:
            return a, b
        dt = result_type(a, b)
        return (a if a.dtype is dt else cast(a, dt)), (b if b.dtype is dt else cast(b, dt))
    try:
        if a_is_t:
            dt = result_type(a, b)
            return (a if a.dtype is dt else cast(a, dt)), _const(b, dt, op_name)
        if b_is_t:
            dt = result_type(a, b)
            return _const(a, dt, op_name), (b if b.dtype is dt else cast(b, dt))
    except DTypeError:
        if (a_is_t or b_is_t) and type(a if b_is_t else b) is int:
            raise  # an int that does not fit: _wrapped_int's message says so
    from .registry import as_tensor_arg

    try:
        return as_tensor_arg(a, "input", op_name), as_tensor_arg(b, "other", op_name)
    except DTypeError as err:
        if str(err).startswith(op_name):
            raise
        raise DTypeError(f"{op_name}: {err}") from None


def _binary(op: Op, a, b) -> Tensor:
    a, b = _binary_operands(a, b, op.name)
    return apply(op, (a, b))


def _to_float(x: Tensor) -> Tensor:
    """Integer and bool inputs of float-valued functions compute in the default float dtype."""
    return x if x.dtype.is_floating_point else cast(x, get_default_dtype())


def _arg(x, op_name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from .registry import as_tensor_arg

    return as_tensor_arg(x, "input", op_name)


# ------------------------------------------------------------------------ cast


def _cast_vjp(ctx, g):
    src = ctx.inputs[0].dtype
    return (cast(g, src) if src.is_floating_point else None,)


CAST = Op("cast", lambda a, *, dtype: a.astype(dtype.np),
          _cast_vjp, lambda a, *, dtype: TensorSpec(a.shape, dtype), save=())


def cast(x: Tensor, dtype: DType) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    if x._data.dtype is dtype.np:
        return x
    out = apply(CAST, (x,), dtype=dtype)
    if not dtype.is_floating_point and out._requires_grad:
        out = _make(out._data)  # an integer result cannot carry gradient
    return out


# ------------------------------------------------------------------------ arithmetic

ADD = Op("add", np.add, lambda ctx, g: (sum_to(g, ctx.inputs[0].shape),
                                        sum_to(g, ctx.inputs[1].shape)),
         binary_spec("add"), save=())
SUB = Op("sub", np.subtract, lambda ctx, g: (sum_to(g, ctx.inputs[0].shape),
                                             sum_to(neg(g), ctx.inputs[1].shape)),
         binary_spec("sub"), save=())


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
    a, b = _binary_operands(a, b, op.name)
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
    return _binary(ADD, input, other)


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
    return _binary(SUB, input, other)


subtract = sub


@tensor_method("__rsub__")
def _rsub(input, other) -> Tensor:
    _check_no_bool(other, input)
    return _binary(SUB, other, input)


@tensor_method("mul", "multiply", "__mul__", "__rmul__")
def mul(input, other) -> Tensor:
    return _binary(MUL, input, other)


multiply = mul


def _float_operands(a, b, op_name):
    a, b = _binary_operands(a, b, op_name)
    if not a.dtype.is_floating_point:  # true division of integers gives floats
        dt = get_default_dtype()
        a, b = cast(a, dt), cast(b, dt)
    return a, b


@tensor_method("div", "divide", "true_divide", "__truediv__")
def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division; ``rounding_mode`` 'floor' or 'trunc' rounds the quotient."""
    if rounding_mode is None:
        return apply(DIV, _float_operands(input, other, "div"))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = _binary_operands(input, other, "div")
        if a.dtype.is_floating_point:
            return trunc(apply(DIV, (a, b)))
        _check_integer_division(a, b, "div")
        return apply(TRUNC_DIVIDE, (a, b))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


divide = true_divide = div


@tensor_method("__rtruediv__")
def _rdiv(input, other) -> Tensor:
    return apply(DIV, _float_operands(other, input, "div"))


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
    a, b = _binary_operands(input, exponent, "pow")
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
    return _binary(MAXIMUM, input, other)


@tensor_method("minimum")
def minimum(input, other) -> Tensor:
    return _binary(MINIMUM, input, other)


@tensor_method("atan2", "arctan2")
def atan2(input, other) -> Tensor:
    return apply(ATAN2, _float_operands(input, other, "atan2"))


arctan2 = atan2


# ------------------------------------------------------------------------ unary math

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
           lambda ctx, g: (g * pow(ctx.out, 3) * -0.5,), same_spec, save=(), save_out=True)
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
TANH = Op("tanh", np.tanh, lambda ctx, g: (g * (1 - ctx.out * ctx.out),), same_spec,
          save=(), save_out=True)


def _sigmoid_forward(a):
    # 0.5 * (1 + tanh(a / 2)) is sigmoid without overflow warnings for large |a|; an explicit
    # out= keeps 0-d results arrays (a ufunc on a 0-d array returns a scalar)
    out = np.multiply(a, 0.5, out=np.empty_like(a))
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


SIGMOID = Op("sigmoid", _sigmoid_forward, lambda ctx, g: (g * ctx.out * (1 - ctx.out),),
             same_spec, save=(), save_out=True)


def _erf_forward(a):
    from ..backend.special import erf as _erf

    return _erf(a)


ERF = Op("erf", _erf_forward,
         lambda ctx, g: (g * exp(neg(square(ctx.inputs[0]))) * (2 / math.sqrt(math.pi)),),
         same_spec)

_ZERO_GRAD = lambda ctx, g: (zeros_like_t(g),)  # noqa: E731  piecewise-constant functions
FLOOR = Op("floor", np.floor, _ZERO_GRAD, same_spec, save=())
CEIL = Op("ceil", np.ceil, _ZERO_GRAD, same_spec, save=())
TRUNC = Op("trunc", np.trunc, _ZERO_GRAD, same_spec, save=())
ROUND = Op("round", lambda a, *, decimals=0: np.round(a, decimals), _ZERO_GRAD, same_spec, save=())
FRAC = Op("frac", lambda a: a - np.trunc(a), lambda ctx, g: (g,), same_spec, save=())


def zeros_like_t(g: Tensor) -> Tensor:
    return _make(np.zeros_like(g._data))


def _unary(op: Op, floating: bool):
    def fn(input) -> Tensor:
        x = _arg(input, op.name)
        if floating and not x.dtype.is_floating_point:
            x = cast(x, get_default_dtype())
        return apply(op, (x,))

    fn.__name__ = op.name
    return fn


neg = _unary(NEG, False)
negative = neg
_abs = _unary(ABS, False)


def abs(input) -> Tensor:  # noqa: A001  PyTorch's name
    """|input|; not defined for bool, as in PyTorch."""
    x = _arg(input, "abs")
    if x._data.dtype == np.bool_:
        raise DTypeError("abs: not implemented for bool tensors")
    return _abs(x)



absolute = abs
sign = _unary(SIGN, False)
exp = _unary(EXP, True)
exp2 = _unary(EXP2, True)
expm1 = _unary(EXPM1, True)
log = _unary(LOG, True)
log2 = _unary(LOG2, True)
log10 = _unary(LOG10, True)
log1p = _unary(LOG1P, True)
sqrt = _unary(SQRT, True)
rsqrt = _unary(RSQRT, True)
_square = _unary(SQUARE, False)


def square(input) -> Tensor:
    """``input * input``; bool squares to int64 as in PyTorch."""
    x = _arg(input, "square")
    return _square(cast(x, int64) if x._data.dtype == np.bool_ else x)


reciprocal = _unary(RECIPROCAL, True)
sin = _unary(SIN, True)
cos = _unary(COS, True)
tan = _unary(TAN, True)
asin = arcsin = _unary(ASIN, True)
acos = arccos = _unary(ACOS, True)
atan = arctan = _unary(ATAN, True)
sinh = _unary(SINH, True)
cosh = _unary(COSH, True)
tanh = _unary(TANH, True)
sigmoid = _unary(SIGMOID, True)
erf = _unary(ERF, True)


def frac(input) -> Tensor:
    """The fractional part ``input - trunc(input)`` (sign of the input); floats only."""
    return apply(FRAC, (_float_arg(input, "frac"),))

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


def _no_bool(x: Tensor, op_name: str) -> None:
    if x._data.dtype == np.bool_:
        raise DTypeError(f"{op_name}: not implemented for bool tensors")


def _rounding(op: Op):
    def fn(input) -> Tensor:
        x = _arg(input, op.name)
        if not x.dtype.is_floating_point:
            _no_bool(x, op.name)
            return x  # PyTorch: rounding an integer tensor is the identity
        return apply(op, (x,))

    fn.__name__ = op.name
    return fn


floor = tensor_method("floor")(_rounding(FLOOR))
ceil = tensor_method("ceil")(_rounding(CEIL))
trunc = fix = tensor_method("trunc", "fix")(_rounding(TRUNC))


@tensor_method("round")
def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001  PyTorch's name
    """Round half to even (like PyTorch), optionally to ``decimals`` places."""
    x = _arg(input, "round")
    if not x.dtype.is_floating_point:
        _no_bool(x, "round")
        if decimals:
            raise DTypeError(f"round: decimals={decimals} needs a floating point tensor, got "
                             f"{x.dtype.name}")
        return x
    return apply(ROUND, (x,), decimals=decimals)


# ------------------------------------------------------------------------ activations

RELU = Op("relu", lambda a: np.maximum(a, 0, dtype=a.dtype),
          lambda ctx, g: (g * cast(ctx.out > 0, g.dtype),), same_spec, save=(), save_out=True)


def _leaky_forward(a, *, negative_slope):
    return np.where(a > 0, a, a * np.asarray(negative_slope, a.dtype))


LEAKY_RELU = Op("leaky_relu", _leaky_forward,
                lambda ctx, g: (where(ctx.inputs[0] > 0, g,
                                      g * ctx.attrs["negative_slope"]),), same_spec)


def _elu_forward(a, *, alpha):
    return np.where(a > 0, a, np.expm1(np.minimum(a, 0)) * np.asarray(alpha, a.dtype))


ELU = Op("elu", _elu_forward,
         lambda ctx, g: (where(ctx.inputs[0] > 0, g, g * (ctx.out + ctx.attrs["alpha"])),),
         same_spec, save_out=True)

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu_forward(a, *, approximate):
    if approximate == "tanh":
        inner = np.tanh((a + 0.044715 * a * a * a) * np.asarray(_SQRT_2_OVER_PI, a.dtype))
        return (0.5 * a * (1 + inner)).astype(a.dtype, copy=False)
    from ..backend.special import erf as _erf

    return (0.5 * a * (1 + _erf(a * np.asarray(_INV_SQRT_2, a.dtype)))).astype(a.dtype, copy=False)


def _gelu_vjp(ctx, g):
    x = ctx.inputs[0]
    if ctx.attrs["approximate"] == "tanh":
        inner = (x + 0.044715 * x * x * x) * _SQRT_2_OVER_PI
        t = tanh(inner)
        d_inner = (1 + 3 * 0.044715 * x * x) * _SQRT_2_OVER_PI
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
    cdf = 0.5 * (1 + erf(x * _INV_SQRT_2))
    pdf = exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * (cdf + x * pdf),)


GELU = Op("gelu", _gelu_forward, _gelu_vjp, same_spec)


def _silu_vjp(ctx, g):
    x = ctx.inputs[0]
    s = sigmoid(x)
    return (g * s * (1 + x * (1 - s)),)


SILU = Op("silu", lambda a: a * _sigmoid_forward(a), _silu_vjp, same_spec)


def _softplus_forward(a, *, beta, threshold):
    bx = a * np.asarray(beta, a.dtype)
    soft = np.logaddexp(0, bx).astype(a.dtype, copy=False) / np.asarray(beta, a.dtype)
    return np.where(bx > threshold, a, soft)


def _softplus_vjp(ctx, g):
    x = ctx.inputs[0]
    beta, threshold = ctx.attrs["beta"], ctx.attrs["threshold"]
    return (where(x * beta > threshold, g, g * sigmoid(x * beta)),)


SOFTPLUS = Op("softplus", _softplus_forward, _softplus_vjp, same_spec)


def _float_arg(input, name):
    x = _arg(input, name)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}: expected a floating point tensor, got {x.dtype.name}")
    return x


@tensor_method("relu")
def relu(input) -> Tensor:
    """max(input, 0)."""
    return apply(RELU, (_arg(input, "relu"),))


@tensor_method("leaky_relu")
def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    return apply(LEAKY_RELU, (_float_arg(input, "leaky_relu"),),
                 negative_slope=float(negative_slope))


@tensor_method("elu")
def elu(input, alpha: float = 1.0) -> Tensor:
    return apply(ELU, (_float_arg(input, "elu"),), alpha=float(alpha))


@tensor_method("gelu")
def gelu(input, approximate: str = "none") -> Tensor:
    """GELU, exact (``approximate='none'``, with erf) or the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(GELU, (_float_arg(input, "gelu"),), approximate=approximate)


@tensor_method("silu")
def silu(input) -> Tensor:
    """x * sigmoid(x) (a.k.a. swish)."""
    return apply(SILU, (_float_arg(input, "silu"),))


@tensor_method("softplus")
def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` for stability."""
    return apply(SOFTPLUS, (_float_arg(input, "softplus"),), beta=float(beta),
                 threshold=float(threshold))


# ------------------------------------------------------------------------ selection


def _where_forward(c, a, b):
    return np.where(c, a, b)


def _where_vjp(ctx, g):
    c, a, b = ctx.inputs
    zero = zeros_like_t(g)
    _, na, nb = ctx.needs_input_grad
    return (None, sum_to(where(c, g, zero), a.shape) if na else None,
            sum_to(where(c, zero, g), b.shape) if nb else None)


def _where_infer(c, a, b, **_):
    shape = broadcast_shapes(c.shape, a.shape, b.shape, op="where")
    return TensorSpec(shape, a.dtype if a.dtype is b.dtype else result_type(a, b))


WHERE = Op("where", _where_forward, _where_vjp, _where_infer, save=(0,))


def where(condition, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcast together)."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    cond = _arg(condition, "where")
    if cond.dtype is not bool_:
        raise DTypeError(f"where: condition must be a bool tensor, got {cond.dtype.name}")
    a, b = _binary_operands(input, other, "where")
    return apply(WHERE, (cond, a, b))


def _where_method(self, condition, y) -> Tensor:
    return where(condition, self, y)


Tensor.where = _where_method


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
    x = _arg(input, "clamp")
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
    """``input + weight * (end - input)``."""
    return add(input, mul(weight, sub(end, input)))


NAN_TO_NUM = Op("nan_to_num",
                lambda a, *, nan, posinf, neginf: np.nan_to_num(a, nan=nan, posinf=posinf,
                                                                neginf=neginf),
                lambda ctx, g: (where(isfinite(ctx.inputs[0]), g, zeros_like_t(g)),), same_spec)


@tensor_method("nan_to_num")
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the
    dtype's largest/smallest finite values)."""
    x = _arg(input, "nan_to_num")
    if not x.dtype.is_floating_point:
        return x
    return apply(NAN_TO_NUM, (x,), nan=nan, posinf=posinf, neginf=neginf)


# ------------------------------------------------------------------------ comparisons & logic


def _comparison(name: str, ufunc):
    op = Op(name, ufunc, None, compare_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            if input._data.dtype is not other._data.dtype:
                input, other = _binary_operands(input, other, name)
            return apply(op, (input, other))
        a, b = _binary_operands(input, other, name)
        return apply(op, (a, b))

    fn.__name__ = name
    return op, fn


EQ, eq = _comparison("eq", np.equal)
NE, ne = _comparison("ne", np.not_equal)
LT, lt = _comparison("lt", np.less)
LE, le = _comparison("le", np.less_equal)
GT, gt = _comparison("gt", np.greater)
GE, ge = _comparison("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

for _names, _fn in [(("eq", "__eq__"), eq), (("ne", "__ne__", "not_equal"), ne),
                    (("lt", "__lt__", "less"), lt), (("le", "__le__", "less_equal"), le),
                    (("gt", "__gt__", "greater"), gt), (("ge", "__ge__", "greater_equal"), ge)]:
    for _n in _names:
        setattr(Tensor, _n, _fn)


def _logical(name: str, ufunc):
    op = Op(name, ufunc, None, compare_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        return apply(op, (_arg(input, name), _arg(other, name)))

    fn.__name__ = name
    return tensor_method(name)(fn)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)
LOGICAL_NOT = Op("logical_not", np.logical_not, None, bool_spec, differentiable=False)


@tensor_method("logical_not")
def logical_not(input) -> Tensor:
    return apply(LOGICAL_NOT, (_arg(input, "logical_not"),))


def _bitwise(name: str, ufunc):
    op = Op(name, ufunc, None, binary_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        a, b = _binary_operands(input, other, name)
        if a.dtype.is_floating_point:
            raise DTypeError(f"{name}: expected bool or integer tensors, got {a.dtype.name}")
        return apply(op, (a, b))

    fn.__name__ = name
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
BITWISE_NOT = Op("bitwise_not", np.invert, None, same_spec, differentiable=False)


def bitwise_not(input) -> Tensor:
    x = _arg(input, "bitwise_not")
    if x.dtype.is_floating_point:
        raise DTypeError(f"bitwise_not: expected a bool or integer tensor, got {x.dtype.name}")
    return apply(BITWISE_NOT, (x,))


for _names, _fn in [(("bitwise_and", "__and__", "__rand__"), bitwise_and),
                    (("bitwise_or", "__or__", "__ror__"), bitwise_or),
                    (("bitwise_xor", "__xor__", "__rxor__"), bitwise_xor),
                    (("bitwise_not", "__invert__"), bitwise_not)]:
    for _n in _names:
        setattr(Tensor, _n, _fn)


def _predicate(name: str, ufunc):
    op = Op(name, ufunc, None, bool_spec, differentiable=False)

    def fn(input) -> Tensor:
        return apply(op, (_arg(input, name),))

    fn.__name__ = name
    return tensor_method(name)(fn)


isnan = _predicate("isnan", np.isnan)
isinf = _predicate("isinf", np.isinf)
isfinite = _predicate("isfinite", np.isfinite)
isposinf = _predicate("isposinf", np.isposinf)
isneginf = _predicate("isneginf", np.isneginf)
signbit = _predicate("signbit", np.signbit)

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "maximum", "minimum", "atan2", "arctan2",
    "neg", "negative", "abs", "absolute", "sign", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin",
    "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "tanh", "sigmoid", "erf",
    "frac", "floor", "ceil", "trunc", "fix", "round", "relu", "leaky_relu", "elu", "gelu",
    "silu", "softplus", "where", "clamp", "clip", "lerp", "nan_to_num", "eq", "ne", "lt",
    "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    "signbit",
]
