"""What every elementwise op shares: infer rules, operand conversion with PyTorch's type
promotion, and ``cast``.

Binary ops promote both operands to ``dtypes.result_type`` before NumPy sees the arrays, so
``int_tensor * 1.5`` is float32 as in PyTorch, not float64 as in NumPy. A Python number is
converted to the promoted dtype directly (it never becomes a float64 array first).
"""

from __future__ import annotations

import numpy as np

from ..dtypes import DType, bool_, get_default_dtype, result_type
from ..errors import DTypeError
from ..tensor import Tensor, _make
from .broadcast import broadcast_shapes
from .registry import Op, TensorSpec, apply, as_tensor_arg

# ------------------------------------------------------------------------ infer rules


def same_spec(a: TensorSpec, **_) -> TensorSpec:
    """Infer rule of ops whose output has the input's shape and dtype."""
    return a


def bool_spec(a: TensorSpec, **_) -> TensorSpec:
    """Infer rule of predicates: the input's shape, dtype bool."""
    return TensorSpec(a.shape, bool_)


def binary_spec(op_name: str):
    """Infer rule of binary ops: broadcast shape, promoted dtype."""

    def infer(a: TensorSpec, b: TensorSpec, **_) -> TensorSpec:
        shape = broadcast_shapes(a.shape, b.shape, op=op_name)
        dtype = a.dtype if a.dtype is b.dtype else result_type(a, b)
        return TensorSpec(shape, dtype)

    return infer


def compare_spec(op_name: str):
    """Infer rule of comparisons: broadcast shape, dtype bool."""
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


def binary_operands(a, b, op_name: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of their promoted dtype (PyTorch's rules)."""
    a_is_t = isinstance(a, Tensor)
    b_is_t = isinstance(b, Tensor)
    if a_is_t and b_is_t:
        if a._data.dtype is b._data.dtype:
            return a, b
        dt = result_type(a, b)
        return (a if a.dtype is dt else cast(a, dt)), (b if b.dtype is dt else cast(b, dt))
    # A Python int or float beside a floating tensor never changes its dtype (a number wins
    # only when of a higher category), so result_type can be skipped: the path of x * 2.0.
    # `type(...) is` leaves bools and NumPy scalars to the general path.
    if a_is_t:
        if (type(b) is float or type(b) is int) and a._data.dtype.kind == "f":
            return a, _make(np.array(b, dtype=a._data.dtype))
    elif b_is_t and (type(a) is float or type(a) is int) and b._data.dtype.kind == "f":
        return _make(np.array(a, dtype=b._data.dtype)), b
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
    try:
        return as_tensor_arg(a, "input", op_name), as_tensor_arg(b, "other", op_name)
    except DTypeError as err:
        if str(err).startswith(op_name):
            raise
        raise DTypeError(f"{op_name}: {err}") from None


def binary(op: Op, a, b) -> Tensor:
    """Run the binary ``op`` on promoted operands."""
    if type(a) is not Tensor or type(b) is not Tensor or a._data.dtype is not b._data.dtype:
        a, b = binary_operands(a, b, op.name)
    return apply(op, (a, b))


def float_operands(a, b, op_name: str) -> tuple[Tensor, Tensor]:
    """Promoted operands, integers and bools further converted to the default float dtype
    (true division, atan2)."""
    a, b = binary_operands(a, b, op_name)
    if not a.dtype.is_floating_point:
        dt = get_default_dtype()
        a, b = cast(a, dt), cast(b, dt)
    return a, b


def tensor_arg(x, op_name: str) -> Tensor:
    """``x`` if it is a Tensor, else converted like ``ember.tensor``."""
    if isinstance(x, Tensor):
        return x
    return as_tensor_arg(x, "input", op_name)


def float_arg(input, op_name: str) -> Tensor:
    """The input as a tensor, which must be of a floating point dtype."""
    x = tensor_arg(input, op_name)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op_name}: expected a floating point tensor, got {x.dtype.name}")
    return x


_NP_BOOL = np.dtype(np.bool_)


def refuse_bool(x: Tensor, op_name: str) -> None:
    """PyTorch implements some integer-and-float ops (abs, rounding, pow) not for bool."""
    if x._data.dtype is _NP_BOOL:
        raise DTypeError(f"{op_name}: not implemented for bool tensors")


def zeros_like_t(g: Tensor) -> Tensor:
    """Zeros shaped like ``g``, as a constant (the gradient of piecewise-constant ops)."""
    return _make(np.zeros_like(g._data))


# ------------------------------------------------------------------------ cast


def _cast_vjp(ctx, g):
    src = ctx.inputs[0].dtype
    return (cast(g, src) if src.is_floating_point else None,)


CAST = Op("cast", lambda a, *, dtype: a.astype(dtype.np),
          _cast_vjp, lambda a, *, dtype: TensorSpec(a.shape, dtype), save=())


def cast(x: Tensor, dtype: DType) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    if not isinstance(x, Tensor):
        raise DTypeError(f"cast: argument 'input' must be a Tensor, got {type(x).__name__}")
    if x._data.dtype is dtype.np:
        return x
    out = apply(CAST, (x,), dtype=dtype)
    if not dtype.is_floating_point and out._requires_grad:
        out = _make(out._data)  # an integer result cannot carry gradient
    return out

