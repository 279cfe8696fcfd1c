"""Comparisons (eq, lt, ...), logical and bitwise ops, and predicates (isnan, signbit, ...).

None is differentiable: their outputs are bool (or integer) tensors, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError
from ..tensor import Tensor
from .operands import binary_operands, binary_spec, bool_spec, compare_spec, same_spec, tensor_arg
from .registry import Op, apply, tensor_method


def _comparison(name: str, ufunc, symbol: str):
    op = Op(name, ufunc, None, compare_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            if input._data.dtype is not other._data.dtype:
                input, other = binary_operands(input, other, name)
            return apply(op, (input, other))
        a, b = binary_operands(input, other, name)
        return apply(op, (a, b))

    fn.__name__ = name
    fn.__doc__ = f"``input {symbol} other`` elementwise (broadcast, promoted), as a bool tensor."
    return op, fn


EQ, eq = _comparison("eq", np.equal, "==")
NE, ne = _comparison("ne", np.not_equal, "!=")
LT, lt = _comparison("lt", np.less, "<")
LE, le = _comparison("le", np.less_equal, "<=")
GT, gt = _comparison("gt", np.greater, ">")
GE, ge = _comparison("ge", np.greater_equal, ">=")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

for _names, _fn in [(("eq", "__eq__"), eq), (("ne", "__ne__", "not_equal"), ne),
                    (("lt", "__lt__", "less"), lt), (("le", "__le__", "less_equal"), le),
                    (("gt", "__gt__", "greater"), gt), (("ge", "__ge__", "greater_equal"), ge)]:
    for _n in _names:
        setattr(Tensor, _n, _fn)


def _logical(name: str, ufunc, doc: str):
    op = Op(name, ufunc, None, compare_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        return apply(op, (tensor_arg(input, name), tensor_arg(other, name)))

    fn.__name__ = name
    fn.__doc__ = doc
    return tensor_method(name)(fn)


logical_and = _logical("logical_and", np.logical_and,
                       "Elementwise AND of the truth values (nonzero is true), as bools.")
logical_or = _logical("logical_or", np.logical_or,
                      "Elementwise OR of the truth values (nonzero is true), as bools.")
logical_xor = _logical("logical_xor", np.logical_xor,
                       "Elementwise XOR of the truth values (nonzero is true), as bools.")
LOGICAL_NOT = Op("logical_not", np.logical_not, None, bool_spec, differentiable=False)


@tensor_method("logical_not")
def logical_not(input) -> Tensor:
    """Elementwise NOT of the truth values (zero is false), as bools."""
    return apply(LOGICAL_NOT, (tensor_arg(input, "logical_not"),))


def _bitwise(name: str, ufunc, symbol: str):
    op = Op(name, ufunc, None, binary_spec(name), differentiable=False)

    def fn(input, other) -> Tensor:
        a, b = binary_operands(input, other, name)
        if a.dtype.is_floating_point:
            raise DTypeError(f"{name}: expected bool or integer tensors, got {a.dtype.name}")
        return apply(op, (a, b))

    fn.__name__ = name
    fn.__doc__ = f"``input {symbol} other`` bitwise, for bool and integer tensors."
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "&")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "|")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "^")
BITWISE_NOT = Op("bitwise_not", np.invert, None, same_spec, differentiable=False)


def bitwise_not(input) -> Tensor:
    """``~input``: bitwise NOT of an integer tensor, logical NOT of a bool tensor."""
    x = tensor_arg(input, "bitwise_not")
    if x.dtype.is_floating_point:
        raise DTypeError(f"bitwise_not: expected a bool or integer tensor, got {x.dtype.name}")
    return apply(BITWISE_NOT, (x,))


for _names, _fn in [(("bitwise_and", "__and__", "__rand__"), bitwise_and),
                    (("bitwise_or", "__or__", "__ror__"), bitwise_or),
                    (("bitwise_xor", "__xor__", "__rxor__"), bitwise_xor),
                    (("bitwise_not", "__invert__"), bitwise_not)]:
    for _n in _names:
        setattr(Tensor, _n, _fn)


def _predicate(name: str, ufunc, what: str):
    op = Op(name, ufunc, None, bool_spec, differentiable=False)

    def fn(input) -> Tensor:
        return apply(op, (tensor_arg(input, name),))

    fn.__name__ = name
    fn.__doc__ = f"Whether each element {what}, as a bool tensor."
    return tensor_method(name)(fn)


isnan = _predicate("isnan", np.isnan, "is NaN")
isinf = _predicate("isinf", np.isinf, "is +inf or -inf")
isfinite = _predicate("isfinite", np.isfinite, "is finite (not NaN, not infinite)")
isposinf = _predicate("isposinf", np.isposinf, "is +inf")
isneginf = _predicate("isneginf", np.isneginf, "is -inf")
signbit = _predicate("signbit", np.signbit, "has its sign bit set (negative, or -0.0)")

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "signbit",
]
