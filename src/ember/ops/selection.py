"""Selection: ``where`` (elementwise choice by a condition) and ``nan_to_num``.

``where`` is also the building block of many vjps (pow, maximum, clamp, the activations), so
this module sits low: it needs only the operand helpers and the comparisons.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import bool_, result_type
from ..errors import DTypeError
from ..tensor import Tensor
from .broadcast import broadcast_shapes, sum_to
from .compare import isfinite
from .operands import binary_operands, same_spec, tensor_arg, zeros_like_t
from .registry import Op, TensorSpec, apply, tensor_method


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
    cond = tensor_arg(condition, "where")
    if cond.dtype is not bool_:
        raise DTypeError(f"where: condition must be a bool tensor, got {cond.dtype.name}")
    a, b = binary_operands(input, other, "where")
    return apply(WHERE, (cond, a, b))


def _where_method(self, condition, y) -> Tensor:
    return where(condition, self, y)


Tensor.where = _where_method


NAN_TO_NUM = Op("nan_to_num",
                lambda a, *, nan, posinf, neginf: np.nan_to_num(a, nan=nan, posinf=posinf,
                                                                neginf=neginf),
                lambda ctx, g: (where(isfinite(ctx.inputs[0]), g, zeros_like_t(g)),), same_spec)


@tensor_method("nan_to_num")
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the
    dtype's largest/smallest finite values)."""
    x = tensor_arg(input, "nan_to_num")
    if not x.dtype.is_floating_point:
        return x
    return apply(NAN_TO_NUM, (x,), nan=nan, posinf=posinf, neginf=neginf)


__all__ = ["where", "nan_to_num"]
